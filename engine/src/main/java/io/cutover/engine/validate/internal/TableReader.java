package io.cutover.engine.validate.internal;

import io.cutover.engine.db.Dialect;
import io.cutover.engine.db.JdbcValues;
import io.cutover.engine.event.Value;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
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
  private static final LocalDateTime EPOCH = LocalDateTime.of(1970, 1, 1, 0, 0);

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
   * The database's cheap estimate of a table's rows (PostgreSQL's planner statistics, H2's row count estimate),
   * for progress reports; never a scan.
   *
   * @param ds the database.
   * @param table the table.
   * @return the estimate, or -1 when the database has none.
   */
  public static long estimateRows(DataSource ds, String table) {
    try (Connection c = ds.getConnection()) {
      String sql = Dialect.of(c) == Dialect.POSTGRESQL ? "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(?)"
          : "SELECT ROW_COUNT_ESTIMATE FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_NAME) = UPPER(?) "
              + "AND TABLE_SCHEMA = SCHEMA()";
      try (PreparedStatement st = c.prepareStatement(sql)) {
        st.setString(1, table);
        try (ResultSet rs = st.executeQuery()) {
          return rs.next() && rs.getLong(1) >= 0 ? rs.getLong(1) : -1;
        }
      }
    } catch (SQLException | IllegalArgumentException e) {
      return -1;
    }
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
          Reader reader = new Reader(rs, columns);
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
            Reader reader = new Reader(rs, columns);
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
  private static final class Reader {
    private static final int OTHER = 0;
    private static final int INSTANT = 1;
    private static final int WALL_CLOCK = 2;
    private static final int DAY = 3;
    private static final int JSON = 4;
    private static final int TEXT = 5;
    private final ResultSet rs;
    private final List<String> columns;
    private final int[] kinds;

    Reader(ResultSet rs, List<String> columns) throws SQLException {
      this.rs = rs;
      this.columns = columns;
      ResultSetMetaData meta = rs.getMetaData();
      kinds = new int[columns.size()];
      for (int i = 0; i < kinds.length; i++) {
        int type = meta.getColumnType(i + 1);
        String name = String.valueOf(meta.getColumnTypeName(i + 1)).toLowerCase(Locale.ROOT);
        if (type == Types.TIMESTAMP_WITH_TIMEZONE || name.contains("timestamptz") || name.contains("with time zone")) {
          kinds[i] = INSTANT;
        } else if (type == Types.TIMESTAMP) {
          kinds[i] = WALL_CLOCK;
        } else if (type == Types.DATE) {
          kinds[i] = DAY;
        } else if (name.startsWith("json")) {
          kinds[i] = JSON;
        } else if (type == Types.OTHER && !name.equals("uuid")) {
          kinds[i] = TEXT; // enums, intervals and the like: compared as the database prints them
        } else {
          kinds[i] = OTHER;
        }
      }
    }

    void read(Value[] values) throws SQLException {
      for (int i = 0; i < kinds.length; i++) {
        int column = i + 1;
        values[i] = switch (kinds[i]) {
          case INSTANT -> {
            OffsetDateTime time = rs.getObject(column, OffsetDateTime.class);
            yield time == null ? Value.NULL
                : Value.timestampMicros(ChronoUnit.MICROS.between(Instant.EPOCH, time.toInstant()));
          }
          case WALL_CLOCK -> {
            LocalDateTime time = rs.getObject(column, LocalDateTime.class);
            yield time == null ? Value.NULL : Value.localTimestampMicros(ChronoUnit.MICROS.between(EPOCH, time));
          }
          case DAY -> {
            LocalDate day = rs.getObject(column, LocalDate.class);
            yield day == null ? Value.NULL : Value.date((int) day.toEpochDay());
          }
          case JSON -> {
            String text = rs.getString(column);
            yield text == null ? Value.NULL : Value.json(text);
          }
          case TEXT -> {
            String text = rs.getString(column);
            yield text == null ? Value.NULL : Value.of(text);
          }
          default -> JdbcValues.fromJdbc(columns.get(i), rs.getObject(column));
        };
      }
    }
  }

}
