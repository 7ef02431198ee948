package io.cutover.engine.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.SourcePosition;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Collector;
import io.cutover.engine.testing.Postgres;
import static io.cutover.engine.testing.TestSupport.exec;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** One contract, every capture method: the same writes produce the same change events. */
@Timeout(120)
class CaptureContractTest {
  @TempDir Path dir;

  /** A database with a capture method. */
  interface Target {
    DataSource database();

    ChangeCapture capture(String... tables);

    SourcePosition.Kind positionKind();
  }

  static final class H2Target implements Target {
    private final JdbcDataSource ds = new JdbcDataSource();

    H2Target() {
      ds.setURL("jdbc:h2:mem:contract-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    }

    @Override
    public DataSource database() {
      return ds;
    }

    @Override
    public ChangeCapture capture(String... tables) {
      return TriggerCapture.builder(Side.MONOLITH, ds).tables(tables).pollInterval(Duration.ofMillis(2)).build();
    }

    @Override
    public SourcePosition.Kind positionKind() {
      return SourcePosition.Kind.TRIGGER_SEQUENCE;
    }

    @Override
    public String toString() {
      return "trigger capture on H2";
    }
  }

  static final class PostgresTarget implements Target {
    final DataSource ds = Postgres.newDatabase("contract");
    final String url;
    final String slot = "cutover_slot_" + UUID.randomUUID().toString().substring(0, 8);

    PostgresTarget() {
      try (Connection c = ds.getConnection()) {
        url = c.getMetaData().getURL();
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public DataSource database() {
      return ds;
    }

    static Properties credentials() {
      Properties p = new Properties();
      p.setProperty("user", "postgres");
      return p;
    }

    @Override
    public PostgresLogicalCapture capture(String... tables) {
      return PostgresLogicalCapture.builder(Side.MONOLITH, url, credentials()).tables(tables).slot(slot)
          .replicaIdentityFull(true).heartbeat(Duration.ofMillis(200)).build();
    }

    @Override
    public SourcePosition.Kind positionKind() {
      return SourcePosition.Kind.LSN;
    }

    @Override
    public String toString() {
      return "logical decoding (pgoutput) on PostgreSQL";
    }
  }

  /** PostgreSQL without logical decoding: the same triggers and change table as H2, in PL/pgSQL. */
  static final class PostgresTriggerTarget implements Target {
    final DataSource ds = Postgres.newDatabase("contract_trigger");

    @Override
    public DataSource database() {
      return ds;
    }

    @Override
    public ChangeCapture capture(String... tables) {
      return TriggerCapture.builder(Side.MONOLITH, ds).tables(tables).pollInterval(Duration.ofMillis(2)).build();
    }

    @Override
    public SourcePosition.Kind positionKind() {
      return SourcePosition.Kind.TRIGGER_SEQUENCE;
    }

    @Override
    public String toString() {
      return "trigger capture on PostgreSQL";
    }
  }

  static Stream<Arguments> targets() {
    return Stream.of(Arguments.of(new H2Target()), Arguments.of(new PostgresTarget()),
        Arguments.of(new PostgresTriggerTarget()));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("targets")
  void shouldTurnCommittedWritesIntoTheSameChangeEvents(Target target) throws Exception {
    exec(target.database(), "CREATE TABLE stock (id BIGINT PRIMARY KEY, sku VARCHAR(20), qty INT, note VARCHAR(50))");
    Collector collector = new Collector();
    try (ChangeCapture capture = target.capture("stock");
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir)).ringSize(256).build())
             .apply(collector).start()) {
      capture.install();
      capture.start(pipeline);
      exec(target.database(),
          "INSERT INTO stock VALUES (1, 'a', 5, NULL)",
          "INSERT INTO stock VALUES (2, 'b', 1, 'x')",
          "UPDATE stock SET qty = 4 WHERE id = 1",
          "DELETE FROM stock WHERE id = 2");
      collector.await(4);
      assertEquals(4, capture.published());
      capture.close();
      capture.uninstall();
    }
    List<ChangeEvent> events = collector.events;
    assertEquals(List.of(Operation.INSERT, Operation.INSERT, Operation.UPDATE, Operation.DELETE),
        events.stream().map(ChangeEvent::operation).toList());
    assertEquals(List.of(1L, 2L, 1L, 2L), events.stream().map(e -> e.key().get("id").asLong()).toList());
    assertEquals(Row.of("id", Value.of(1), "sku", Value.of("a"), "qty", Value.of(5), "note", Value.NULL),
        events.get(0).after());
    ChangeEvent update = events.get(2);
    assertEquals(List.of("qty"), update.changedColumns());
    assertEquals(Value.of(5), update.before().get("qty"));
    assertEquals(Value.of(4), update.after().get("qty"));
    ChangeEvent delete = events.get(3);
    assertNull(delete.after());
    assertEquals(Value.of("x"), delete.before().get("note"));
    long previous = Long.MIN_VALUE;
    for (ChangeEvent event : events) {
      assertEquals("stock", event.table());
      assertEquals(Side.MONOLITH, event.side());
      assertEquals(target.positionKind(), event.position().kind());
      assertTrue(event.position().value() >= previous, "positions never go back");
      previous = event.position().value();
      assertTrue(event.hlc() > 0);
      assertTrue(event.commitTimeMicros() > 1_700_000_000_000_000L);
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("targets")
  void shouldRefuseATableWithoutPrimaryKey(Target target) throws Exception {
    exec(target.database(), "CREATE TABLE audit_log (msg VARCHAR(20))");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> target.capture("audit_log").install());
    assertTrue(e.getMessage().contains("'audit_log' has no primary key"), e.getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> target.capture("no_such_table").install());
    assertTrue(missing.getMessage().contains("'no_such_table' does not exist"), missing.getMessage());
  }

  static Stream<Arguments> triggerTargets() {
    return Stream.of(Arguments.of(new H2Target()), Arguments.of(new PostgresTriggerTarget()));
  }

  /** Sync's writes find a row's version under the key text they compute: the trigger must record the same. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("triggerTargets")
  void triggersRecordEachRowsLastApplicationChangeUnderTheKeyTextSyncComputes(Target target) throws Exception {
    UUID id = UUID.fromString("7c0e8e2a-35a4-4b8e-9f44-0b0c7d2a1e55");
    exec(target.database(), "CREATE TABLE part (sku VARCHAR(20), bin INT, qty INT, PRIMARY KEY (sku, bin))",
        "CREATE TABLE tag (id UUID PRIMARY KEY, label VARCHAR(20))");
    try (ChangeCapture capture = target.capture("part", "tag")) {
      capture.install();
      exec(target.database(), "INSERT INTO part VALUES ('a''b', 7, 1)", "UPDATE part SET qty = 2 WHERE bin = 7",
          "INSERT INTO tag VALUES ('" + id + "', 'x')");
      try (Connection apply = target.database().getConnection()) {
        io.cutover.engine.db.ApplySessions.mark(apply, "contract");
        try (Statement st = apply.createStatement()) {
          st.execute("INSERT INTO part VALUES ('c', 1, 1)");
        }
      }
      String part = io.cutover.engine.db.RowVersions.key(java.util.Map.of("SKU", Value.of("a'b"), "bin",
          Value.of(7L)));
      String tag = io.cutover.engine.db.RowVersions.key(java.util.Map.of("id", Value.of(id)));
      assertEquals(List.of("part|" + part.replace('\u001f', '/') + "|2", "tag|id=" + id + "|3"),
          io.cutover.engine.testing.TestSupport.rows(target.database(), "SELECT table_name, REPLACE(row_key, "
              + "CHR(31), '/'), seq FROM cutover_row_versions ORDER BY seq"),
          "one version per row, the last change's sequence number; Cutover's own write has none");
      capture.uninstall();
    }
  }

  @Test
  void postgresTriggerCaptureNeverSkipsAChangeWhoseTransactionCommitsLateAndIgnoresCutoversOwnWrites()
      throws Exception {
    PostgresTriggerTarget target = new PostgresTriggerTarget();
    exec(target.database(), "CREATE TABLE stock (id BIGINT PRIMARY KEY, qty INT)");
    Collector collector = new Collector();
    try (ChangeCapture capture = target.capture("stock");
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir)).ringSize(256).build())
             .apply(collector).start()) {
      capture.install();
      capture.start(pipeline);
      try (Connection slow = target.database().getConnection()) {
        slow.setAutoCommit(false);
        try (Statement st = slow.createStatement()) {
          st.execute("INSERT INTO stock VALUES (1, 1)"); // takes the lower sequence number, commits last
        }
        exec(target.database(), "INSERT INTO stock VALUES (2, 2)");
        collector.await(1);
        slow.commit();
      }
      collector.await(2);
      assertEquals(List.of(2L, 1L), collector.events.stream().map(e -> e.key().get("id").asLong()).toList(),
          "the late commit's change is delivered, not skipped as a gap");
      try (Connection apply = target.database().getConnection()) {
        io.cutover.engine.db.ApplySessions.mark(apply, "contract");
        try (Statement st = apply.createStatement()) {
          st.execute("INSERT INTO stock VALUES (3, 3)");
        }
      }
      exec(target.database(), "INSERT INTO stock VALUES (4, 4)");
      collector.await(3);
      assertEquals(4L, collector.events.get(2).key().get("id").asLong(), "Cutover's own write is not captured");
      capture.close();
      capture.uninstall();
    }
  }

  @Test
  void shouldConfirmTheLsnOnlyOnceJournaledAndDropTheSlotOnUninstall() throws Exception {
    PostgresTarget target = new PostgresTarget();
    exec(target.database(), "CREATE TABLE stock (id BIGINT PRIMARY KEY, qty INT)");
    Collector collector = new Collector();
    PostgresLogicalCapture capture = target.capture("stock");
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir)).ringSize(256).build())
        .apply(collector).start()) {
      capture.install();
      capture.install(); // idempotent
      long before = slotConfirmedLsn(target);
      capture.start(pipeline);
      exec(target.database(), "INSERT INTO stock VALUES (1, 1)");
      collector.await(1);
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (slotConfirmedLsn(target) <= before && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(slotConfirmedLsn(target) > before, "the slot's confirmed position moved past the change");
      assertTrue(capture.confirmedLsn() >= collector.events.get(0).position().value());
      capture.uninstall();
    }
    try (Connection c = target.database().getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT (SELECT count(*) FROM pg_replication_slots WHERE slot_name = '"
             + target.slot + "') + (SELECT count(*) FROM pg_publication)")) {
      rs.next();
      assertEquals(0, rs.getInt(1), "no slot or publication left behind");
    }
  }

  @Test
  void shouldRefuseASlotOfAnotherDatabase() throws Exception {
    PostgresTarget first = new PostgresTarget();
    PostgresTarget second = new PostgresTarget();
    exec(first.database(), "CREATE TABLE stock (id BIGINT PRIMARY KEY)");
    exec(second.database(), "CREATE TABLE stock (id BIGINT PRIMARY KEY)");
    PostgresLogicalCapture owner = first.capture("stock");
    owner.install();
    try {
      PostgresLogicalCapture intruder = PostgresLogicalCapture.builder(Side.MONOLITH, second.url,
          PostgresTarget.credentials()).tables("stock").slot(first.slot).build();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, intruder::install);
      assertTrue(e.getMessage().contains("belongs to database"), e.getMessage());
    } finally {
      owner.uninstall();
    }
  }

  private static long slotConfirmedLsn(PostgresTarget target) throws SQLException {
    try (Connection c = target.database().getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
             + "WHERE slot_name = '" + target.slot + "'")) {
      return rs.next() ? rs.getLong(1) : -1;
    }
  }
}
