package io.cutover.engine.sync;

import java.util.Map;

/**
 * Counters of one bi-directional sync since it started.
 *
 * @param toService changes applied monolith -> service.
 * @param toMonolith changes applied service -> monolith.
 * @param conflictsByKind conflicts detected, by kind.
 * @param conflictsByOutcome conflicts, by outcome (resolved, parked, resolved by an operator).
 * @param parked rows parked now.
 * @param skippedWrites conditional writes that found the row changed by an application write not yet captured
 *     (reconciled when that write arrives).
 * @param p95ToServiceMicros 95th percentile of source commit to applied, monolith -> service (microseconds).
 * @param p95ToMonolithMicros the same, service -> monolith.
 * @param lastConflictDetectionMicros detected minus captured for the last conflict (microseconds).
 */
public record SyncStats(long toService, long toMonolith, Map<Conflict.Kind, Long> conflictsByKind,
    Map<Conflict.Outcome, Long> conflictsByOutcome, long parked, long skippedWrites, long p95ToServiceMicros,
    long p95ToMonolithMicros, long lastConflictDetectionMicros) {

  /**
   * All conflicts detected.
   *
   * @return the count.
   */
  public long conflicts() {
    return conflictsByKind.values().stream().mapToLong(Long::longValue).sum();
  }
}
