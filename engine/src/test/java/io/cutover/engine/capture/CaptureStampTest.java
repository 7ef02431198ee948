package io.cutover.engine.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.clock.HybridLogicalClock;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import org.junit.jupiter.api.Test;

/** How captures stamp changes: by source commit time, strictly increasing per side. */
class CaptureStampTest {

  private static final class Probe extends ThreadedCapture {
    Probe() {
      super(Side.MONOLITH);
    }

    @Override
    public void install() {}

    @Override
    public void uninstall() {}

    @Override
    protected void run(Pipeline pipeline) {}

    long at(long commitMicros) {
      return stamp(commitMicros);
    }
  }

  @Test
  void shouldStampByCommitTimeAndNeverGoBackWhenTheSourceClockDoes() {
    Probe capture = new Probe();
    long first = capture.at(5_000_000L);
    assertEquals(HybridLogicalClock.timestamp(5_000, 0), first);
    long sameMillisecond = capture.at(5_000_400L);
    assertEquals(first + 1, sameMillisecond, "same millisecond: the logical counter orders them");
    long clockSteppedBack = capture.at(4_000_000L);
    assertTrue(clockSteppedBack > sameMillisecond, "a source clock stepping back does not reorder its changes");
    long later = capture.at(9_000_000L);
    assertEquals(HybridLogicalClock.timestamp(9_000, 0), later);
    assertTrue(capture.at(0) >= HybridLogicalClock.timestamp(System.currentTimeMillis() - 1_000, 0),
        "unknown commit time: now");
  }
}
