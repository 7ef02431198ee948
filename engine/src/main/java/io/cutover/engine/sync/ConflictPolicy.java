package io.cutover.engine.sync;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How one table's conflicts are decided: a rule for the row (and every column without its own rule) and
 * optional per-column rules, e.g. {@code last_login} last writer wins and {@code login_count} counter.
 *
 * @param row the table's rule; decides update/delete conflicts and the columns without a rule of their own.
 * @param columns per-column rules, by the monolith's column name.
 */
public record ConflictPolicy(Rule row, Map<String, Rule> columns) {

  /** Last writer wins for everything. */
  public static final ConflictPolicy LAST_WRITER_WINS = new ConflictPolicy(Rule.LAST_WRITER_WINS, Map.of());

  /** Validates the policy. */
  public ConflictPolicy {
    Objects.requireNonNull(row, "row rule");
    if (!row.decidesRows()) {
      throw new IllegalArgumentException("'" + row + "' cannot decide whole rows; use it for a column and give "
          + "the table last_writer_wins, monolith_wins, service_wins, manual or custom:NAME");
    }
    columns = Map.copyOf(columns);
  }

  /**
   * A policy with one rule for the whole table.
   *
   * @param row the rule.
   * @return the policy.
   */
  public static ConflictPolicy of(Rule row) {
    return new ConflictPolicy(row, Map.of());
  }

  /**
   * A copy with a rule for one column.
   *
   * @param column the monolith's column name.
   * @param rule its rule.
   * @return the copy.
   */
  public ConflictPolicy column(String column, Rule rule) {
    Map<String, Rule> copy = new LinkedHashMap<>(columns);
    copy.put(column, rule);
    return new ConflictPolicy(row, copy);
  }

  /**
   * The rule for a column.
   *
   * @param column the monolith's column name.
   * @return its rule, or the row's.
   */
  public Rule rule(String column) {
    return columns.getOrDefault(column, row);
  }

  /**
   * Whether its decisions follow from the changes and what sync knows alone: no rule calls code of the user's (a
   * {@link Rule.Kind#CUSTOM} resolver may read a clock or anything else). Deciding a change again, after a
   * crash, then gives the same writes and the same conflict records.
   *
   * @return false if the row or any column is decided by a custom resolver.
   */
  public boolean deterministic() {
    if (row.kind() == Rule.Kind.CUSTOM) {
      return false;
    }
    for (Rule rule : columns.values()) {
      if (rule.kind() == Rule.Kind.CUSTOM) {
        return false;
      }
    }
    return true;
  }
}
