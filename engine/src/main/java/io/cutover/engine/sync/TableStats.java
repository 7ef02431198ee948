package io.cutover.engine.sync;

/**
 * One synced table's counters since the sync started.
 *
 * @param table the monolith's table name.
 * @param toService changes applied monolith -> service.
 * @param toMonolith changes applied service -> monolith.
 * @param conflicts conflicts detected on its rows.
 * @param lagMicros source commit to applied of the latest change applied (either way), in microseconds; 0 before
 *     the first.
 * @param lastAppliedMicros when the latest change was applied (epoch microseconds), or 0.
 * @param rowsPerSecond changes applied per second over the last complete second-long window (0 when idle for
 *     longer than two seconds).
 * @param p95Micros 95th percentile of source commit to applied since start, both directions (microseconds).
 */
public record TableStats(String table, long toService, long toMonolith, long conflicts, long lagMicros,
    long lastAppliedMicros, double rowsPerSecond, long p95Micros) {}
