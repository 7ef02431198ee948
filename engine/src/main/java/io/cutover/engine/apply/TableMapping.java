package io.cutover.engine.apply;

import io.cutover.engine.db.Dialect;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Value;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * How one source table lands in a target table: its name there, optionally which columns go over and under what
 * names (a vertical split keeps a subset), and optionally which rows (a horizontal split: a row goes over when
 * each filtered column holds one of the listed values, compared as text). Both ways: a source change's names
 * map to the target's in {@link SideWriter}, a target change's back to the source's in {@link #toSource}.
 * Immutable.
 */
public final class TableMapping {
  private final String sourceTable;
  private final String targetTable;
  private final Map<String, String> columns;
  private final Map<String, Set<String>> filter;
  /** Target column to source column (empty when every column keeps its name). */
  private final Map<String, String> back;

  /**
   * Validates names; the message names the one that is wrong.
   *
   * @param sourceTable the table's name at the source (as captured).
   * @param targetTable the table's name at the target.
   * @param columns source column to target column, in order; empty means every column under its own name.
   * @param filter source column to the values a row must hold there; empty means every row.
   */
  public TableMapping(String sourceTable, String targetTable, Map<String, String> columns,
      Map<String, Set<String>> filter) {
    this.sourceTable = Dialect.H2.name(sourceTable);
    this.targetTable = Dialect.H2.name(targetTable);
    Objects.requireNonNull(columns, "columns");
    LinkedHashMap<String, String> copy = new LinkedHashMap<>();
    Map<String, String> reverse = new HashMap<>();
    columns.forEach((from, to) -> {
      copy.put(Dialect.H2.name(from), Dialect.H2.name(to));
      reverse.put(to, from);
    });
    this.columns = java.util.Collections.unmodifiableMap(copy);
    this.back = reverse;
    Objects.requireNonNull(filter, "filter");
    LinkedHashMap<String, Set<String>> filterCopy = new LinkedHashMap<>();
    filter.forEach((column, values) -> filterCopy.put(Dialect.H2.name(column), Set.copyOf(values)));
    this.filter = java.util.Collections.unmodifiableMap(filterCopy);
  }

  /**
   * The table's name at the source.
   *
   * @return the name.
   */
  public String sourceTable() {
    return sourceTable;
  }

  /**
   * The table's name at the target.
   *
   * @return the name.
   */
  public String targetTable() {
    return targetTable;
  }

  /**
   * Source column to target column, in order.
   *
   * @return the columns; empty means every column under its own name.
   */
  public Map<String, String> columns() {
    return columns;
  }

  /**
   * Source column to the values a row must hold there.
   *
   * @return the filter; empty means every row.
   */
  public Map<String, Set<String>> filter() {
    return filter;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TableMapping other && sourceTable.equals(other.sourceTable)
        && targetTable.equals(other.targetTable) && columns.equals(other.columns) && filter.equals(other.filter);
  }

  @Override
  public int hashCode() {
    return Objects.hash(sourceTable, targetTable, columns, filter);
  }

  @Override
  public String toString() {
    return "TableMapping[sourceTable=" + sourceTable + ", targetTable=" + targetTable + ", columns=" + columns
        + ", filter=" + filter + "]";
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

  /**
   * The source name of a target column.
   *
   * @param targetColumn a column at the target.
   * @return its name at the source, or null when no source column goes there.
   */
  public String sourceColumn(String targetColumn) {
    return columns.isEmpty() ? targetColumn : back.get(targetColumn);
  }

  /**
   * A source change as it reaches the target through the filter: as it is; a delete when an update takes its row
   * out of the filter (or it may have been in); null when the row was not in and is not now.
   *
   * @param event a change of the source table.
   * @return the change to send, or null for none.
   */
  public ChangeEvent filtered(ChangeEvent event) {
    if (event.operation() == Operation.DELETE || accepts(event.after())) {
      return event;
    }
    if (event.operation() == Operation.UPDATE && (event.before() == null || accepts(event.before()))) {
      return ChangeEvent.builder(event.side(), event.table(), Operation.DELETE).key(event.key())
          .position(event.position()).transactionId(event.transactionId())
          .commitTimeMicros(event.commitTimeMicros()).hlc(event.hlc()).build();
    }
    return null;
  }

  /**
   * A change of the target table in the source's names (columns that do not come from the source are left out).
   *
   * @param event a change captured at the target.
   * @return the same change under the source's table and column names.
   */
  public ChangeEvent toSource(ChangeEvent event) {
    ChangeEvent.Builder out = ChangeEvent.builder(event.side(), sourceTable, event.operation())
        .key(toSource(event.key())).origin(event.origin())
        .position(event.position()).transactionId(event.transactionId())
        .commitTimeMicros(event.commitTimeMicros()).hlc(event.hlc());
    if (event.before() != null) {
      out.before(toSource(event.before()));
    }
    if (event.after() != null) {
      out.after(toSource(event.after()));
    }
    if (columns.isEmpty()) {
      return out.changedColumns(event.changedColumns()).build();
    }
    List<String> changed = new ArrayList<>();
    for (String column : event.changedColumns()) {
      String source = back.get(column);
      if (source != null) {
        changed.add(source);
      }
    }
    return out.changedColumns(changed).build();
  }

  private Row toSource(Row row) {
    if (columns.isEmpty()) {
      return row;
    }
    Row.Builder out = Row.builder();
    for (Map.Entry<String, Value> column : row.columns().entrySet()) {
      String source = back.get(column.getKey());
      if (source != null) {
        out.put(source, column.getValue());
      }
    }
    return out.build();
  }
}
