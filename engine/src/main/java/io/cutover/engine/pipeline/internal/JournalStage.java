package io.cutover.engine.pipeline.internal;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.Journal;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first stage: appends each new change to the journal, forces the batch once at its end, then
 * acknowledges every change of the batch and publishes the durable sequence. Reads the clock once per batch.
 */
final class JournalStage implements EventHandler<EventSlot> {
  private static final Logger LOG = LoggerFactory.getLogger(JournalStage.class);

  private final Journal journal;
  private final RingBuffer<EventSlot> ring;
  private final DisruptorPipeline pipeline;
  private final Backoff backoff;
  private final StageLatency latency = new StageLatency();
  private final Sequence durable = new Sequence(-1L);
  private final long purgeIntervalNanos;
  private long batchStart = -1L;
  private long lastPurgeNanos = System.nanoTime();

  JournalStage(Journal journal, RingBuffer<EventSlot> ring, DisruptorPipeline pipeline, PipelineConfig config) {
    this.journal = journal;
    this.ring = ring;
    this.pipeline = pipeline;
    this.backoff = new Backoff(config.retryBackoffMin(), config.retryBackoffMax(), pipeline::halted);
    this.purgeIntervalNanos = config.purgeInterval().toNanos();
  }

  @Override
  public void onEvent(EventSlot slot, long sequence, boolean endOfBatch) {
    if (pipeline.halted()) {
      return;
    }
    if (batchStart < 0) {
      batchStart = sequence;
    }
    if (!slot.replayed) {
      while (true) {
        try {
          slot.journalIndex = journal.append(slot.buffer, 0, slot.length);
          backoff.succeeded();
          break;
        } catch (RuntimeException e) {
          backoff.failed(LOG, "journal append", journal.lastIndex(), e);
        }
      }
    }
    if (endOfBatch) {
      endBatch(sequence);
    }
  }

  private void endBatch(long sequence) {
    while (true) {
      try {
        journal.flush();
        backoff.succeeded();
        break;
      } catch (RuntimeException e) {
        backoff.failed(LOG, "journal flush", journal.lastIndex(), e);
      }
    }
    long now = System.nanoTime();
    for (long s = batchStart; s <= sequence; s++) {
      EventSlot slot = ring.get(s);
      latency.record(now - slot.publishNanos);
      CompletableFuture<Long> ack = slot.ack;
      if (ack != null) {
        slot.ack = null;
        ack.complete(slot.journalIndex);
      }
    }
    durable.set(sequence);
    batchStart = -1L;
    if (now - lastPurgeNanos > purgeIntervalNanos) {
      lastPurgeNanos = now;
      try {
        journal.purge();
      } catch (RuntimeException e) {
        LOG.warn("journal retention failed; it runs again in {} s: {}", purgeIntervalNanos / 1_000_000_000L,
            e.toString(), e);
      }
    }
  }

  Sequence durable() {
    return durable;
  }

  StageLatency latency() {
    return latency;
  }
}
