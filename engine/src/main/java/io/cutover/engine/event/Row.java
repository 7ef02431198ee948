package io.cutover.engine.event;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A row image: named columns in order, each with a {@link Value}. Immutable and thread-safe. A column not in the
 * row is absent (unknown), which differs from a column whose value is {@link Value#NULL}.
 */
public final class Row {
  /** The row with no columns. */
  public static final Row EMPTY = new Row(new LinkedHashMap<>());

  private final Map<String, Value> columns;

  private Row(LinkedHashMap<String, Value> columns) {
    this.columns = Collections.unmodifiableMap(columns);
  }

  /**
   * A row from alternating column names and values: {@code Row.of("id", Value.of(1), "name", Value.of("a"))}.
   *
   * @param namesAndValues pairs of a String name and a Value.
   * @return the row.
   * @throws IllegalArgumentException if the pairs are not name/value pairs or a name repeats.
   */
  public static Row of(Object... namesAndValues) {
    if (namesAndValues.length % 2 != 0) {
      throw new IllegalArgumentException("Row.of takes name/value pairs, got " + namesAndValues.length + " items");
    }
    Builder builder = builder();
    for (int i = 0; i < namesAndValues.length; i += 2) {
      if (!(namesAndValues[i] instanceof String name) || !(namesAndValues[i + 1] instanceof Value value)) {
        throw new IllegalArgumentException("Row.of item " + i + " must be a String name followed by a Value");
      }
      builder.put(name, value);
    }
    return builder.build();
  }

  /**
   * Starts a row.
   *
   * @return an empty builder.
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * This row with some columns set: those already in it keep their place, new ones follow in the changes' order.
   *
   * @param changes column to value (never null; {@link Value#NULL} for SQL NULL).
   * @return the new row (this one if there is nothing to change).
   */
  public Row with(Map<String, Value> changes) {
    if (changes.isEmpty()) {
      return this;
    }
    LinkedHashMap<String, Value> merged = new LinkedHashMap<>((columns.size() + changes.size()) * 4 / 3 + 1);
    merged.putAll(columns);
    changes.forEach((column, value) -> merged.put(Objects.requireNonNull(column, "column name"),
        Objects.requireNonNull(value, () -> "value of column " + column + " (use Value.NULL for SQL NULL)")));
    return new Row(merged);
  }

  /**
   * The value of a column.
   *
   * @param column a column name.
   * @return the value, or null when the column is absent.
   */
  public Value get(String column) {
    return columns.get(column);
  }

  /**
   * Whether the column is present (possibly with SQL NULL).
   *
   * @param column a column name.
   * @return true if present.
   */
  public boolean has(String column) {
    return columns.containsKey(column);
  }

  /**
   * The columns in order.
   *
   * @return an unmodifiable view.
   */
  public Map<String, Value> columns() {
    return columns;
  }

  /**
   * The column names in order.
   *
   * @return a new list.
   */
  public List<String> names() {
    return new ArrayList<>(columns.keySet());
  }

  /**
   * How many columns are present.
   *
   * @return a count.
   */
  public int size() {
    return columns.size();
  }

  @Override
  public boolean equals(Object o) {
    if (!(o instanceof Row other) || other.columns.size() != columns.size()) {
      return false;
    }
    // in order, without copying (rows are map keys on the apply path)
    java.util.Iterator<Map.Entry<String, Value>> theirs = other.columns.entrySet().iterator();
    for (Map.Entry<String, Value> mine : columns.entrySet()) {
      if (!mine.equals(theirs.next())) {
        return false;
      }
    }
    return true;
  }

  @Override
  public int hashCode() {
    return columns.hashCode();
  }

  @Override
  public String toString() {
    return columns.toString();
  }

  /** Builds a {@link Row}. Not thread-safe. */
  public static final class Builder {
    private LinkedHashMap<String, Value> columns = new LinkedHashMap<>();

    private Builder() {}

    /**
     * Adds a column.
     *
     * @param column a name not yet in the row.
     * @param value never null; use {@link Value#NULL} for SQL NULL.
     * @return this builder.
     * @throws IllegalArgumentException if the column is already present.
     */
    public Builder put(String column, Value value) {
      Objects.requireNonNull(column, "column name");
      Objects.requireNonNull(value, () -> "value of column " + column + " (use Value.NULL for SQL NULL)");
      if (columns.putIfAbsent(column, value) != null) {
        throw new IllegalArgumentException("column " + column + " appears twice in one row");
      }
      return this;
    }

    /**
     * Builds the row; the builder must not be used again.
     *
     * @return the row.
     */
    public Row build() {
      Row row = new Row(columns);
      columns = null;
      return row;
    }
  }
}
