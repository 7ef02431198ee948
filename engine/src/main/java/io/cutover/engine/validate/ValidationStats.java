package io.cutover.engine.validate;

/**
 * Counters of continuous validation since it started.
 *
 * @param rounds validation rounds completed.
 * @param rowsCompared rows read on both sides, in total.
 * @param reported discrepancies reported.
 * @param heldBack discrepancies seen and held back as possibly in flight (per round; one row can count often).
 * @param repaired repairs sent.
 * @param outstanding discrepancies reported in the last round (0 when consistent).
 * @param failures rounds that failed (a database down, ...).
 * @param lastRoundMillis how long the last round took.
 * @param lastRoundEndMillis when it ended, milliseconds since the epoch (0 before the first).
 * @param fullScans rounds that scanned the tables in full (the others read only changed rows again).
 * @param rowsRechecked changed rows read again by incremental rounds.
 * @param lagAlerts times the pipeline was found behind by more than the lag tolerance (one per episode).
 * @param behindMillis how far behind the pipeline was found by the last round when more than the tolerance (at
 *     least this much), 0 when it had caught up.
 */
public record ValidationStats(long rounds, long rowsCompared, long reported, long heldBack, long repaired,
    long outstanding, long failures, long lastRoundMillis, long lastRoundEndMillis, long fullScans,
    long rowsRechecked, long lagAlerts, long behindMillis) {}
