package io.cutover.engine.clock;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * A hybrid logical clock (Kulkarni et al., 2014). A timestamp packs 48 bits of physical milliseconds and a
 * 16-bit logical counter: {@code (millis << 16) | counter}. Timestamps from one clock strictly increase, a
 * received timestamp pushes the clock past it ({@link #update}), and the physical part never runs ahead of the
 * largest physical time seen. So when one host's clock runs ahead, the others order their later events after
 * its events instead of losing to it forever.
 *
 * <p>Thread-safe and lock-free.
 */
public final class HybridLogicalClock {
  /** Bits of the logical counter. */
  public static final int LOGICAL_BITS = 16;
  private static final long LOGICAL_MASK = (1L << LOGICAL_BITS) - 1;

  private final LongSupplier physicalMillis;
  private final AtomicLong last = new AtomicLong();

  /** A clock on the system's wall clock. */
  public HybridLogicalClock() {
    this(System::currentTimeMillis);
  }

  /**
   * A clock on a given physical time source (tests use it to skew clocks).
   *
   * @param physicalMillis milliseconds since the epoch.
   */
  public HybridLogicalClock(LongSupplier physicalMillis) {
    this.physicalMillis = physicalMillis;
  }

  /**
   * A timestamp for a local event, greater than every timestamp this clock returned or was updated with.
   *
   * @return the timestamp.
   */
  public long now() {
    long physical = physicalMillis.getAsLong() << LOGICAL_BITS;
    while (true) {
      long previous = last.get();
      long next = physical > previous ? physical : previous + 1;
      if (last.compareAndSet(previous, next)) {
        return next;
      }
    }
  }

  /**
   * Merges a timestamp received from elsewhere and returns a timestamp greater than both it and every earlier
   * timestamp of this clock.
   *
   * @param received a timestamp from another clock.
   * @return the timestamp for the receive event.
   */
  public long update(long received) {
    long physical = physicalMillis.getAsLong() << LOGICAL_BITS;
    while (true) {
      long previous = last.get();
      long next = Math.max(physical, Math.max(previous, received) + 1);
      if (last.compareAndSet(previous, next)) {
        return next;
      }
    }
  }

  /**
   * The last timestamp issued, without advancing the clock.
   *
   * @return a timestamp, or 0 if none.
   */
  public long current() {
    return last.get();
  }

  /**
   * The physical milliseconds of a timestamp.
   *
   * @param timestamp an HLC timestamp.
   * @return milliseconds since the epoch.
   */
  public static long physicalMillis(long timestamp) {
    return timestamp >>> LOGICAL_BITS;
  }

  /**
   * The logical counter of a timestamp.
   *
   * @param timestamp an HLC timestamp.
   * @return the counter.
   */
  public static int logical(long timestamp) {
    return (int) (timestamp & LOGICAL_MASK);
  }

  /**
   * A timestamp from its parts.
   *
   * @param millis physical milliseconds.
   * @param logical the counter, 0 to 65535.
   * @return the timestamp.
   */
  public static long timestamp(long millis, int logical) {
    return (millis << LOGICAL_BITS) | (logical & LOGICAL_MASK);
  }
}
