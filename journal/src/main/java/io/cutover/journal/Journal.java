package io.cutover.journal;

import io.cutover.journal.internal.ChronicleJournal;
import java.nio.file.Path;
import java.util.Map;
import org.agrona.DirectBuffer;

/**
 * An append-only log of opaque records, each identified by a journal index.
 *
 * <h2>Indexes</h2>
 * Indexes grow strictly with each append but are not contiguous: the journal rolls to a new file every cycle
 * (see {@link JournalRollCycle}) and the cycle number sits in the index's high bits. {@link #NO_INDEX} (-1)
 * means "nothing": an empty journal, or a consumer that has handled nothing yet.
 *
 * <h2>Durability</h2>
 * When {@link #append} returns, the record is in the memory-mapped journal file: it survives the process
 * being killed (even by SIGKILL), because the operating system owns the page cache. Whether it survives power
 * loss or a kernel crash depends on the {@link SyncPolicy}: with {@link SyncPolicy#NONE} the OS writes it back
 * in its own time (typically within 30 s); with {@link SyncPolicy#BATCH} it is on disk once {@link #flush()}
 * returns; with {@link SyncPolicy#EVERY_RECORD} it is on disk once {@code append} returns.
 *
 * <h2>Thread-safety</h2>
 * {@link #append} and {@link #flush} must be called from one thread at a time (the pipeline's journal stage).
 * Readers and checkpoints are each for one thread; any number of them may be used concurrently with the writer.
 */
public interface Journal extends AutoCloseable {

  /** The index of nothing: an empty journal, or a consumer that has not handled any record yet. */
  long NO_INDEX = -1L;

  /**
   * Opens (creating if needed) the journal described by {@code config}.
   *
   * @param config validated configuration; never null.
   * @return the open journal; never null.
   * @throws JournalCorruptedException if the last record on disk is damaged (see the message for what to do).
   * @throws JournalException if the directory cannot be used.
   */
  static Journal open(JournalConfig config) {
    return ChronicleJournal.open(config);
  }

  /**
   * Appends one record.
   *
   * @param buffer holding the record's bytes.
   * @param offset of the first byte in {@code buffer}.
   * @param length of the record; at most {@link JournalConfig#maxRecordBytes()}.
   * @return the record's journal index.
   * @throws IllegalArgumentException if the record is longer than the configured maximum; nothing is written.
   */
  long append(DirectBuffer buffer, int offset, int length);

  /**
   * Makes every record appended so far durable as the {@link SyncPolicy} promises. Call it at the end of a
   * batch: with {@link SyncPolicy#BATCH} it forces the journal file to disk; otherwise it does nothing.
   */
  void flush();

  /**
   * Opens a reader positioned after {@code afterIndex}: its first record is the first one with a larger index.
   *
   * @param afterIndex the last index not wanted, or {@link #NO_INDEX} to read from the oldest record kept.
   * @return a reader for one thread; close it when done.
   * @throws JournalException if {@code afterIndex} is neither {@link #NO_INDEX} nor an index still kept.
   */
  JournalReader readAfter(long afterIndex);

  /**
   * The durable checkpoint of a named consumer, creating it (at {@link #NO_INDEX}) if it does not exist. A
   * registered consumer holds back retention: no record it has not checkpointed past is ever deleted.
   *
   * @param consumerName 1 to 64 characters from {@code [A-Za-z0-9._-]}.
   * @return the checkpoint; the same instance for the same name while the journal is open.
   * @throws IllegalArgumentException if the name is not valid.
   */
  ConsumerCheckpoint checkpoint(String consumerName);

  /**
   * Unregisters a consumer so it no longer holds back retention, deleting its checkpoint file.
   *
   * @param consumerName a consumer's name.
   * @return true if it existed.
   */
  boolean removeConsumer(String consumerName);

  /**
   * Every registered consumer and its checkpointed index, including those registered by an earlier process.
   *
   * @return a snapshot, by consumer name.
   */
  Map<String, Long> consumers();

  /**
   * The index of the oldest record kept, or {@link #NO_INDEX} if the journal is empty.
   *
   * @return an index or {@link #NO_INDEX}.
   */
  long firstIndex();

  /**
   * The index of the newest record, or {@link #NO_INDEX} if the journal is empty. Safe from any thread.
   *
   * @return an index or {@link #NO_INDEX}.
   */
  long lastIndex();

  /**
   * Deletes whole roll-cycle files that every registered consumer has checkpointed past, keeping at least
   * {@link JournalConfig#retainedCycles()} of the newest cycles. Never deletes the current cycle.
   *
   * @return the number of cycle files deleted.
   */
  int purge();

  /**
   * Reads every record kept and checks its checksum.
   *
   * @return what was found; damaged records are listed, not thrown.
   */
  VerifyReport verify();

  /**
   * Marks a damaged record as inspected and not needed, so readers skip it (logging a warning) instead of
   * failing. Use only after checking that the record was never acknowledged (a torn write at the tail).
   *
   * @param index of the damaged record.
   */
  void quarantine(long index);

  /**
   * The journal's directory.
   *
   * @return never null.
   */
  Path directory();

  /** Closes the journal, its readers and checkpoints. Appended records stay durable as promised. */
  @Override
  void close();
}
