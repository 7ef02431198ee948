package io.cutover.engine.apply;

import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.db.Dialect;
import io.cutover.engine.db.JdbcValues;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.journal.Journal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Applies journaled changes to a target database. {@link #onChange} only maps and buffers; {@link #onBatchEnd}
 * writes the whole batch in one transaction (consecutive statements of one shape as one JDBC batch, in journal
 * order, so per-key order holds) together with the last journal index applied, in the target's
 * {@code cutover_apply_position} table. So the effect is exactly once: after a crash the pipeline skips what the
 * target already holds ({@link #durablePosition()}), and a failed commit is rolled back and the whole batch is
 * written again on retry, on a new connection.
 *
 * <p>Inserts and updates are upserts ({@code MERGE} on H2, {@code INSERT ... ON CONFLICT} on PostgreSQL) of the
 * columns the change carries; deletes are by primary key. Changes of unmapped tables, or from a side other than
 * the configured source, are ignored. Its sessions are marked as apply sessions, so capture on the target does
 * not send its writes back. One thread (the pipeline's).
 */
public final class JdbcApplier implements ChangeHandler, AutoCloseable {
  /** The table in the target that holds each applier's last applied journal index. */
  public static final String POSITION_TABLE = "cutover_apply_position";

  private final String name;
  private final DataSource target;
  private final Side source;
  private final Map<String, TableMapping> mappings = new HashMap<>();
  private final List<Statement1> pending = new ArrayList<>();
  private long pendingIndex = Journal.NO_INDEX;
  private Connection connection;
  private Dialect dialect;
  /** Target column types per target table, read once (for conversions between compatible types). */
  private final Map<String, Map<String, String>> columnTypes = new java.util.HashMap<>();

  /** One buffered statement and its parameters. */
  private record Statement1(String sql, List<Value> values) {}

  private JdbcApplier(Builder builder) {
    this.name = builder.name;
    this.target = builder.target;
    this.source = builder.source;
    for (TableMapping mapping : builder.mappings) {
      mappings.put(mapping.sourceTable().toLowerCase(Locale.ROOT), mapping);
    }
  }

  /**
   * Starts an applier.
   *
   * @param name its name, unique per target database (the checkpoint and the position row use it).
   * @param target the database written to.
   * @return a builder.
   */
  public static Builder builder(String name, DataSource target) {
    return new Builder(name, target);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public long durablePosition() throws SQLException {
    Connection c = connection();
    try (PreparedStatement ps = c.prepareStatement("SELECT journal_index FROM " + POSITION_TABLE
        + " WHERE applier = ?")) {
      ps.setString(1, name);
      try (ResultSet rs = ps.executeQuery()) {
        long position = rs.next() ? rs.getLong(1) : Journal.NO_INDEX;
        c.commit();
        return position;
      }
    }
  }

  @Override
  public void onChange(ChangeRecord change) {
    ChangeEvent event = change.decode();
    pendingIndex = change.journalIndex();
    if (source != null && !source.equals(event.side())) {
      return;
    }
    TableMapping mapping = mappings.get(event.table());
    if (mapping == null) {
      return;
    }
    List<String> keyColumns = new ArrayList<>();
    List<Value> keyValues = new ArrayList<>();
    for (Map.Entry<String, Value> column : event.key().columns().entrySet()) {
      String targetColumn = mapping.targetColumn(column.getKey());
      if (targetColumn == null) {
        throw new IllegalStateException("mapping of table " + event.table() + " drops key column "
            + column.getKey());
      }
      keyColumns.add(targetColumn);
      keyValues.add(converted(mapping, targetColumn, column.getValue(), types(mapping.targetTable())));
    }
    if (event.operation() == Operation.DELETE) {
      pending.add(new Statement1(dialect().deleteByKey(mapping.targetTable(), keyColumns), keyValues));
      return;
    }
    if (!mapping.accepts(event.after())) {
      // Filtered out: a row that leaves the filter (or might have been in it) is removed from the target.
      if (event.operation() == Operation.UPDATE && (event.before() == null || mapping.accepts(event.before()))) {
        pending.add(new Statement1(dialect().deleteByKey(mapping.targetTable(), keyColumns), keyValues));
      }
      return;
    }
    List<String> columns = new ArrayList<>();
    List<Value> values = new ArrayList<>();
    Row after = event.after();
    Map<String, String> types = types(mapping.targetTable());
    for (Map.Entry<String, Value> column : after.columns().entrySet()) {
      String targetColumn = mapping.targetColumn(column.getKey());
      if (targetColumn != null) {
        columns.add(targetColumn);
        values.add(converted(mapping, targetColumn, column.getValue(), types));
      }
    }
    for (int i = 0; i < keyColumns.size(); i++) {
      if (!columns.contains(keyColumns.get(i))) {
        columns.add(keyColumns.get(i));
        values.add(keyValues.get(i));
      }
    }
    pending.add(new Statement1(dialect().upsert(mapping.targetTable(), columns, keyColumns), values));
  }

  /** The highest position this applier recorded in the target. */
  private long written = Journal.NO_INDEX;

  @Override
  public void onBatchEnd() throws SQLException {
    if (pendingIndex == Journal.NO_INDEX) {
      return;
    }
    Connection c = connection();
    try {
      int i = 0;
      while (i < pending.size()) {
        String sql = pending.get(i).sql();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
          int j = i;
          while (j < pending.size() && pending.get(j).sql().equals(sql)) {
            List<Value> values = pending.get(j).values();
            for (int p = 0; p < values.size(); p++) {
              JdbcValues.bind(ps, p + 1, values.get(p));
            }
            ps.addBatch();
            j++;
          }
          ps.executeBatch();
          i = j;
        }
      }
      try (PreparedStatement ps = c.prepareStatement(dialect.upsert(POSITION_TABLE,
          List.of("applier", "journal_index"), List.of("applier")))) {
        ps.setString(1, name);
        ps.setLong(2, Math.max(pendingIndex, written)); // a replayed batch does not move the position back
        ps.executeUpdate();
      }
      c.commit();
      written = Math.max(pendingIndex, written);
      pending.clear();
      pendingIndex = Journal.NO_INDEX;
    } catch (SQLException | RuntimeException e) {
      discardConnection();
      throw e;
    }
  }

  private Map<String, String> types(String table) {
    Map<String, String> known = columnTypes.get(table);
    if (known == null) {
      try {
        known = io.cutover.engine.db.ValueConversions.columnTypes(connection(), table);
      } catch (SQLException e) {
        throw new IllegalStateException("columns of " + table + " on applier '" + name + "''s target cannot be read: "
            + e.getMessage(), e);
      }
      columnTypes.put(table, known);
    }
    return known;
  }

  private static Value converted(TableMapping mapping, String column, Value value, Map<String, String> types) {
    String type = types.get(column.toLowerCase(java.util.Locale.ROOT));
    if (type == null) {
      return value; // unknown column: the database will say so
    }
    Value out = io.cutover.engine.db.ValueConversions.toColumn(value, type);
    if (out == null) {
      throw new IllegalStateException("a " + value.type() + " value cannot be written to " + mapping.targetTable()
          + "." + column + " (" + type + ") without loss");
    }
    return out;
  }

  private Dialect dialect() {
    if (dialect == null) {
      try {
        connection();
      } catch (SQLException e) {
        throw new IllegalStateException("target database of applier '" + name + "' unreachable: " + e, e);
      }
    }
    return dialect;
  }

  private Connection connection() throws SQLException {
    if (connection == null) {
      Connection c = target.getConnection();
      try {
        dialect = Dialect.of(c);
        ApplySessions.mark(c, name);
        try (Statement st = c.createStatement()) {
          st.execute("CREATE TABLE IF NOT EXISTS " + POSITION_TABLE
              + " (applier VARCHAR(64) PRIMARY KEY, journal_index BIGINT NOT NULL)");
        }
        c.setAutoCommit(false);
      } catch (SQLException | RuntimeException e) {
        c.close();
        throw e;
      }
      connection = c;
    }
    return connection;
  }

  private void discardConnection() {
    columnTypes.clear(); // read again: a failure may come from a schema that changed
    DataSources.discard(connection);
    connection = null;
  }

  /** Closes the connection to the target. */
  @Override
  public void close() {
    discardConnection();
  }

  /** Builds a {@link JdbcApplier}. Not thread-safe. */
  public static final class Builder {
    private final String name;
    private final DataSource target;
    private final List<TableMapping> mappings = new ArrayList<>();
    private Side source;

    private Builder(String name, DataSource target) {
      this.name = Objects.requireNonNull(name, "applier name");
      this.target = Objects.requireNonNull(target, "target");
    }

    /**
     * Adds table mappings.
     *
     * @param value the mappings.
     * @return this builder.
     */
    public Builder map(TableMapping... value) {
      mappings.addAll(List.of(value));
      return this;
    }

    /**
     * Applies only changes from this side (the other direction's changes are for another applier).
     *
     * @param value the source side.
     * @return this builder.
     */
    public Builder source(Side value) {
      this.source = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the applier.
     */
    public JdbcApplier build() {
      if (mappings.isEmpty()) {
        throw new IllegalArgumentException("applier '" + name + "' maps no tables");
      }
      return new JdbcApplier(this);
    }
  }
}
