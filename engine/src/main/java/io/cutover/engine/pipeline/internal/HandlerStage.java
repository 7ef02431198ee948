package io.cutover.engine.pipeline.internal;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.ConsumerCheckpoint;
import io.cutover.journal.Journal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one {@link ChangeHandler}: skips changes up to its start position, retries failures with back-off,
 * and after each batch's {@link ChangeHandler#onBatchEnd()} commits the checkpoint. Reads the clock once per
 * batch.
 */
final class HandlerStage implements EventHandler<EventSlot> {
  private static final Logger LOG = LoggerFactory.getLogger(HandlerStage.class);

  private final String stage;
  private final ChangeHandler handler;
  private final ConsumerCheckpoint checkpoint;
  private final long startAfter;
  private final RingBuffer<EventSlot> ring;
  private final DisruptorPipeline pipeline;
  private final Backoff backoff;
  private final StageLatency latency = new StageLatency();
  private final String onChangeName;
  private final String onBatchEndName;
  private final String onReplayName;
  private final String onReplayEndName;
  private long batchStart = -1L;
  private long lastHandled = Journal.NO_INDEX;
  private int handledInBatch;

  HandlerStage(String stage, ChangeHandler handler, ConsumerCheckpoint checkpoint, long startAfter,
      RingBuffer<EventSlot> ring, DisruptorPipeline pipeline, PipelineConfig config) {
    this.stage = stage;
    this.handler = handler;
    this.checkpoint = checkpoint;
    this.startAfter = startAfter;
    this.ring = ring;
    this.pipeline = pipeline;
    this.backoff = new Backoff(config.retryBackoffMin(), config.retryBackoffMax(), pipeline::halted);
    this.onChangeName = stage + " handler '" + handler.name() + "' onChange";
    this.onBatchEndName = stage + " handler '" + handler.name() + "' onBatchEnd";
    this.onReplayName = onChangeName + " (replay)";
    this.onReplayEndName = onBatchEndName + " (replay)";
  }

  @Override
  public void onEvent(EventSlot slot, long sequence, boolean endOfBatch) {
    if (pipeline.halted() || pipeline.failure() != null) {
      batchStart = -1L;
      handledInBatch = 0;
      return; // stopping, or stopped by a failure: what is not checkpointed is handed over after a restart
    }
    if (batchStart < 0) {
      batchStart = sequence;
    }
    if (slot.keyHash() == DisruptorPipeline.REPLAY_HASH && replayRequest(slot, sequence)) {
      if (endOfBatch) {
        endBatch(sequence);
      }
      return;
    }
    if (slot.journalIndex > startAfter) {
      handle(slot, slot.journalIndex, onChangeName);
      lastHandled = slot.journalIndex;
      handledInBatch++;
    }
    if (endOfBatch || handledInBatch >= MAX_HANDLER_BATCH) {
      endBatch(sequence);
    }
  }

  /**
   * The most changes a handler gets between two {@code onBatchEnd}s. A stage behind (the catch-up after a restart)
   * is handed up to a whole ring at once; a handler's batch is one database transaction and one state commit, so
   * it is bounded: memory (the sync's state store holds a batch in memory until it commits it) and how long the
   * batch holds its rows' locks stay those of a busy moment, not of a ring.
   */
  static final int MAX_HANDLER_BATCH = 2_048;

  /**
   * A replay request travelling through the ring: never handed to the handler; if it is for this stage's handler,
   * the batch so far is ended and the journaled changes are re-delivered now, on this thread.
   */
  private boolean replayRequest(EventSlot slot, long sequence) {
    io.cutover.engine.event.ChangeEvent control = slot.decode();
    if (!control.table().equals(DisruptorPipeline.REPLAY_TABLE) || control.after() == null
        || !control.after().has("request")) {
      return false;
    }
    DisruptorPipeline.ReplayRequest request = pipeline.takeReplay(control.after().get("request").asLong(),
        handler.name());
    if (request != null) {
      endBatch(sequence);
      try {
        request.done().complete(replay(request));
      } catch (RuntimeException e) {
        request.done().completeExceptionally(e);
      }
    }
    return true;
  }

  private static final int REPLAY_BATCH = 1_000;

  /** Re-delivers the request's journaled changes in batches; the checkpoint stays where it is. */
  private long replay(DisruptorPipeline.ReplayRequest request) {
    ReplayedRecord record = new ReplayedRecord();
    long[] count = {0};
    boolean[] past = {false};
    try (io.cutover.journal.JournalReader reader = pipeline.journal().readAfter(request.afterIndex())) {
      while (!past[0] && !pipeline.halted() && reader.next((index, buffer, offset, length) -> {
        if (index > request.upTo()) {
          past[0] = true;
          return;
        }
        record.wrap(index, buffer, offset, length);
        if (record.keyHash() == DisruptorPipeline.REPLAY_HASH
            && record.decode().table().equals(DisruptorPipeline.REPLAY_TABLE)) {
          return; // an earlier replay request
        }
        handle(record, index, onReplayName);
        if (++count[0] % REPLAY_BATCH == 0) {
          endHandlerBatch(index, onReplayEndName);
        }
      })) {
        // next
      }
    }
    if (count[0] % REPLAY_BATCH != 0) {
      endHandlerBatch(request.upTo(), onReplayEndName);
    }
    LOG.info("{} handler '{}': {} journaled change(s) after index {} replayed", stage, handler.name(), count[0],
        request.afterIndex());
    return count[0];
  }

  /** Hands a change to the handler, again after a back-off until it takes it (or the pipeline stops). */
  private void handle(ChangeRecord record, long index, String what) {
    while (true) {
      try {
        handler.onChange(record);
        backoff.succeeded();
        return;
      } catch (Exception e) {
        backoff.failed(LOG, what, index, e);
      }
    }
  }

  /** Ends the handler's batch, again after a back-off until it succeeds (or the pipeline stops). */
  private void endHandlerBatch(long index, String what) {
    while (true) {
      try {
        handler.onBatchEnd();
        backoff.succeeded();
        return;
      } catch (Exception e) {
        backoff.failed(LOG, what, index, e);
      }
    }
  }

  /** A journaled change being re-delivered: a view of the reader's buffer. */
  private static final class ReplayedRecord implements ChangeRecord {
    private final org.agrona.concurrent.UnsafeBuffer view = new org.agrona.concurrent.UnsafeBuffer(0, 0);
    private long index;
    private int length;

    void wrap(long journalIndex, org.agrona.DirectBuffer buffer, int offset, int bytes) {
      index = journalIndex;
      length = bytes;
      view.wrap(buffer, offset, bytes);
    }

    @Override
    public long journalIndex() {
      return index;
    }

    @Override
    public boolean replayed() {
      return true;
    }

    @Override
    public org.agrona.DirectBuffer buffer() {
      return view;
    }

    @Override
    public int length() {
      return length;
    }
  }

  private void endBatch(long sequence) {
    if (handledInBatch > 0) {
      endHandlerBatch(lastHandled, onBatchEndName);
      checkpoint.commit(lastHandled);
      long now = System.nanoTime();
      for (long s = batchStart; s <= sequence; s++) {
        EventSlot slot = ring.get(s);
        if (slot.journalIndex > startAfter) {
          latency.record(now - slot.publishNanos);
        }
      }
    }
    handledInBatch = 0;
    batchStart = -1L;
  }

  String stage() {
    return stage;
  }

  ChangeHandler handler() {
    return handler;
  }

  ConsumerCheckpoint checkpoint() {
    return checkpoint;
  }

  long startAfter() {
    return startAfter;
  }

  StageLatency latency() {
    return latency;
  }
}
