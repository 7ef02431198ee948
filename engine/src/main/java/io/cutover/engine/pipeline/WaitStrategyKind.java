package io.cutover.engine.pipeline;

/** How stage threads wait for new changes. */
public enum WaitStrategyKind {
  /**
   * Spin briefly, then park for short moments, then, after a few milliseconds without a change, block until signalled:
   * an idle pipeline costs nothing, a busy one takes no lock on publish. The default.
   */
  PARKING,
  /** Spin, then yield, then park briefly, forever: some 100 microseconds to wake, but a core's fraction when idle. */
  SLEEPING,
  /** Park until signalled; a lock is taken on publish only while a handler is waiting. Least CPU when idle. */
  LITE_BLOCKING,
  /** Spin, then yield. Low latency, a busy core per stage. */
  YIELDING,
  /** Spin. Lowest latency, a dedicated core per stage. */
  BUSY_SPIN
}
