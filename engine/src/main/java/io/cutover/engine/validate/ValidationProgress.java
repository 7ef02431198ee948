package io.cutover.engine.validate;

/**
 * Progress of a full validation while it streams both sides of a table: called about every 250 ms from the
 * validating thread, and once more when both sides are read. Implementations must be quick (print a line, move a
 * bar) and thread-safe if shared.
 */
@FunctionalInterface
public interface ValidationProgress {
  /**
   * Rows read so far.
   *
   * @param table the monolith's table.
   * @param monolithRows rows read on the monolith.
   * @param serviceRows rows read on the service.
   * @param estimatedRows the database's estimate of the larger side's rows, or -1 when unknown.
   * @param done whether both sides are read (the comparison of the trees follows, and takes little time).
   */
  void scanned(String table, long monolithRows, long serviceRows, long estimatedRows, boolean done);
}
