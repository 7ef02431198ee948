package io.cutover.engine.validate.internal;

import io.cutover.engine.db.Dialect;
import io.cutover.engine.db.JdbcValues;
import io.cutover.engine.event.Value;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.sql.DataSource;

/**
 * Reads one table of one database for validation: its columns and key from the catalog, every row streamed with
 * a server-side cursor (constant memory however large the table), and given rows by key in batches. Values are
 * read by the column's declared type, so that a {@code timestamptz} is an instant and a {@code timestamp} a wall
 * clock whatever the JVM's zone. Not thread-safe; one per scan.
 */
public final class TableReader {
  /** Rows fetched per round trip while streaming. */
  public static final int DEFAULT_FETCH_SIZE = 5_000;
  private static final int KEYS_PER_QUERY = 500;

  private TableReader() {}

  /** Receives streamed rows: values in the order of the columns asked for. */
  @FunctionalInterface
  public interface RowSink {
    /**
     * One row.
     *
     * @param values the row's values; the array is reused for the next row.
     * @throws Exception to stop the scan.
     */
    void accept(Value[] values) throws Exception;
  }

  /**
   * A table's columns, lower case, in table order.
   *
   * @param ds the database.
   * @param table the table.
   * @return the columns.
   * @throws SQLException if the catalog cannot be read.
   * @throws IllegalArgumentException naming the table when it does not exist.
   */
  public static List<String> columns(DataSource ds, String table) throws SQLException {
    try (Connection c = ds.getConnection()) {
      List<String> names = catalog(c, table, false);
      if (names.isEmpty()) {
        throw new IllegalArgumentException("table " + table + " does not exist in " + c.getMetaData().getURL());
      }
      return names;
    }
  }

  /**
   * A table's primary-key columns, lower case, in key order.
   *
   * @param ds the database.
   * @param table the table.
   * @return the key columns; empty when the table has no primary key.
   * @throws SQLException if the catalog cannot be read.
   */
  public static List<String> primaryKey(DataSource ds, String table) throws SQLException {
    try (Connection c = ds.getConnection()) {
      return catalog(c, table, true);
    }
  }

  private static List<String> catalog(Connection c, String table, boolean key) throws SQLException {
    DatabaseMetaData meta = c.getMetaData();
    for (String name : new String[] {table, table.toUpperCase(Locale.ROOT), table.toLowerCase(Locale.ROOT)}) {
      List<String> out = new ArrayList<>();
      if (key) {
        List<String[]> seq = new ArrayList<>();
        try (ResultSet rs = meta.getPrimaryKeys(null, c.getSchema(), name)) {
          while (rs.next()) {
            seq.add(new String[] {rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT), rs.getString("KEY_SEQ")});
          }
        }
        seq.sort((x, y) -> Integer.compare(Integer.parseInt(x[1]), Integer.parseInt(y[1])));
        seq.forEach(s -> out.add(s[0]));
      } else {
        try (ResultSet rs = meta.getColumns(null, c.getSchema(), name, null)) {
          while (rs.next()) {
            out.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
          }
        }
      }
      if (!out.isEmpty()) {
        return out;
      }
    }
    return List.of();
  }

  /**
   * Streams every row of a table.
   *
   * @param ds the database.
   * @param table the table.
   * @param columns the columns to read.
   * @param fetchSize rows per round trip.
   * @param sink receives each row.
   * @return the number of rows read.
   * @throws Exception if the database or the sink fails.
   */
  public static long scan(DataSource ds, String table, List<String> columns, int fetchSize, RowSink sink)
      throws Exception {
    try (Connection c = ds.getConnection()) {
      Dialect dialect = Dialect.of(c);
      boolean autoCommit = c.getAutoCommit();
      c.setAutoCommit(false); // PostgreSQL streams with a cursor only inside a transaction
      try (PreparedStatement st = c.prepareStatement(select(dialect, table, columns), ResultSet.TYPE_FORWARD_ONLY,
          ResultSet.CONCUR_READ_ONLY)) {
        st.setFetchSize(fetchSize);
        long rows = 0;
        try (ResultSet rs = st.executeQuery()) {
          io.cutover.engine.db.RowReader reader = new io.cutover.engine.db.RowReader(rs, columns);
          Value[] values = new Value[columns.size()];
          while (rs.next()) {
            reader.read(values);
            sink.accept(values);
            rows++;
          }
        }
        return rows;
      } finally {
        c.rollback();
        c.setAutoCommit(autoCommit);
      }
    }
  }

  /**
   * Reads the rows with the given keys (missing keys are simply absent from the answer).
   *
   * @param ds the database.
   * @param table the table.
   * @param columns the columns to read; the key columns must be among them.
   * @param keyColumns the key columns.
   * @param keys the keys, each in key-column order.
   * @param sink receives each row found.
   * @throws Exception if the database or the sink fails.
   */
  public static void fetch(DataSource ds, String table, List<String> columns, List<String> keyColumns,
      List<Value[]> keys, RowSink sink) throws Exception {
    try (Connection c = ds.getConnection()) {
      Dialect dialect = Dialect.of(c);
      Value[] values = new Value[columns.size()];
      for (int from = 0; from < keys.size(); from += KEYS_PER_QUERY) {
        List<Value[]> batch = keys.subList(from, Math.min(keys.size(), from + KEYS_PER_QUERY));
        StringBuilder sql = new StringBuilder(select(dialect, table, columns)).append(" WHERE ");
        for (int i = 0; i < batch.size(); i++) {
          sql.append(i == 0 ? "(" : " OR (");
          for (int k = 0; k < keyColumns.size(); k++) {
            sql.append(k == 0 ? "" : " AND ").append(dialect.name(keyColumns.get(k))).append(" = ?");
          }
          sql.append(')');
        }
        try (PreparedStatement st = c.prepareStatement(sql.toString())) {
          int p = 1;
          for (Value[] key : batch) {
            for (Value value : key) {
              JdbcValues.bind(st, p++, value);
            }
          }
          try (ResultSet rs = st.executeQuery()) {
            io.cutover.engine.db.RowReader reader = new io.cutover.engine.db.RowReader(rs, columns);
            while (rs.next()) {
              reader.read(values);
              sink.accept(values);
            }
          }
        }
      }
    }
  }

  private static String select(Dialect dialect, String table, List<String> columns) {
    StringBuilder sql = new StringBuilder("SELECT ");
    for (int i = 0; i < columns.size(); i++) {
      sql.append(i == 0 ? "" : ", ").append(dialect.name(columns.get(i)));
    }
    return sql.append(" FROM ").append(dialect.name(table)).toString();
  }

  /** Reads a result set's columns by their declared types. */


}
