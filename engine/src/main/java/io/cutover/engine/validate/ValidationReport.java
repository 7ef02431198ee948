package io.cutover.engine.validate;

import java.time.Duration;
import java.util.List;

/**
 * The result of validating one table pair.
 *
 * @param service the service.
 * @param table the monolith's table.
 * @param serviceTable the service's table.
 * @param monolithRows rows compared on the monolith (those the mapping takes).
 * @param serviceRows rows compared on the service.
 * @param differingLeaves tree leaves that differed (0 when consistent).
 * @param discrepancyCount every discrepancy found.
 * @param discrepancies the first of them, up to the validator's report limit.
 * @param startedMicros when the run started, microseconds since the epoch.
 * @param elapsed how long it took.
 */
public record ValidationReport(String service, String table, String serviceTable, long monolithRows,
    long serviceRows, int differingLeaves, long discrepancyCount, List<Discrepancy> discrepancies,
    long startedMicros, Duration elapsed) {

  /** Copies the list. */
  public ValidationReport {
    discrepancies = List.copyOf(discrepancies);
  }

  /**
   * Whether both sides hold the same data.
   *
   * @return true when nothing differs.
   */
  public boolean consistent() {
    return discrepancyCount == 0;
  }

  /**
   * Whether more discrepancies were found than listed.
   *
   * @return true when the list was cut at the limit.
   */
  public boolean truncated() {
    return discrepancyCount > discrepancies.size();
  }

  /**
   * A one-line summary.
   *
   * @return the summary.
   */
  public String summary() {
    return String.format(java.util.Locale.ROOT, "%s -> %s.%s: %,d monolith rows, %,d service rows, %s in %d ms",
        table, service, serviceTable, monolithRows, serviceRows,
        consistent() ? "consistent" : discrepancyCount + " discrepancies", elapsed.toMillis());
  }
}
