package io.cutover.engine.apply;

import io.cutover.engine.db.Dialect;
import java.util.LinkedHashMap;
import java.util.Map;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Value;
import java.util.Objects;
import java.util.Set;

/**
 * How one source table lands in a target table: its name there, optionally which columns go over and under what
 * names (a vertical split keeps a subset), and optionally which rows (a horizontal split: a row goes over when
 * each filtered column holds one of the listed values, compared as text). Immutable.
 *
 * @param sourceTable the table's name at the source (as captured).
 * @param targetTable the table's name at the target.
 * @param columns source column to target column, in order; empty means every column under its own name.
 * @param filter source column to the values a row must hold there; empty means every row.
 */
public record TableMapping(String sourceTable, String targetTable, Map<String, String> columns,
    Map<String, Set<String>> filter) {

  /** Validates names; the message names the one that is wrong. */
  public TableMapping {
    Dialect.H2.name(sourceTable);
    Dialect.H2.name(targetTable);
    Objects.requireNonNull(columns, "columns");
    LinkedHashMap<String, String> copy = new LinkedHashMap<>();
    columns.forEach((from, to) -> copy.put(Dialect.H2.name(from), Dialect.H2.name(to)));
    columns = java.util.Collections.unmodifiableMap(copy);
    Objects.requireNonNull(filter, "filter");
    LinkedHashMap<String, Set<String>> filterCopy = new LinkedHashMap<>();
    filter.forEach((column, values) -> filterCopy.put(Dialect.H2.name(column), Set.copyOf(values)));
    filter = java.util.Collections.unmodifiableMap(filterCopy);
  }

  /**
   * The same table under the same name, every column.
   *
   * @param table the table.
   * @return the mapping.
   */
  public static TableMapping identity(String table) {
    return new TableMapping(table, table, Map.of(), Map.of());
  }

  /**
   * A renamed table with every column under its own name.
   *
   * @param sourceTable the source's name.
   * @param targetTable the target's name.
   * @return the mapping.
   */
  public static TableMapping renamed(String sourceTable, String targetTable) {
    return new TableMapping(sourceTable, targetTable, Map.of(), Map.of());
  }

  /**
   * A copy that takes only the given columns, renamed as given.
   *
   * @param sourceToTarget source column to target column, in order.
   * @return the mapping.
   */
  public TableMapping withColumns(Map<String, String> sourceToTarget) {
    return new TableMapping(sourceTable, targetTable, sourceToTarget, filter);
  }

  /**
   * A copy that takes only the rows whose columns hold the listed values.
   *
   * @param columnToValues source column to the accepted values (as text).
   * @return the mapping.
   */
  public TableMapping withFilter(Map<String, Set<String>> columnToValues) {
    return new TableMapping(sourceTable, targetTable, columns, columnToValues);
  }

  /**
   * Whether a row image passes the filter.
   *
   * @param row a source row image, or null (unknown).
   * @return true when there is no filter or every filtered column holds an accepted value; false for null.
   */
  public boolean accepts(Row row) {
    if (filter.isEmpty()) {
      return true;
    }
    if (row == null) {
      return false;
    }
    for (Map.Entry<String, Set<String>> condition : filter.entrySet()) {
      Value value = row.get(condition.getKey());
      if (value == null || value.isNull() || !condition.getValue().contains(text(value))) {
        return false;
      }
    }
    return true;
  }

  private static String text(Value value) {
    return switch (value.type()) {
      case STRING, JSON -> value.asString();
      case INT -> Long.toString(value.asLong());
      case BOOL -> Boolean.toString(value.asBoolean());
      case DECIMAL -> value.asDecimal().toPlainString();
      default -> value.toString();
    };
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
