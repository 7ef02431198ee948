package io.cutover.engine.clock;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class HybridLogicalClockTest {

  @Test
  void timestampsStrictlyIncreaseEvenWhenTheWallClockStandsStillOrGoesBack() {
    AtomicLong wall = new AtomicLong(1_000);
    HybridLogicalClock clock = new HybridLogicalClock(wall::get);
    long a = clock.now();
    long b = clock.now();
    wall.set(900);
    long c = clock.now();
    assertTrue(a < b && b < c);
    assertEquals(1_000, HybridLogicalClock.physicalMillis(c));
    assertEquals(2, HybridLogicalClock.logical(c));
    assertEquals(c, clock.current());
  }

  @Test
  void aHostWhoseClockRunsAheadDoesNotWinForeverAgainstLaterCausalWrites() {
    AtomicLong fastWall = new AtomicLong(10_000 + 5_000);
    AtomicLong slowWall = new AtomicLong(10_000);
    HybridLogicalClock fast = new HybridLogicalClock(fastWall::get);
    HybridLogicalClock slow = new HybridLogicalClock(slowWall::get);
    long fastWrite = fast.now();
    long received = slow.update(fastWrite);
    long slowLaterWrite = slow.now();
    assertTrue(received > fastWrite);
    assertTrue(slowLaterWrite > fastWrite, "a write that follows causally orders after, despite 5 s of skew");
    assertEquals(HybridLogicalClock.physicalMillis(fastWrite), HybridLogicalClock.physicalMillis(slowLaterWrite));
    slowWall.set(20_000);
    long muchLater = slow.now();
    assertEquals(HybridLogicalClock.timestamp(20_000, 0), muchLater, "physical time takes over once it catches up");
  }

  @Test
  void updateWithAnOlderTimestampStillAdvances() {
    AtomicLong wall = new AtomicLong(5_000);
    HybridLogicalClock clock = new HybridLogicalClock(wall::get);
    long now = clock.now();
    long after = clock.update(HybridLogicalClock.timestamp(1_000, 7));
    assertTrue(after > now);
    assertTrue(new HybridLogicalClock().now() > HybridLogicalClock.timestamp(1_600_000_000_000L, 0));
  }
}
