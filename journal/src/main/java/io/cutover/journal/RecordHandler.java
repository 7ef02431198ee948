package io.cutover.journal;

import org.agrona.DirectBuffer;

/** Receives one journal record. The buffer is reused: copy what must outlive the call. */
@FunctionalInterface
public interface RecordHandler {
  /**
   * Called for one record.
   *
   * @param index the record's journal index.
   * @param buffer holding the record; valid only during the call.
   * @param offset of the record's first byte.
   * @param length of the record.
   */
  void onRecord(long index, DirectBuffer buffer, int offset, int length);
}
