package io.cutover.journal;

/**
 * The durable position of one named consumer: the last journal index it fully handled.
 *
 * <p>A committed index survives the process being killed as soon as {@link #commit} returns; it survives power
 * loss too when the journal's {@link SyncPolicy} is not {@link SyncPolicy#NONE}. One thread commits;
 * {@link #index()} may be read from any thread.
 */
public interface ConsumerCheckpoint {

  /**
   * The consumer's name.
   *
   * @return never null.
   */
  String name();

  /**
   * The last index committed, or {@link Journal#NO_INDEX}.
   *
   * @return an index.
   */
  long index();

  /**
   * Records that every record up to and including {@code index} has been fully handled.
   *
   * @param index the new position; must not be lower than the current one.
   * @throws IllegalArgumentException if {@code index} goes backwards.
   */
  void commit(long index);

  /**
   * Moves the checkpoint to an earlier index, so the consumer handles records again (an operator's replay).
   *
   * @param index the new position, or {@link Journal#NO_INDEX} to replay everything kept.
   */
  void rewind(long index);
}
