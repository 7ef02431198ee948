package io.cutover.engine.capture;

import io.cutover.engine.capture.internal.PgInstall;
import io.cutover.engine.capture.internal.PgOutputDecoder;
import io.cutover.engine.db.Dialect;
import io.cutover.engine.db.RowVersions;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import java.nio.ByteBuffer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Captures a PostgreSQL database through logical decoding: the {@code pgoutput} plugin over the replication
 * protocol. {@link #install()} checks {@code wal_level}, the tables and their primary keys, and creates the
 * publication and the replication slot (optionally setting {@code REPLICA IDENTITY FULL} so updates and deletes
 * carry the whole old row). The capture thread decodes each transaction, publishes its changes, and confirms the
 * transaction's LSN to the server only once the journal has made its last change durable: a crash re-delivers
 * from the slot and never loses. On a quiet database a heartbeat confirms the received position when nothing is
 * outstanding, so the slot does not hold WAL.
 *
 * <p>Delivery is at least once; {@link #uninstall()} drops the slot and the publication (a forgotten slot makes
 * PostgreSQL keep WAL forever).
 */
public final class PostgresLogicalCapture extends ThreadedCapture {
  private static final long IDLE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final long IDLE_POLL_MILLIS = 10;
  private static final long ACTIVE_POLL_NANOS = 500_000;
  private static final long QUIET_AFTER_NANOS = TimeUnit.SECONDS.toNanos(10);
  private static final long QUIET_POLL_MILLIS = 50;
  private static final Logger LOG = LoggerFactory.getLogger(PostgresLogicalCapture.class);

  private final String url;
  private final Properties properties;
  private final List<String> tables;
  private final String slot;
  private final String publication;
  /** Which captured tables get REPLICA IDENTITY FULL at install. */
  private final java.util.function.Predicate<String> fullIdentity;
  private final Duration heartbeat;
  private final AtomicLong confirmedLsn = new AtomicLong();
  private final boolean serverOriginFilter;
  private final boolean rowVersions;

  private PostgresLogicalCapture(Builder builder) {
    super(builder.side);
    this.url = builder.url;
    this.properties = builder.properties;
    this.tables = List.copyOf(builder.tables);
    String base = side.isMonolith() ? "monolith" : side.service().replace('-', '_');
    this.slot = builder.slot != null ? builder.slot : "cutover_" + base;
    this.publication = builder.publication != null ? builder.publication : "cutover_" + base;
    this.fullIdentity = builder.fullIdentity;
    this.heartbeat = builder.heartbeat;
    this.serverOriginFilter = builder.serverOriginFilter;
    this.rowVersions = builder.rowVersions;
  }

  /**
   * Starts a capture.
   *
   * @param side the side the database is.
   * @param jdbcUrl {@code jdbc:postgresql://host:port/database}.
   * @param properties user and password (from the environment or a file, never inline in configuration).
   * @return a builder.
   */
  public static Builder builder(Side side, String jdbcUrl, Properties properties) {
    return new Builder(side, jdbcUrl, properties);
  }

  private Connection connect() throws SQLException {
    return DriverManager.getConnection(url, properties);
  }

  @Override
  public void install() throws SQLException {
    try (Connection c = connect(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SHOW wal_level")) {
        rs.next();
        if (!"logical".equals(rs.getString(1))) {
          throw new IllegalArgumentException("PostgreSQL at " + url + " has wal_level=" + rs.getString(1)
              + ": logical decoding needs wal_level=logical (restart required), or use trigger capture");
        }
      }
      Map<String, Set<String>> keys = primaryKeys(c);
      if (rowVersions) {
        installRowTransactions(c, keys);
      }
      for (String table : tables) {
        if (fullIdentity.test(table)) {
          // only when needed: it takes the table's strongest lock, which would stall the application at every start
          try (PreparedStatement ps = c.prepareStatement("SELECT relreplident FROM pg_class WHERE oid = "
              + "to_regclass(?)")) {
            ps.setString(1, table);
            try (ResultSet rs = ps.executeQuery()) {
              if (rs.next() && "f".equals(rs.getString(1))) {
                continue;
              }
            }
          }
          PgInstall.inTransaction(c, "setting REPLICA IDENTITY FULL on " + table, alter -> alter.execute(
              "ALTER TABLE " + table + " REPLICA IDENTITY FULL"));
        }
      }
      boolean exists;
      try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_publication WHERE pubname = ?")) {
        ps.setString(1, publication);
        try (ResultSet rs = ps.executeQuery()) {
          exists = rs.next();
        }
      }
      st.execute((exists ? "ALTER PUBLICATION " + publication + " SET TABLE " : "CREATE PUBLICATION " + publication
          + " FOR TABLE ") + String.join(", ", tables));
      try (PreparedStatement ps = c.prepareStatement("SELECT plugin, database, database = current_database() "
          + "FROM pg_replication_slots WHERE slot_name = ?")) {
        ps.setString(1, slot);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            if (!rs.getBoolean(3)) {
              throw new IllegalArgumentException("replication slot " + slot + " belongs to database "
                  + rs.getString(2) + ": slots are shared by the whole server, so choose another slot name");
            }
            if (!"pgoutput".equals(rs.getString(1))) {
              throw new IllegalArgumentException("replication slot " + slot + " exists with plugin "
                  + rs.getString(1) + ", not pgoutput");
            }
          } else {
            try (PreparedStatement create = c.prepareStatement(
                "SELECT pg_create_logical_replication_slot(?, 'pgoutput')")) {
              create.setString(1, slot);
              create.execute();
            }
          }
        }
      }
    }
  }

  /**
   * Row transactions ({@link RowVersions#TRANSACTIONS}): a trigger per table records the last application
   * transaction to change each row, which sync's writes to this side check.
   */
  private void installRowTransactions(Connection c, Map<String, Set<String>> keys) throws SQLException {
    // One transaction: were a trigger replaced while the application writes, an application transaction committed
    // between a DROP and a CREATE of their own would go unrecorded (sync would then take the row's older version for
    // the last one and hold back its writes to that row for good). A trigger in place as wanted is left alone: a
    // restart takes no lock on the application's tables (PgInstall).
    PgInstall.inTransaction(c, "installing row transactions", st -> {
      st.execute(RowVersions.CREATE_TRANSACTIONS);
      String schema = currentSchema(st);
      for (String table : tables) {
        String trigger = RowVersions.pgName(RowVersions.TRANSACTION_TRIGGER_PREFIX, table);
        String legacy = RowVersions.TRANSACTION_TRIGGER_PREFIX + table.replace('.', '_');
        if (!legacy.equals(trigger) && PgInstall.triggerExists(c, table, legacy)) {
          st.execute("DROP TRIGGER " + legacy + " ON " + table); // PostgreSQL cut it to 63 bytes
        }
        for (String sql : RowVersions.pgTransactionFunction(table, new ArrayList<>(keys.get(table)), schema)) {
          st.execute(sql); // CREATE OR REPLACE FUNCTION: no lock on the table
        }
        if (!PgInstall.triggerIsCurrent(c, table, trigger, trigger, List.of())) {
          st.execute("DROP TRIGGER IF EXISTS " + trigger + " ON " + table);
          st.execute("CREATE TRIGGER " + trigger + " AFTER INSERT OR UPDATE OR DELETE ON " + table
              + " FOR EACH ROW EXECUTE FUNCTION " + RowVersions.transactionFunction(table));
        }
      }
    });
  }

  /** The schema Cutover's tables are created in: the session's current one. */
  static String currentSchema(Statement st) throws SQLException {
    try (ResultSet rs = st.executeQuery("SELECT current_schema()")) {
      if (!rs.next() || rs.getString(1) == null) {
        throw new SQLException("no current schema to create Cutover's tables in (check the role's search_path)");
      }
      return rs.getString(1);
    }
  }

  private Map<String, Set<String>> primaryKeys(Connection c) throws SQLException {
    Map<String, Set<String>> keys = new HashMap<>();
    for (String table : tables) {
      Set<String> columns = new HashSet<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT a.attname FROM pg_index i JOIN pg_attribute a "
          + "ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indisprimary AND i.indrelid = "
          + "to_regclass(?)")) {
        ps.setString(1, table);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            columns.add(rs.getString(1));
          }
        }
      }
      if (columns.isEmpty()) {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?)")) {
          ps.setString(1, table);
          try (ResultSet rs = ps.executeQuery()) {
            rs.next();
            if (rs.getString(1) == null) {
              throw new IllegalArgumentException("table '" + table + "' does not exist in " + url);
            }
          }
        }
        throw new IllegalArgumentException("table '" + table + "' has no primary key: Cutover needs one to "
            + "identify rows");
      }
      keys.put(table, columns);
    }
    return keys;
  }

  /**
   * Drops the replication slot and the publication (and stops capture first).
   *
   * @throws SQLException if the database refuses.
   */
  @Override
  public void uninstall() throws SQLException {
    close();
    try (Connection c = connect(); Statement st = c.createStatement()) {
      st.execute("DROP PUBLICATION IF EXISTS " + publication);
      for (String table : tables) {
        try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?)")) {
          ps.setString(1, table);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next() && rs.getString(1) != null) {
              st.execute("DROP TRIGGER IF EXISTS " + RowVersions.pgName(RowVersions.TRANSACTION_TRIGGER_PREFIX, table)
                  + " ON " + table);
            }
          }
        }
        st.execute("DROP FUNCTION IF EXISTS " + RowVersions.transactionFunction(table));
      }
      st.execute("DROP TABLE IF EXISTS " + RowVersions.TRANSACTIONS);
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ? "
              + "AND database = current_database()")) {
        ps.setString(1, slot);
        ps.execute();
      }
    }
  }

  private record Pending(CompletableFuture<Long> durable, long lsn) {}

  /** How long a stream must have run for its failure to count as a new outage (the back-off starts again). */
  private static final long STREAMED_LONG_ENOUGH_NANOS = TimeUnit.SECONDS.toNanos(1);
  /** When the current stream started (capture thread only); 0 while not streaming. */
  private long streamingSince;

  @Override
  protected void run(Pipeline pipeline) {
    long backoff = 100;
    while (running) {
      try {
        stream(pipeline);
        backoff = 100;
      } catch (SQLException | RuntimeException e) {
        if (!running) {
          return;
        }
        if (streamingSince != 0 && System.nanoTime() - streamingSince >= STREAMED_LONG_ENOUGH_NANOS) {
          // a new outage, not the same one going on: start waiting from the shortest back-off again (stream
          // only returns when capture stops, so without this the back-off grew over the engine's whole life)
          backoff = 100;
        }
        streamingSince = 0;
        LOG.warn("logical capture of {} failed, reconnecting in {} ms: {}", side, backoff, e.toString());
        try {
          TimeUnit.MILLISECONDS.sleep(backoff);
        } catch (InterruptedException interrupted) {
          return;
        }
        backoff = Math.min(backoff * 2, 5_000);
      }
    }
  }

  /** Streams until stopped; the stream is opened, read and closed on this thread only. */
  private void stream(Pipeline pipeline) throws SQLException {
    Map<String, Set<String>> keys;
    boolean originFilter;
    try (Connection c = connect()) {
      keys = primaryKeys(c);
      originFilter = serverOriginFilter && c.getMetaData().getDatabaseMajorVersion() >= 16;
    }
    Properties replication = new Properties();
    replication.putAll(properties);
    PGProperty.REPLICATION.set(replication, "database");
    PGProperty.ASSUME_MIN_SERVER_VERSION.set(replication, "12");
    PGProperty.PREFER_QUERY_MODE.set(replication, "simple");
    try (Connection c = DriverManager.getConnection(url, replication)) {
      var builder = c.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
          .withSlotName(slot)
          .withSlotOption("proto_version", "1")
          .withSlotOption("publication_names", publication)
          .withStatusInterval(1, TimeUnit.SECONDS);
      if (originFilter) {
        // Cutover's own apply sessions replay under a replication origin: never decode them (no echo).
        builder = builder.withSlotOption("origin", "none");
      }
      PGReplicationStream stream = builder.start();
      streamingSince = System.nanoTime();
      try {
        PgOutputDecoder decoder = new PgOutputDecoder(side, keys);
        ArrayDeque<Pending> pending = new ArrayDeque<>();
        CompletableFuture<Long> lastOfTransaction = null;
        long lastHeartbeat = System.nanoTime();
        long lastMessage = lastHeartbeat;
        while (running) {
          long polled = System.nanoTime();
          ByteBuffer message = stream.readPending();
          if (message == null) {
            long now = System.nanoTime();
            confirmDurable(stream, pending);
            if (pending.isEmpty() && lastOfTransaction == null && now - lastHeartbeat > heartbeat.toNanos()) {
              lastHeartbeat = now;
              LogSequenceNumber received = stream.getLastReceiveLSN();
              if (received.asLong() > confirmedLsn.get()) {
                confirm(stream, received.asLong());
              }
            }
            // A poll that finds nothing waits on the socket for up to 1 ms (the driver's peek, woken by the first
            // byte) and costs the driver a timeout exception: while changes flow that wait is the only one; after
            // a second without any, 10 ms between polls; after ten seconds, 50 ms (an idle capture polls 20 times
            // a second, and the first change after a long quiet spell waits 50 ms at most).
            long quiet = now - lastMessage;
            if (quiet >= IDLE_AFTER_NANOS) {
              TimeUnit.MILLISECONDS.sleep(quiet < QUIET_AFTER_NANOS ? IDLE_POLL_MILLIS : QUIET_POLL_MILLIS);
            } else if (now - polled < ACTIVE_POLL_NANOS) {
              TimeUnit.MILLISECONDS.sleep(1); // the driver did not wait (it peeks only now and then)
            }
            continue;
          }
          lastMessage = polled;
          switch (decoder.decode(message, stream.getLastReceiveLSN().asLong())) {
            case CHANGE -> {
              ChangeEvent change = decoder.event();
              lastOfTransaction = pipeline.publish(change.withHlc(stamp(change.commitTimeMicros())));
              countPublished(1);
            }
            case COMMIT -> {
              if (lastOfTransaction != null) {
                pending.add(new Pending(lastOfTransaction, decoder.commitEndLsn()));
                lastOfTransaction = null;
              } else {
                pending.add(new Pending(CompletableFuture.completedFuture(0L), decoder.commitEndLsn()));
              }
            }
            default -> { }
          }
          confirmDurable(stream, pending);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } finally {
        stream.close();
      }
    }
  }

  /** Confirms every transaction whose last change is durable in the journal, in order. */
  private void confirmDurable(PGReplicationStream stream, ArrayDeque<Pending> pending) throws SQLException {
    long lsn = 0;
    while (!pending.isEmpty() && pending.peek().durable().isDone()) {
      Pending done = pending.poll();
      if (done.durable().isCompletedExceptionally()) {
        throw new SQLException("the pipeline did not journal a change of the transaction ending at LSN "
            + LogSequenceNumber.valueOf(done.lsn()) + "; it will be re-delivered");
      }
      lsn = done.lsn();
    }
    if (lsn != 0) {
      confirm(stream, lsn);
    }
  }

  private void confirm(PGReplicationStream stream, long lsn) throws SQLException {
    LogSequenceNumber position = LogSequenceNumber.valueOf(lsn);
    stream.setFlushedLSN(position);
    stream.setAppliedLSN(position);
    // Told to the server at most every CONFIRM_EVERY_NANOS (and by the driver's own status messages): one status
    // message per transaction cost the walsender and this thread a round of system calls each, at thousands of
    // transactions a second. Only the server's WAL retention waits on it; nothing is confirmed before it is
    // journaled.
    long now = System.nanoTime();
    if (now - lastStatus >= CONFIRM_EVERY_NANOS) {
      stream.forceUpdateStatus();
      lastStatus = now;
    }
    confirmedLsn.set(lsn);
  }

  /** When the last status message went to the server. */
  private long lastStatus = System.nanoTime() - CONFIRM_EVERY_NANOS;
  /** At most this often a status message confirming journaled transactions goes to the server. */
  private static final long CONFIRM_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  /**
   * The last LSN confirmed to the server (everything before it is durable in the journal).
   *
   * @return the LSN, 0 before the first confirmation.
   */
  public long confirmedLsn() {
    return confirmedLsn.get();
  }

  /** Builds a {@link PostgresLogicalCapture}. Not thread-safe. */
  public static final class Builder {
    private final Side side;
    private final String url;
    private final Properties properties;
    private final List<String> tables = new ArrayList<>();
    private String slot;
    private String publication;
    private java.util.function.Predicate<String> fullIdentity = table -> false;
    private Duration heartbeat = Duration.ofSeconds(10);
    private boolean serverOriginFilter = true;
    private boolean rowVersions = true;

    private Builder(Side side, String url, Properties properties) {
      this.side = Objects.requireNonNull(side, "side");
      this.url = Objects.requireNonNull(url, "jdbcUrl");
      this.properties = Objects.requireNonNull(properties, "properties");
    }

    /**
     * Adds tables to capture.
     *
     * @param names table names.
     * @return this builder.
     */
    public Builder tables(String... names) {
      for (String name : names) {
        tables.add(Dialect.POSTGRESQL.name(name).toLowerCase(Locale.ROOT));
      }
      return this;
    }

    /**
     * Sets the replication slot's name (default {@code cutover_<side>}).
     *
     * @param value the name.
     * @return this builder.
     */
    public Builder slot(String value) {
      this.slot = Dialect.POSTGRESQL.name(value);
      return this;
    }

    /**
     * Sets the publication's name (default {@code cutover_<side>}).
     *
     * @param value the name.
     * @return this builder.
     */
    public Builder publication(String value) {
      this.publication = Dialect.POSTGRESQL.name(value);
      return this;
    }

    /**
     * Whether to have the server drop transactions replayed under a replication origin ({@code origin 'none'},
     * PostgreSQL 16+; default true). Without it, or on older servers, such transactions arrive marked with their
     * origin and are skipped while decoding: either way Cutover's own writes are not captured again.
     *
     * @param value false to filter while decoding only.
     * @return this builder.
     */
    public Builder serverOriginFilter(boolean value) {
      this.serverOriginFilter = value;
      return this;
    }

    /**
     * Sets {@code REPLICA IDENTITY FULL} on the tables at install, so updates and deletes carry whole before
     * images (needed for per-column conflict detection).
     *
     * @param value true to set it.
     * @return this builder.
     */
    public Builder replicaIdentityFull(boolean value) {
      this.fullIdentity = table -> value;
      return this;
    }

    /**
     * Sets {@code REPLICA IDENTITY FULL} at install on these of the captured tables only (those synced both ways:
     * a table copied one way needs no before images, and its writers then log less).
     *
     * @param value the tables.
     * @return this builder.
     */
    public Builder replicaIdentityFull(Set<String> value) {
      this.fullIdentity = Set.copyOf(value)::contains;
      return this;
    }

    /**
     * Whether to record each row's last application transaction at install (default true): a trigger per table
     * and the table {@code cutover_row_transactions}, which bi-directional sync's writes to this side check so
     * that they never overwrite a change they have not seen yet, whatever its values (see
     * {@link io.cutover.engine.db.RowVersions}). It costs one upsert per changed row in the application's
     * transaction; without it sync conditions its writes on values alone.
     *
     * @param value false to leave the tables without triggers.
     * @return this builder.
     */
    public Builder rowVersions(boolean value) {
      this.rowVersions = value;
      return this;
    }

    /**
     * Sets how often, when idle, the received position is confirmed so the slot holds no WAL (default 10 s).
     *
     * @param value the interval.
     * @return this builder.
     */
    public Builder heartbeat(Duration value) {
      this.heartbeat = value;
      return this;
    }

    /**
     * Validates and builds.
     *
     * @return the capture.
     */
    public PostgresLogicalCapture build() {
      if (tables.isEmpty()) {
        throw new IllegalArgumentException("logical capture of " + side + " names no tables");
      }
      return new PostgresLogicalCapture(this);
    }
  }
}
