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
 */
public record ValidationStats(long rounds, long rowsCompared, long reported, long heldBack, long repaired,
    long outstanding, long failures, long lastRoundMillis, long lastRoundEndMillis, long fullScans,
    long rowsRechecked) {}
