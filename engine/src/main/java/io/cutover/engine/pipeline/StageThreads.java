package io.cutover.engine.pipeline;

/** How a pipeline's stages share threads. */
public enum StageThreads {
  /**
   * One thread for the journal stage and one for each handler (the default): the journal runs ahead of slow
   * handlers by up to the ring's size, and handlers of one stage run in parallel.
   */
  PER_STAGE,
  /**
   * One thread for all stages: it journals a batch, makes it durable and acknowledges it, then hands the batch to
   * each handler in stage order. Fewer threads to schedule, for small machines and cheap handlers (an embedded
   * in-memory sink): no hand-off between stage threads, no thread of the pipeline preempting another. A slow
   * handler delays the journaling of the next batch (the ring still buffers the producers).
   */
  SINGLE
}
