package io.cutover.engine.capture;

import io.cutover.engine.capture.internal.ChangeTableReader;
import io.cutover.engine.capture.internal.H2ChangeTrigger;
import io.cutover.engine.capture.internal.PgChangeRows;
import io.cutover.engine.capture.internal.PgInstall;
import io.cutover.engine.capture.internal.TriggerSchema;
import io.cutover.engine.db.Dialect;
import io.cutover.engine.db.RowVersions;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.agrona.concurrent.UnsafeBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Trigger capture for databases without logical decoding: the embedded H2 default, and PostgreSQL without
 * {@code wal_level=logical} (or where a replication slot is not wanted). {@link #install()} creates a change table,
 * a sequence and one row trigger per captured table; the trigger records each change in the writer's transaction
 * (H2: a Java trigger encodes the change; PostgreSQL: a PL/pgSQL trigger stores the row images as JSONB, decoded
 * by the capture with the columns' types). A capture thread reads the change table in sequence order with gap detection (a
 * change whose transaction commits after a higher-numbered one is not skipped), publishes to the pipeline,
 * and once the pipeline has made a batch durable deletes those rows and records the position, in one
 * transaction. Rows written by Cutover's apply sessions are not captured (no echo).
 *
 * <p>Delivery is at least once: a crash between publishing and recording the position re-publishes those rows.
 */
public final class TriggerCapture extends ThreadedCapture {
  private static final Logger LOG = LoggerFactory.getLogger(TriggerCapture.class);

  private static final long IDLE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final int IDLE_SLOWDOWN = 8;

  private final DataSource dataSource;
  private final List<String> tables;
  private final Duration pollInterval;
  private final Duration gapTimeout;
  private final int batchSize;
  private TriggerCapture(Builder builder) {
    super(builder.side);
    this.dataSource = builder.dataSource;
    this.tables = List.copyOf(builder.tables);
    this.pollInterval = builder.pollInterval;
    this.gapTimeout = builder.gapTimeout;
    this.batchSize = builder.batchSize;
  }

  /**
   * Starts a capture of one database.
   *
   * @param side the side the database is.
   * @param dataSource how to reach it.
   * @return a builder.
   */
  public static Builder builder(Side side, DataSource dataSource) {
    return new Builder(side, dataSource);
  }

  @Override
  public void install() throws SQLException {
    try (Connection connection = dataSource.getConnection()) {
      Dialect dialect = Dialect.of(connection);
      java.util.Map<String, List<String>> keys = new java.util.HashMap<>();
      for (String table : tables) {
        keys.put(table, checkTable(connection, dialect.name(table)));
      }
      if (dialect == Dialect.POSTGRESQL) {
        PgInstall.inTransaction(connection, "installing trigger capture", st -> installIn(connection, st, dialect,
            keys));
        return;
      }
      connection.setAutoCommit(false);
      try (Statement st = connection.createStatement()) {
        installIn(connection, st, dialect, keys);
        connection.commit();
      } catch (SQLException | RuntimeException e) {
        connection.rollback();
        throw e;
      }
    }
  }

  /** Creates capture's tables, functions and triggers in the connection's transaction. */
  private void installIn(Connection connection, Statement st, Dialect dialect,
      java.util.Map<String, List<String>> keys) throws SQLException {
    if (dialect == Dialect.H2) {
      st.execute("CREATE TABLE IF NOT EXISTS " + TriggerSchema.CHANGE_TABLE
          + " (seq BIGINT PRIMARY KEY, tbl VARCHAR(128) NOT NULL, event VARBINARY NOT NULL)");
    } else {
      st.execute(PgChangeRows.CHANGE_TABLE);
    }
    st.execute(RowVersions.CREATE);
    st.execute("CREATE SEQUENCE IF NOT EXISTS " + TriggerSchema.SEQUENCE + " START WITH 1");
    st.execute("CREATE TABLE IF NOT EXISTS " + TriggerSchema.CONFIG_TABLE
        + " (side VARCHAR(64) NOT NULL, last_seq BIGINT NOT NULL)");
    String sideName = side.isMonolith() ? "monolith" : side.service();
    try (ResultSet rs = st.executeQuery("SELECT side FROM " + TriggerSchema.CONFIG_TABLE)) {
      if (rs.next()) {
        if (!rs.getString(1).equals(sideName)) {
          throw new IllegalArgumentException("this database is already captured as side '" + rs.getString(1)
              + "', not '" + sideName + "'");
        }
      } else {
        try (PreparedStatement ps = connection.prepareStatement("INSERT INTO " + TriggerSchema.CONFIG_TABLE
            + " (side, last_seq) VALUES (?, 0)")) {
          ps.setString(1, sideName);
          ps.executeUpdate();
        }
      }
    }
    if (dialect == Dialect.POSTGRESQL) {
      for (String sql : PgChangeRows.function(PostgresLogicalCapture.currentSchema(st))) {
        st.execute(sql);
      }
    }
    for (String table : tables) {
      if (dialect == Dialect.H2) {
        st.execute("CREATE TRIGGER IF NOT EXISTS " + TriggerSchema.TRIGGER_PREFIX + table + " AFTER INSERT, "
            + "UPDATE, DELETE ON " + table + " FOR EACH ROW CALL '" + H2ChangeTrigger.class.getName() + "'");
      } else {
        String trigger = RowVersions.pgName(TriggerSchema.TRIGGER_PREFIX, table);
        String legacy = TriggerSchema.TRIGGER_PREFIX + table;
        if (!trigger.equals(legacy) && PgInstall.triggerExists(connection, table, legacy)) {
          // an older version's name, cut by PostgreSQL to 63 bytes: two triggers would capture twice
          st.execute("DROP TRIGGER " + legacy + " ON " + table);
        }
        // the key's columns are the function's arguments: it records the row's version under them (left alone
        // when in place as wanted: replacing it locks the application out of the table)
        if (!PgInstall.triggerIsCurrent(connection, table, trigger, "cutover_capture", keys.get(table))) {
          st.execute("DROP TRIGGER IF EXISTS " + trigger + " ON " + table);
          st.execute("CREATE TRIGGER " + trigger + " AFTER INSERT OR UPDATE OR DELETE"
              + " ON " + table + " FOR EACH ROW EXECUTE FUNCTION cutover_capture("
              + RowVersions.triggerArguments(keys.get(table)) + ")");
        }
      }
    }
  }

  /** Checks that a table exists and has a primary key; returns the key's columns (lower case). */
  private static List<String> checkTable(Connection connection, String table) throws SQLException {
    String physical = Dialect.of(connection) == Dialect.H2 ? table.toUpperCase(Locale.ROOT)
        : table.toLowerCase(Locale.ROOT);
    String schema = connection.getSchema();
    try (ResultSet rs = connection.getMetaData().getTables(null, schema, physical, null)) {
      if (!rs.next()) {
        throw new IllegalArgumentException("table '" + table + "' does not exist in the captured database");
      }
    }
    List<String> keys = new java.util.ArrayList<>();
    try (ResultSet rs = connection.getMetaData().getPrimaryKeys(null, schema, physical)) {
      while (rs.next()) {
        keys.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
      }
    }
    if (keys.isEmpty()) {
      throw new IllegalArgumentException("table '" + table + "' has no primary key: Cutover needs one to "
          + "identify rows");
    }
    return keys;
  }

  /**
   * Removes every object {@link #install()} created (triggers, change table, sequence, state). Changes not yet
   * captured are lost: run it once a migration is finished or abandoned.
   *
   * @throws SQLException if the database refuses.
   */
  @Override
  public void uninstall() throws SQLException {
    try (Connection connection = dataSource.getConnection(); Statement st = connection.createStatement()) {
      boolean postgres = Dialect.of(connection) == Dialect.POSTGRESQL;
      for (String table : tables) {
        st.execute("DROP TRIGGER IF EXISTS " + (postgres ? RowVersions.pgName(TriggerSchema.TRIGGER_PREFIX, table)
            + " ON " + table : TriggerSchema.TRIGGER_PREFIX + table));
      }
      if (postgres) {
        st.execute("DROP FUNCTION IF EXISTS cutover_capture()");
      }
      st.execute("DROP TABLE IF EXISTS " + TriggerSchema.CHANGE_TABLE);
      st.execute("DROP TABLE IF EXISTS " + RowVersions.TABLE);
      st.execute("DROP SEQUENCE IF EXISTS " + TriggerSchema.SEQUENCE);
      st.execute("DROP TABLE IF EXISTS " + TriggerSchema.CONFIG_TABLE);
    }
  }

  @Override
  protected void run(Pipeline pipeline) {
    ChangeTableReader reader = null;
    UnsafeBuffer view = new UnsafeBuffer(new byte[0]);
    long[] lastRing = {-1L};
    long backoffMillis = pollInterval.toMillis();
    while (running) {
      try (Connection connection = dataSource.getConnection()) {
        if (reader == null) {
          if (Dialect.of(connection) == Dialect.POSTGRESQL) {
            java.util.Map<String, io.cutover.engine.analysis.Schema.Table> shapes = new java.util.HashMap<>();
            io.cutover.engine.analysis.Schema.read(dataSource, tables).tables().forEach(t -> shapes.put(t.name(), t));
            PgChangeRows rows = new PgChangeRows(side, shapes);
            reader = new ChangeTableReader(lastSeq(connection), gapTimeout.toMillis(), batchSize,
                System::currentTimeMillis, PgChangeRows.COLUMNS, rows::decode);
          } else {
            reader = new ChangeTableReader(lastSeq(connection), gapTimeout.toMillis(), batchSize,
                System::currentTimeMillis);
          }
        }
        ChangeTableReader current = reader;
        long lastChange = System.nanoTime();
        while (running) {
          long before = current.contiguous();
          int count = current.poll(connection, (seq, event) -> {
            view.wrap(event);
            EventCodec.positionValue(view, 0, seq);
            EventCodec.hlc(view, 0, stamp(EventCodec.commitTimeMicros(view, 0)));
            lastRing[0] = pipeline.publishEncoded(view, 0, event.length);
          });
          if (count > 0) {
            lastChange = System.nanoTime();
            countPublished(count);
            while (running && !pipeline.awaitDurable(lastRing[0], Duration.ofSeconds(1))) {
              LOG.debug("capture of {} waiting for the journal", side);
            }
          }
          if (current.contiguous() > before) {
            recordPosition(connection, current.contiguous());
          }
          backoffMillis = pollInterval.toMillis();
          if (count == 0) {
            // after a second without changes, polls 8 times less often (an idle capture costs a few queries a
            // second; the first change after a quiet spell waits 8 poll intervals at most)
            TimeUnit.MILLISECONDS.sleep(System.nanoTime() - lastChange < IDLE_AFTER_NANOS ? pollInterval.toMillis()
                : pollInterval.toMillis() * IDLE_SLOWDOWN);
          }
        }
      } catch (SQLException | RuntimeException e) {
        LOG.warn("capture of {} failed, retrying in {} ms: {}", side, backoffMillis, e.toString());
        sleepQuietly(backoffMillis);
        backoffMillis = Math.min(backoffMillis * 2, 5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private static long lastSeq(Connection connection) throws SQLException {
    try (Statement st = connection.createStatement();
         ResultSet rs = st.executeQuery("SELECT last_seq FROM " + TriggerSchema.CONFIG_TABLE)) {
      if (!rs.next()) {
        throw new SQLException("capture is not installed: " + TriggerSchema.CONFIG_TABLE + " is empty");
      }
      return rs.getLong(1);
    }
  }

  /** Deletes the durable rows and records the position in one transaction. */
  private static void recordPosition(Connection connection, long contiguous) throws SQLException {
    connection.setAutoCommit(false);
    try (PreparedStatement delete = connection.prepareStatement("DELETE FROM " + TriggerSchema.CHANGE_TABLE
        + " WHERE seq <= ?");
         PreparedStatement update = connection.prepareStatement("UPDATE " + TriggerSchema.CONFIG_TABLE
             + " SET last_seq = ?")) {
      delete.setLong(1, contiguous);
      delete.executeUpdate();
      update.setLong(1, contiguous);
      update.executeUpdate();
      connection.commit();
    } catch (SQLException e) {
      connection.rollback();
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
  }

  private static void sleepQuietly(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Builds a {@link TriggerCapture}. Not thread-safe. */
  public static final class Builder {
    private final Side side;
    private final DataSource dataSource;
    private final List<String> tables = new ArrayList<>();
    private Duration pollInterval = Duration.ofMillis(10);
    private Duration gapTimeout = Duration.ofMinutes(10);
    private int batchSize = 1_000;

    private Builder(Side side, DataSource dataSource) {
      this.side = Objects.requireNonNull(side, "side");
      this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Adds tables to capture.
     *
     * @param names table names.
     * @return this builder.
     */
    public Builder tables(String... names) {
      for (String name : names) {
        tables.add(Dialect.H2.name(name).toLowerCase(Locale.ROOT));
      }
      return this;
    }

    /**
     * Sets how long the capture thread sleeps when there is nothing to read (default 10 ms).
     *
     * @param value the interval.
     * @return this builder.
     */
    public Builder pollInterval(Duration value) {
      this.pollInterval = value;
      return this;
    }

    /**
     * Sets how long a missing sequence number is awaited before it is taken for a rolled-back transaction
     * (default 10 min). Changes after a gap are published at once; only the recorded position waits.
     *
     * @param value the timeout.
     * @return this builder.
     */
    public Builder gapTimeout(Duration value) {
      this.gapTimeout = value;
      return this;
    }

    /**
     * Sets the most changes read in one poll (default 1000).
     *
     * @param value the count.
     * @return this builder.
     */
    public Builder batchSize(int value) {
      this.batchSize = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the capture.
     * @throws IllegalArgumentException naming the setting that is wrong.
     */
    public TriggerCapture build() {
      if (tables.isEmpty()) {
        throw new IllegalArgumentException("trigger capture of " + side + " names no tables");
      }
      if (pollInterval.isNegative() || pollInterval.isZero() || gapTimeout.isNegative() || batchSize < 1) {
        throw new IllegalArgumentException("trigger capture of " + side
            + ": pollInterval and gapTimeout must be positive and batchSize at least 1");
      }
      return new TriggerCapture(this);
    }
  }
}
