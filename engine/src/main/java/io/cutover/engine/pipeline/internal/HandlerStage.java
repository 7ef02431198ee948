package io.cutover.engine.pipeline.internal;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import io.cutover.engine.pipeline.ChangeHandler;
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
  }

  @Override
  public void onEvent(EventSlot slot, long sequence, boolean endOfBatch) {
    if (pipeline.halted()) {
      return;
    }
    if (batchStart < 0) {
      batchStart = sequence;
    }
    if (slot.journalIndex > startAfter) {
      while (true) {
        try {
          handler.onChange(slot);
          backoff.succeeded();
          break;
        } catch (Exception e) {
          backoff.failed(LOG, onChangeName, slot.journalIndex, e);
        }
      }
      lastHandled = slot.journalIndex;
      handledInBatch++;
    }
    if (endOfBatch) {
      endBatch(sequence);
    }
  }

  private void endBatch(long sequence) {
    if (handledInBatch > 0) {
      while (true) {
        try {
          handler.onBatchEnd();
          backoff.succeeded();
          break;
        } catch (Exception e) {
          backoff.failed(LOG, onBatchEndName, lastHandled, e);
        }
      }
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
