package io.cutover.engine.pipeline.internal;

import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.journal.Journal;
import java.util.concurrent.CompletableFuture;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;

/** A pre-allocated ring slot holding one encoded change; reused for every change that passes through it. */
final class EventSlot implements ChangeRecord {
  final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
  int length;
  long journalIndex = Journal.NO_INDEX;
  boolean replayed;
  long publishNanos;
  /** Completed by the journal stage once durable; null for changes published without a future. */
  CompletableFuture<Long> ack;

  @Override
  public long journalIndex() {
    return journalIndex;
  }

  @Override
  public boolean replayed() {
    return replayed;
  }

  @Override
  public DirectBuffer buffer() {
    return buffer;
  }

  @Override
  public int length() {
    return length;
  }
}
