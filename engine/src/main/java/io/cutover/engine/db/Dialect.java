package io.cutover.engine.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** The SQL that differs between the supported databases. Thread-safe (stateless). */
public enum Dialect {
  /** H2, the embedded default (run in PostgreSQL mode or not). */
  H2,
  /** PostgreSQL 12 or later. */
  POSTGRESQL;

  /**
   * The dialect of an open connection.
   *
   * @param connection a connection.
   * @return its dialect.
   * @throws SQLException if the database cannot be asked.
   * @throws IllegalArgumentException if the database is not supported.
   */
  public static Dialect of(Connection connection) throws SQLException {
    String product = connection.getMetaData().getDatabaseProductName().toLowerCase(Locale.ROOT);
    if (product.contains("h2")) {
      return H2;
    }
    if (product.contains("postgres")) {
      return POSTGRESQL;
    }
    throw new IllegalArgumentException("database '" + product + "' is not supported: use H2 or PostgreSQL");
  }

  /**
   * Checks that an identifier is a plain SQL name and returns it unquoted, so the database folds its case the way
   * it folded the names the tables were created with (upper case in H2, lower case in PostgreSQL).
   *
   * @param name a table or column name.
   * @return the name.
   * @throws IllegalArgumentException if the name is not {@code [A-Za-z_][A-Za-z0-9_]*} of at most 63 characters.
   */
  public String name(String name) {
    if (!identifier(name)) {
      throw new IllegalArgumentException("'" + name + "' is not a usable table or column name: use letters, "
          + "digits and underscores, starting with a letter or underscore, at most 63 characters");
    }
    return name;
  }

  /** {@code [A-Za-z_][A-Za-z0-9_]{0,62}}, by hand: called for every column of every statement written. */
  private static boolean identifier(String name) {
    if (name == null || name.isEmpty() || name.length() > 63) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean letter = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
      if (!letter && (i == 0 || c < '0' || c > '9')) {
        return false;
      }
    }
    return true;
  }

  /**
   * An upsert of one row: insert it, or update the listed non-key columns when the key exists.
   *
   * @param table the target table.
   * @param columns every column given, key columns included, in parameter order.
   * @param keyColumns the primary-key columns.
   * @return the statement, one {@code ?} per column.
   */
  public String upsert(String table, List<String> columns, List<String> keyColumns) {
    String cols = columns.stream().map(this::name).collect(Collectors.joining(", "));
    String params = columns.stream().map(c -> "?").collect(Collectors.joining(", "));
    String keys = keyColumns.stream().map(this::name).collect(Collectors.joining(", "));
    return switch (this) {
      case H2 -> "MERGE INTO " + name(table) + " (" + cols + ") KEY (" + keys + ") VALUES (" + params + ")";
      case POSTGRESQL -> {
        List<String> updates = columns.stream().filter(c -> !keyColumns.contains(c))
            .map(c -> name(c) + " = EXCLUDED." + name(c)).toList();
        yield "INSERT INTO " + name(table) + " (" + cols + ") VALUES (" + params + ") ON CONFLICT (" + keys + ") "
            + (updates.isEmpty() ? "DO NOTHING" : "DO UPDATE SET " + String.join(", ", updates));
      }
    };
  }

  /**
   * An upsert of several rows in one statement ({@code INSERT ... VALUES (...), (...) ON CONFLICT ... DO UPDATE} on
   * PostgreSQL, {@code MERGE ... VALUES (...), (...)} on H2). The rows' keys must differ (PostgreSQL refuses to
   * change one row twice in a statement).
   *
   * @param table the target table.
   * @param columns every column given, key columns included, in parameter order.
   * @param keyColumns the primary-key columns.
   * @param rows how many rows.
   * @return the statement, one {@code ?} per column per row, row after row.
   */
  public String upsertRows(String table, List<String> columns, List<String> keyColumns, int rows) {
    String one = upsert(table, columns, keyColumns);
    String tuple = "(" + String.join(", ", java.util.Collections.nCopies(columns.size(), "?")) + ")";
    int at = one.indexOf(tuple);
    StringBuilder sql = new StringBuilder(one.length() + rows * (tuple.length() + 2));
    sql.append(one, 0, at);
    for (int i = 0; i < rows; i++) {
      sql.append(i == 0 ? "" : ", ").append(tuple);
    }
    return sql.append(one, at + tuple.length(), one.length()).toString();
  }

  /**
   * A delete by primary key.
   *
   * @param table the target table.
   * @param keyColumns the primary-key columns, in parameter order.
   * @return the statement.
   */
  public String deleteByKey(String table, List<String> keyColumns) {
    return "DELETE FROM " + name(table) + " WHERE "
        + keyColumns.stream().map(c -> name(c) + " = ?").collect(Collectors.joining(" AND "));
  }

  /**
   * An insert that does nothing when a row with the key exists. On H2 the statement takes the key values again
   * after the row's values ({@code INSERT ... SELECT ... WHERE NOT EXISTS}); on PostgreSQL only the row's values
   * ({@code ON CONFLICT DO NOTHING}).
   *
   * @param table the target table.
   * @param columns the row's columns, in parameter order.
   * @param keyColumns the primary-key columns.
   * @return the statement.
   */
  public String insertIfAbsent(String table, List<String> columns, List<String> keyColumns) {
    String cols = columns.stream().map(this::name).collect(Collectors.joining(", "));
    String params = columns.stream().map(c -> "?").collect(Collectors.joining(", "));
    return switch (this) {
      case H2 -> "INSERT INTO " + name(table) + " (" + cols + ") SELECT " + params + " WHERE NOT EXISTS (SELECT 1 FROM "
          + name(table) + " WHERE " + keyColumns.stream().map(c -> name(c) + " = ?").collect(Collectors.joining(" AND "))
          + ")";
      case POSTGRESQL -> "INSERT INTO " + name(table) + " (" + cols + ") VALUES (" + params + ") ON CONFLICT ("
          + keyColumns.stream().map(this::name).collect(Collectors.joining(", ")) + ") DO NOTHING";
    };
  }

  /**
   * Whether {@link #insertIfAbsent} takes the key values again after the row's.
   *
   * @return true on H2.
   */
  public boolean insertIfAbsentRepeatsKey() {
    return this == H2;
  }
}
