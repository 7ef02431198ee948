package io.cutover.engine.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.h2.jdbcx.JdbcDataSource;
import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Trigger capture on the embedded H2 default, through the pipeline, into a mapped service table. */
@Timeout(60)
class TriggerCaptureApplyTest {
  @TempDir Path dir;
  private JdbcDataSource monolith;
  private JdbcDataSource service;
  private final List<AutoCloseable> open = new ArrayList<>();

  private static JdbcDataSource h2(String name) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + name + "-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return ds;
  }

  @BeforeEach
  void databases() throws SQLException {
    monolith = h2("monolith");
    service = h2("accounts");
    exec(monolith, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(100), email VARCHAR(200), "
        + "login_count INT, balance DECIMAL(10,2), created_at TIMESTAMP)");
    exec(service, "CREATE TABLE accounts (user_id BIGINT PRIMARY KEY, display_name VARCHAR(100), "
        + "email VARCHAR(200), balance DECIMAL(10,2))");
  }

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      Thread.sleep(10);
    }
  }

  private static BooleanSupplier rowsEqual(JdbcDataSource ds, String sql, List<String> expected) {
    return () -> {
      try {
        return rows(ds, sql).equals(expected);
      } catch (SQLException e) {
        return false;
      }
    };
  }

  private static final String ACCOUNTS = "SELECT user_id, display_name, email, balance FROM accounts ORDER BY user_id";

  private JdbcApplier applier() {
    JdbcApplier applier = JdbcApplier.builder("accounts", service)
        .source(Side.MONOLITH)
        .map(TableMapping.renamed("users", "accounts").withColumns(Map.of(
            "id", "user_id", "name", "display_name", "email", "email", "balance", "balance")))
        .build();
    open.add(applier);
    return applier;
  }

  private Pipeline pipeline(JdbcApplier applier) {
    Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
        .ringSize(256).retryBackoff(Duration.ofMillis(5), Duration.ofMillis(50)).build()).apply(applier).start();
    open.add(pipeline);
    return pipeline;
  }

  private TriggerCapture capture() throws SQLException {
    TriggerCapture capture = TriggerCapture.builder(Side.MONOLITH, monolith).tables("users")
        .pollInterval(Duration.ofMillis(2)).build();
    capture.install();
    open.add(capture);
    return capture;
  }

  @Test
  void shouldCaptureInsertsUpdatesAndDeletesAndApplyThemMappedToTheService() throws Exception {
    TriggerCapture capture = capture();
    capture.start(pipeline(applier()));
    exec(monolith,
        "INSERT INTO users VALUES (1, 'Ada', 'ada@example.com', 3, 10.50, TIMESTAMP '2026-01-02 03:04:05')",
        "INSERT INTO users VALUES (2, 'Grace', 'grace@example.com', 0, 0.00, NULL)",
        "INSERT INTO users VALUES (3, 'Linus', NULL, 7, 99.99, NULL)",
        "UPDATE users SET name = 'Ada L.', login_count = 4 WHERE id = 1",
        "DELETE FROM users WHERE id = 2");
    List<String> expected = List.of("1|Ada L.|ada@example.com|10.50", "3|Linus|null|99.99");
    await("the service to match the monolith", rowsEqual(service, ACCOUNTS, expected));
    assertEquals(5, capture.published());
    await("the change table to be purged", () -> {
      try {
        return rows(monolith, "SELECT COUNT(*) FROM cutover_changes").equals(List.of("0"));
      } catch (SQLException e) {
        return false;
      }
    });
    assertEquals(List.of("monolith|5"), rows(monolith, "SELECT side, last_seq FROM cutover_capture_state"));
  }

  @Test
  void shouldNotSkipAChangeWhoseTransactionCommitsAfterAHigherSequenceNumber() throws Exception {
    TriggerCapture capture = capture();
    capture.start(pipeline(applier()));
    try (Connection slow = monolith.getConnection(); Connection fast = monolith.getConnection()) {
      slow.setAutoCommit(false);
      try (Statement st = slow.createStatement()) {
        st.execute("INSERT INTO users (id, name) VALUES (10, 'slow')"); // takes change sequence 1
      }
      try (Statement st = fast.createStatement()) {
        st.execute("INSERT INTO users (id, name) VALUES (11, 'fast')"); // takes 2, commits first
      }
      await("the later-numbered change", rowsEqual(service, "SELECT user_id FROM accounts", List.of("11")));
      slow.commit();
    }
    await("the earlier-numbered change committed later",
        rowsEqual(service, "SELECT user_id FROM accounts ORDER BY user_id", List.of("10", "11")));
    await("the position to pass the closed gap", rowsEqual(monolith, "SELECT last_seq FROM cutover_capture_state",
        List.of("2")));
  }

  @Test
  void shouldApplyEachChangeExactlyOnceAcrossARestartThatLostTheCheckpoint() throws Exception {
    TriggerCapture capture = capture();
    Pipeline pipeline = pipeline(applier());
    capture.start(pipeline);
    exec(monolith, "INSERT INTO users (id, name, balance) VALUES (1, 'Ada', 1.00)");
    await("first sync", rowsEqual(service, ACCOUNTS, List.of("1|Ada|null|1.00")));
    assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
    capture.close();
    pipeline.close();
    // Simulate a crash after the target committed but before the pipeline checkpoint: rewind the checkpoint,
    // and change the service row by hand. Replaying the change would overwrite the hand-made value.
    try (Journal journal = Journal.open(JournalConfig.of(dir.resolve("journal")))) {
      journal.checkpoint("apply.accounts").rewind(Journal.NO_INDEX);
    }
    exec(service, "UPDATE accounts SET display_name = 'changed by hand' WHERE user_id = 1");
    JdbcApplier again = applier();
    java.util.concurrent.atomic.AtomicInteger offered = new java.util.concurrent.atomic.AtomicInteger();
    io.cutover.engine.pipeline.ChangeHandler fresh = new io.cutover.engine.pipeline.ChangeHandler() {
      @Override
      public String name() {
        return "fresh";
      }

      @Override
      public void onChange(io.cutover.engine.pipeline.ChangeRecord change) {
        offered.incrementAndGet();
      }
    };
    Pipeline restarted = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
        .ringSize(256).build()).apply(again, fresh).start();
    open.add(restarted);
    assertTrue(restarted.awaitIdle(Duration.ofSeconds(10)));
    assertEquals(1, offered.get(), "the journal replays the change to a handler that has not seen it");
    assertEquals(List.of("1|changed by hand|null|1.00"), rows(service, ACCOUNTS),
        "the applier's own position in the target made it skip the change");
    assertEquals(restarted.journal().lastIndex(), again.durablePosition());
  }

  @Test
  void shouldRetryUntilTheTargetCanTakeTheChangesWithoutLosingAny() throws Exception {
    exec(service, "DROP TABLE accounts");
    TriggerCapture capture = capture();
    capture.start(pipeline(applier()));
    exec(monolith, "INSERT INTO users (id, name) VALUES (1, 'a')", "INSERT INTO users (id, name) VALUES (2, 'b')");
    Thread.sleep(100);
    exec(service, "CREATE TABLE accounts (user_id BIGINT PRIMARY KEY, display_name VARCHAR(100), "
        + "email VARCHAR(200), balance DECIMAL(10,2))");
    exec(monolith, "UPDATE users SET name = 'b2' WHERE id = 2");
    await("the target to catch up", rowsEqual(service, "SELECT user_id, display_name FROM accounts ORDER BY user_id",
        List.of("1|a", "2|b2")));
  }

  @Test
  void shouldNotCaptureWhatCutoverItselfApplied() throws Exception {
    TriggerCapture serviceCapture = TriggerCapture.builder(Side.service("accounts"), service).tables("accounts")
        .pollInterval(Duration.ofMillis(2)).build();
    serviceCapture.install();
    open.add(serviceCapture);
    TriggerCapture capture = capture();
    Pipeline pipeline = pipeline(applier());
    capture.start(pipeline);
    serviceCapture.start(pipeline);
    exec(monolith, "INSERT INTO users (id, name) VALUES (1, 'a')", "UPDATE users SET name = 'b' WHERE id = 1");
    await("sync", rowsEqual(service, "SELECT display_name FROM accounts", List.of("b")));
    Thread.sleep(100);
    assertEquals(0, serviceCapture.published(), "rows written by the apply session were not captured");
    exec(service, "UPDATE accounts SET email = 'app@example.com' WHERE user_id = 1");
    await("an application write on the service to be captured", () -> serviceCapture.published() == 1);
  }

  @Test
  void shouldRefuseTablesItCannotCaptureAndCreateNothing() throws Exception {
    exec(monolith, "CREATE TABLE audit (msg VARCHAR(10))");
    IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
        () -> TriggerCapture.builder(Side.MONOLITH, monolith).tables("users", "audit").build().install());
    assertTrue(noKey.getMessage().contains("'audit' has no primary key"), noKey.getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> TriggerCapture.builder(Side.MONOLITH, monolith).tables("nope").build().install());
    assertTrue(missing.getMessage().contains("'nope' does not exist"), missing.getMessage());
    assertTrue(rows(monolith, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'CUTOVER%'")
        .isEmpty(), "nothing was created");
    assertThrows(IllegalArgumentException.class, () -> TriggerCapture.builder(Side.MONOLITH, monolith).build());
    assertThrows(IllegalArgumentException.class,
        () -> TriggerCapture.builder(Side.MONOLITH, monolith).tables("bad name").build());
    assertThrows(IllegalArgumentException.class, () -> JdbcApplier.builder("x", service).build());
  }

  @Test
  void shouldRemoveEverythingItInstalled() throws Exception {
    TriggerCapture capture = capture();
    capture.install();
    assertFalse(rows(monolith, "SELECT trigger_name FROM information_schema.triggers").isEmpty());
    IllegalArgumentException otherSide = assertThrows(IllegalArgumentException.class, () ->
        TriggerCapture.builder(Side.service("x"), monolith).tables("users").build().install());
    assertTrue(otherSide.getMessage().contains("already captured as side 'monolith'"), otherSide.getMessage());
    capture.uninstall();
    assertTrue(rows(monolith, "SELECT trigger_name FROM information_schema.triggers").isEmpty());
    assertTrue(rows(monolith, "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'CUTOVER%'")
        .isEmpty());
    exec(monolith, "INSERT INTO users (id) VALUES (1)");
  }

  @Test
  void shouldCarryEveryCommonColumnTypeAcross() throws Exception {
    exec(monolith, "CREATE TABLE kinds (id UUID PRIMARY KEY, b BOOLEAN, i INT, s SMALLINT, l BIGINT, d DOUBLE, "
        + "n NUMERIC(12,3), t VARCHAR(20), bin VARBINARY(8), dt DATE, ts TIMESTAMP, tz TIMESTAMP WITH TIME ZONE)");
    exec(service, "CREATE TABLE kinds (id UUID PRIMARY KEY, b BOOLEAN, i INT, s SMALLINT, l BIGINT, d DOUBLE, "
        + "n NUMERIC(12,3), t VARCHAR(20), bin VARBINARY(8), dt DATE, ts TIMESTAMP, tz TIMESTAMP WITH TIME ZONE)");
    TriggerCapture capture = TriggerCapture.builder(Side.MONOLITH, monolith).tables("kinds")
        .pollInterval(Duration.ofMillis(2)).build();
    capture.install();
    open.add(capture);
    JdbcApplier applier = JdbcApplier.builder("kinds", service).map(TableMapping.identity("kinds")).build();
    open.add(applier);
    capture.start(pipeline(applier));
    exec(monolith, "INSERT INTO kinds VALUES ('123e4567-e89b-12d3-a456-426614174000', TRUE, 7, 3, 9000000000, 1.5, "
        + "12.500, 'text', X'0102', DATE '2026-11-24', TIMESTAMP '2026-11-24 10:11:12.123456', "
        + "TIMESTAMP WITH TIME ZONE '2026-11-24 10:11:12+02:00')");
    // timestamp with time zone travels as an instant: the offset arrives normalised to UTC
    String all = "SELECT id, b, i, s, l, d, n, t, RAWTOHEX(bin), dt, ts, "
        + "EXTRACT(EPOCH FROM tz) FROM kinds";
    await("all types", () -> {
      try {
        return rows(service, all).equals(rows(monolith, all)) && !rows(service, all).isEmpty();
      } catch (SQLException e) {
        return false;
      }
    });
    assertEquals(new BigDecimal("12.500").toPlainString(), rows(service, "SELECT n FROM kinds").get(0));
    assertEquals(List.of("0102"), rows(service, "SELECT RAWTOHEX(bin) FROM kinds"));
  }

  @Test
  void shouldSplitRowsByAFilterMovingThemInAndOutAsTheyChange() throws Exception {
    exec(monolith, "ALTER TABLE users ADD COLUMN region VARCHAR(5)");
    TriggerCapture capture = capture();
    JdbcApplier applier = JdbcApplier.builder("eu-accounts", service).source(Side.MONOLITH)
        .map(TableMapping.renamed("users", "accounts")
            .withColumns(Map.of("id", "user_id", "name", "display_name"))
            .withFilter(Map.of("region", java.util.Set.of("eu", "uk"))))
        .build();
    open.add(applier);
    capture.start(pipeline(applier));
    exec(monolith,
        "INSERT INTO users (id, name, region) VALUES (1, 'in-eu', 'eu')",
        "INSERT INTO users (id, name, region) VALUES (2, 'in-us', 'us')",
        "INSERT INTO users (id, name, region) VALUES (3, 'in-uk', 'uk')",
        "UPDATE users SET region = 'us' WHERE id = 3",
        "UPDATE users SET region = 'eu', name = 'moved' WHERE id = 2");
    await("only the rows in the filter", rowsEqual(service,
        "SELECT user_id, display_name FROM accounts ORDER BY user_id", List.of("1|in-eu", "2|moved")));
    assertTrue(TableMapping.identity("t").accepts(null), "no filter takes every row");
    assertFalse(TableMapping.identity("t").withFilter(Map.of("r", java.util.Set.of("1"))).accepts(null));
  }
}
