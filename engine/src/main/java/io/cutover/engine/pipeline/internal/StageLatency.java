package io.cutover.engine.pipeline.internal;

import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/** Publish-to-stage latency of one handler: recorded wait-free by its thread, read by {@link #snapshot()}. */
final class StageLatency {
  private static final long HIGHEST_NANOS = TimeUnit.HOURS.toNanos(1);
  private final Recorder recorder = new Recorder(HIGHEST_NANOS, 3);
  private final Histogram total = new Histogram(HIGHEST_NANOS, 3);
  private Histogram interval;

  /** Records one latency; called by the stage's thread only. */
  void record(long nanos) {
    recorder.recordValue(Math.min(Math.max(nanos, 0L), HIGHEST_NANOS));
  }

  /** Everything recorded since start. */
  synchronized Histogram snapshot() {
    interval = recorder.getIntervalHistogram(interval);
    total.add(interval);
    return total.copy();
  }
}
