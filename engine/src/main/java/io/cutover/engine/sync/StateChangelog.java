package io.cutover.engine.sync;

import java.util.List;
import java.util.function.Consumer;

/**
 * Where a {@link BidirectionalSync} keeps a copy of its state outside the host it runs on, so that another engine
 * instance can take a service over (see {@code io.cutover.engine.kafka.KafkaStateChangelog}). Each batch's state
 * changes, with the writes the batch is about to make, are appended before anything is written to a database
 * (write-ahead); the instance taking over replays the log, finishes the last batch's writes where a database does
 * not have them yet, and carries on. Called from the sync's thread only.
 */
public interface StateChangelog extends AutoCloseable {

  /**
   * One change of the state: an entry of one of the state's maps, set or removed.
   *
   * @param map the map (rows, parked, conflicts, paused, held, or the pending batch).
   * @param key the entry's key.
   * @param value its new value, or null when removed.
   */
  record Entry(String map, byte[] key, byte[] value) {}

  /**
   * Opens the log for writing as its only writer: a writer that opened it earlier (an instance presumed dead) is
   * fenced, its next {@link #append} fails, so it writes nothing more to the databases. Then reads every entry
   * appended so far, oldest first.
   *
   * @param into receives each entry.
   * @throws Exception if the log cannot be read.
   */
  void takeOver(Consumer<Entry> into) throws Exception;

  /**
   * Appends a batch's entries, all or none; durable when it returns. Entries of any size (the log splits what
   * does not fit its records and {@link #takeOver} reads them back whole).
   *
   * @param entries the entries, in order.
   * @throws Exception if they are not durable, or this writer was fenced by another one: the batch then fails
   *     before any of its writes. A failure that is not a fencing does not end the writer (a later append may
   *     succeed); once fenced, every append fails until the writer takes the log over again.
   */
  void append(List<Entry> entries) throws Exception;

  /**
   * Why an {@link #append} failed when another instance took the log over: this one writes nothing more to the
   * databases until it takes the log over again.
   */
  final class Fenced extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates one.
     *
     * @param message what was taken over, by whom if known.
     * @param cause the log's own error.
     */
    public Fenced(String message, Throwable cause) {
      super(message, cause);
    }
  }

  /** Releases the log's resources. */
  @Override
  void close();
}
