package io.cutover.engine.pipeline;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import org.agrona.DirectBuffer;

/**
 * One journaled change as a stage handler sees it: a view over a ring slot, valid only during
 * {@link ChangeHandler#onChange}. Reading the header ({@link #operation()}, {@link #hlc()}, {@link #keyHash()})
 * allocates nothing; {@link #decode()} builds a full {@link ChangeEvent}.
 */
public interface ChangeRecord {

  /**
   * The journal index of the change: unique and increasing, so handlers can use it for idempotence.
   *
   * @return the index.
   */
  long journalIndex();

  /**
   * Whether the change is being replayed from the journal after a restart (it may have been handled before).
   *
   * @return true when replayed.
   */
  boolean replayed();

  /**
   * The buffer holding the encoded change ({@link EventCodec}).
   *
   * @return the buffer; do not keep it.
   */
  DirectBuffer buffer();

  /**
   * The encoded change's length; it starts at offset 0 of {@link #buffer()}.
   *
   * @return bytes.
   */
  int length();

  /**
   * The operation.
   *
   * @return never null.
   */
  default Operation operation() {
    return EventCodec.operation(buffer(), 0);
  }

  /**
   * The hybrid-logical-clock timestamp.
   *
   * @return the timestamp.
   */
  default long hlc() {
    return EventCodec.hlc(buffer(), 0);
  }

  /**
   * The key hash: equal for every change to the same row of the same table.
   *
   * @return the hash.
   */
  default long keyHash() {
    return EventCodec.keyHash(buffer(), 0);
  }

  /**
   * Decodes the full event (allocates).
   *
   * @return the event.
   */
  default ChangeEvent decode() {
    return EventCodec.decode(buffer(), 0, length());
  }
}
