package io.cutover.engine.backfill;

import java.time.Duration;

/**
 * How far a table's backfill has come.
 *
 * @param table the table.
 * @param rowsDone rows copied so far (across restarts).
 * @param estimatedRows the database's estimate of the table's rows, or -1 when unknown.
 * @param rowsPerSecond copy rate since this run started.
 * @param eta the estimated time left, or null when unknown.
 * @param done whether the table is copied.
 */
public record BackfillProgress(String table, long rowsDone, long estimatedRows, double rowsPerSecond, Duration eta,
    boolean done) {

  /**
   * One line for a log or a terminal.
   *
   * @return e.g. {@code orders: 12,000 / ~100,000 rows, 4,100 rows/s, ETA 21 s}.
   */
  public String describe() {
    return String.format(java.util.Locale.ROOT, "%s: %,d%s rows, %,.0f rows/s%s", table, rowsDone,
        estimatedRows > 0 ? String.format(java.util.Locale.ROOT, " / ~%,d", Math.max(estimatedRows, rowsDone)) : "",
        rowsPerSecond, done ? ", done" : eta == null ? "" : ", ETA " + eta.toSeconds() + " s");
  }
}
