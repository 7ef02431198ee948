package io.cutover.engine.pipeline.internal;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;

/** Exponential back-off for a failing stage; one per stage thread. */
final class Backoff {
  private final long minNanos;
  private final long maxNanos;
  private final BooleanSupplier halted;
  private long nextNanos;
  private long failures;

  Backoff(Duration min, Duration max, BooleanSupplier halted) {
    this.minNanos = min.toNanos();
    this.maxNanos = max.toNanos();
    this.halted = halted;
    this.nextNanos = minNanos;
  }

  /** Logs a failure and waits before the caller retries; throws if the pipeline is stopping. */
  void failed(Logger log, String what, long journalIndex, Exception cause) {
    if (halted.getAsBoolean()) {
      throw new StageHaltedException();
    }
    failures++;
    // Yielding a row lock to an application transaction is routine: said only when it goes on for a while.
    boolean routine = cause instanceof java.sql.SQLException sql
        && io.cutover.engine.db.ApplySessions.LOCK_NOT_AVAILABLE.equals(sql.getSQLState()) && failures < 8;
    if (!routine && (failures == 1 || Long.bitCount(failures) == 1)) {
      log.warn("{} failed at journal index {} (failure {} in a row), retrying in {} ms: {}", what, journalIndex,
          failures, nextNanos / 1_000_000, cause.toString(), cause);
    }
    LockSupport.parkNanos(nextNanos);
    nextNanos = Math.min(maxNanos, nextNanos * 2);
    if (halted.getAsBoolean()) {
      throw new StageHaltedException();
    }
  }

  /** Resets after a success. */
  void succeeded() {
    if (failures != 0) {
      failures = 0;
      nextNanos = minNanos;
    }
  }
}
