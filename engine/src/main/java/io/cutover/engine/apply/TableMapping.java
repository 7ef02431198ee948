package io.cutover.engine.apply;

import io.cutover.engine.db.Dialect;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * How one source table lands in a target table: its name there and, optionally, which columns go over and under
 * what names (a vertical split keeps a subset). Immutable.
 *
 * @param sourceTable the table's name at the source (as captured).
 * @param targetTable the table's name at the target.
 * @param columns source column to target column, in order; empty means every column under its own name.
 */
public record TableMapping(String sourceTable, String targetTable, Map<String, String> columns) {

  /** Validates names; the message names the one that is wrong. */
  public TableMapping {
    Dialect.H2.name(sourceTable);
    Dialect.H2.name(targetTable);
    Objects.requireNonNull(columns, "columns");
    LinkedHashMap<String, String> copy = new LinkedHashMap<>();
    columns.forEach((from, to) -> copy.put(Dialect.H2.name(from), Dialect.H2.name(to)));
    columns = java.util.Collections.unmodifiableMap(copy);
  }

  /**
   * The same table under the same name, every column.
   *
   * @param table the table.
   * @return the mapping.
   */
  public static TableMapping identity(String table) {
    return new TableMapping(table, table, Map.of());
  }

  /**
   * A renamed table with every column under its own name.
   *
   * @param sourceTable the source's name.
   * @param targetTable the target's name.
   * @return the mapping.
   */
  public static TableMapping renamed(String sourceTable, String targetTable) {
    return new TableMapping(sourceTable, targetTable, Map.of());
  }

  /**
   * A copy that takes only the given columns, renamed as given.
   *
   * @param sourceToTarget source column to target column, in order.
   * @return the mapping.
   */
  public TableMapping withColumns(Map<String, String> sourceToTarget) {
    return new TableMapping(sourceTable, targetTable, sourceToTarget);
  }

  /**
   * The target name of a source column.
   *
   * @param sourceColumn a column at the source.
   * @return its name at the target, or null when the column does not go over.
   */
  public String targetColumn(String sourceColumn) {
    return columns.isEmpty() ? sourceColumn : columns.get(sourceColumn);
  }
}
