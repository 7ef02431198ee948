package io.cutover.engine.validate;

import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

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
 * @param countsByKind every discrepancy found, counted by kind (every kind present, zeros too).
 */
public record ValidationReport(String service, String table, String serviceTable, long monolithRows,
    long serviceRows, int differingLeaves, long discrepancyCount, List<Discrepancy> discrepancies,
    long startedMicros, Duration elapsed, Map<Discrepancy.Kind, Long> countsByKind) {

  /** Copies the list and the counts. */
  public ValidationReport {
    discrepancies = List.copyOf(discrepancies);
    EnumMap<Discrepancy.Kind, Long> counts = new EnumMap<>(Discrepancy.Kind.class);
    for (Discrepancy.Kind kind : Discrepancy.Kind.values()) {
      counts.put(kind, countsByKind.getOrDefault(kind, 0L));
    }
    countsByKind = java.util.Collections.unmodifiableMap(counts);
  }

  /**
   * A report whose discrepancies are all listed: the counts by kind are the list's.
   *
   * @param service the service.
   * @param table the monolith's table.
   * @param serviceTable the service's table.
   * @param monolithRows rows compared on the monolith.
   * @param serviceRows rows compared on the service.
   * @param differingLeaves tree leaves that differed.
   * @param discrepancyCount every discrepancy found.
   * @param discrepancies the discrepancies.
   * @param startedMicros when the run started, microseconds since the epoch.
   * @param elapsed how long it took.
   */
  public ValidationReport(String service, String table, String serviceTable, long monolithRows, long serviceRows,
      int differingLeaves, long discrepancyCount, List<Discrepancy> discrepancies, long startedMicros,
      Duration elapsed) {
    this(service, table, serviceTable, monolithRows, serviceRows, differingLeaves, discrepancyCount, discrepancies,
        startedMicros, elapsed, countsOf(discrepancies));
  }

  private static Map<Discrepancy.Kind, Long> countsOf(List<Discrepancy> discrepancies) {
    long[] counts = new long[Discrepancy.Kind.values().length];
    discrepancies.forEach(d -> counts[d.kind().ordinal()]++);
    return counts(counts);
  }

  /**
   * Counts by kind from an array indexed by the kinds' ordinals.
   *
   * @param byOrdinal the counts.
   * @return the map.
   */
  static Map<Discrepancy.Kind, Long> counts(long[] byOrdinal) {
    EnumMap<Discrepancy.Kind, Long> out = new EnumMap<>(Discrepancy.Kind.class);
    for (Discrepancy.Kind kind : Discrepancy.Kind.values()) {
      out.put(kind, byOrdinal[kind.ordinal()]);
    }
    return out;
  }

  /**
   * The counts by kind as one line: {@code missing_on_service 12, missing_on_monolith 3, columns_differ 265}
   * (kinds with none left out).
   *
   * @return the line, empty when consistent.
   */
  public String kinds() {
    return kinds(countsByKind);
  }

  /**
   * Counts by kind as one line ({@link #kinds()}), e.g. summed over several reports.
   *
   * @param counts the counts.
   * @return the line, empty when every count is zero.
   */
  public static String kinds(Map<Discrepancy.Kind, Long> counts) {
    StringBuilder out = new StringBuilder();
    counts.forEach((kind, count) -> {
      if (count > 0) {
        out.append(out.length() == 0 ? "" : ", ").append(kind.name().toLowerCase(java.util.Locale.ROOT))
            .append(' ').append(count);
      }
    });
    return out.toString();
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
        consistent() ? "consistent" : discrepancyCount + " discrepancies (" + kinds() + ")", elapsed.toMillis());
  }
}
