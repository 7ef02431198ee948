package io.cutover.engine.validate;

import io.cutover.engine.event.Row;
import java.util.List;
import java.util.Objects;

/**
 * One row where the monolith and a service differ, in the service's representation (the mapping applied: the
 * service's column names, only the columns that go over).
 *
 * @param table the monolith's table.
 * @param kind what differs.
 * @param key the primary key, in the service's column names.
 * @param monolith the monolith's row (mapped), or null when missing there.
 * @param service the service's row, or null when missing there.
 * @param columns the differing columns (service names); empty when a row is missing.
 */
public record Discrepancy(String table, Kind kind, Row key, Row monolith, Row service, List<String> columns) {

  /** What differs. */
  public enum Kind {
    /** The service holds the row, the monolith does not. */
    MISSING_ON_MONOLITH,
    /** The monolith holds the row, the service does not. */
    MISSING_ON_SERVICE,
    /** Both hold the row with different values in {@link #columns()}. */
    COLUMNS_DIFFER
  }

  /** Copies the column list. */
  public Discrepancy {
    Objects.requireNonNull(table, "table");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(key, "key");
    columns = List.copyOf(columns);
  }

  /**
   * One line for people: the table, key, kind and, per differing column, both values.
   *
   * @return the description.
   */
  public String describe() {
    StringBuilder out = new StringBuilder(table).append(' ').append(key).append(": ");
    switch (kind) {
      case MISSING_ON_MONOLITH -> out.append("missing on the monolith");
      case MISSING_ON_SERVICE -> out.append("missing on the service");
      case COLUMNS_DIFFER -> {
        out.append("differs in");
        for (String column : columns) {
          out.append(' ').append(column).append(" (monolith ").append(monolith.get(column)).append(", service ")
              .append(service.get(column)).append(')');
        }
      }
    }
    return out.toString();
  }
}
