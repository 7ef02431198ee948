package io.cutover.engine.pipeline;

/** How stage threads wait for new changes. */
public enum WaitStrategyKind {
  /** Spin, then yield, then park briefly; never takes a lock on publish. The default. */
  SLEEPING,
  /** Park until signalled; a lock is taken on publish only while a handler is waiting. Least CPU when idle. */
  LITE_BLOCKING,
  /** Spin, then yield. Low latency, a busy core per stage. */
  YIELDING,
  /** Spin. Lowest latency, a dedicated core per stage. */
  BUSY_SPIN
}
