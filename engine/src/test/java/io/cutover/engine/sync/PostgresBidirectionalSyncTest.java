package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static io.cutover.engine.testing.TestSupport.url;
import static io.cutover.engine.testing.TestSupport.awaitSame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bi-directional sync between two real PostgreSQL databases, logical decoding on both sides, the users'
 * scenarios: authentication tables while users log in (monolith) and change passwords (service), inventory kept
 * exact under concurrent sales on both sides, and a rollback that finds the canary's writes in the monolith.
 */
@Timeout(180)
class PostgresBidirectionalSyncTest {
  private static final Duration SETTLE = Duration.ofSeconds(60);
  @TempDir Path dir;

  @Test
  void shouldKeepAuthenticationAndInventoryInSyncBothWaysWithoutEchoAndLoseNoSale() throws Exception {
    DataSource monolith = Postgres.newDatabase("bishop");
    DataSource service = Postgres.newDatabase("biwarehouse");
    exec(monolith, "CREATE TABLE users (id BIGINT PRIMARY KEY, email TEXT NOT NULL, password_hash TEXT, "
            + "last_login TIMESTAMPTZ, login_count INT NOT NULL DEFAULT 0)",
        "CREATE TABLE stock (sku TEXT PRIMARY KEY, on_hand INT NOT NULL, location TEXT)");
    exec(service, "CREATE TABLE credentials (user_id BIGINT PRIMARY KEY, email TEXT NOT NULL, password_hash TEXT, "
            + "last_login TIMESTAMPTZ, login_count INT NOT NULL DEFAULT 0)",
        "CREATE TABLE stock (sku TEXT PRIMARY KEY, on_hand INT NOT NULL, location TEXT)");
    exec(monolith, "INSERT INTO users SELECT g, 'u' || g || '@shop.test', 'h0', NULL, 0 FROM generate_series(1, 50) g",
        "INSERT INTO stock VALUES ('bolt', 5000, 'A1'), ('nut', 5000, 'A2')");
    exec(service, "INSERT INTO credentials SELECT g, 'u' || g || '@shop.test', 'h0', NULL, 0 "
            + "FROM generate_series(1, 50) g",
        "INSERT INTO stock VALUES ('bolt', 5000, 'A1'), ('nut', 5000, 'A2')");
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture monolithCapture = PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), user)
        .tables("users", "stock").slot("cutover_bi_monolith").replicaIdentityFull(true).build();
    PostgresLogicalCapture serviceCapture = PostgresLogicalCapture.builder(Side.service("warehouse"), url(service),
        user).tables("credentials", "stock").slot("cutover_bi_service").replicaIdentityFull(true).build();
    monolithCapture.install();
    serviceCapture.install();
    BidirectionalSync sync = BidirectionalSync.builder("warehouse", monolith, service, dir.resolve("state"))
        .table(TableMapping.renamed("users", "credentials").withColumns(Map.of("id", "user_id", "email", "email",
            "password_hash", "password_hash", "last_login", "last_login", "login_count", "login_count")),
            ConflictPolicy.LAST_WRITER_WINS.column("login_count", Rule.COUNTER))
        .table(TableMapping.identity("stock"), ConflictPolicy.LAST_WRITER_WINS.column("on_hand", Rule.COUNTER))
        .build();
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
        .ringSize(1024).build()).apply(sync).start()) {
      monolithCapture.start(pipeline);
      serviceCapture.start(pipeline);
      int rounds = 60;
      ExecutorService writers = Executors.newFixedThreadPool(4);
      List<Future<?>> done = new ArrayList<>();
      // Monolith: users log in (last_login, login_count) and the shop sells bolts.
      done.add(writers.submit(() -> run(monolith, rounds, (c, i) -> {
        try (PreparedStatement login = c.prepareStatement("UPDATE users SET last_login = now(), "
            + "login_count = login_count + 1 WHERE id = ?");
             PreparedStatement sell = c.prepareStatement("UPDATE stock SET on_hand = on_hand - 1 WHERE sku = 'bolt'")) {
          login.setLong(1, 1 + i % 50);
          login.executeUpdate();
          sell.executeUpdate();
        }
      })));
      // Service: users change passwords; the warehouse sells bolts and restocks nuts.
      done.add(writers.submit(() -> run(service, rounds, (c, i) -> {
        try (PreparedStatement password = c.prepareStatement("UPDATE credentials SET password_hash = ? "
            + "WHERE user_id = ?");
             PreparedStatement sell = c.prepareStatement("UPDATE stock SET on_hand = on_hand - 2 WHERE sku = 'bolt'");
             PreparedStatement restock = c.prepareStatement("UPDATE stock SET on_hand = on_hand + 5 "
                 + "WHERE sku = 'nut'")) {
          password.setString(1, "h" + i);
          password.setLong(2, 1 + i % 50);
          password.executeUpdate();
          sell.executeUpdate();
          restock.executeUpdate();
        }
      })));
      for (Future<?> f : done) {
        f.get();
      }
      writers.shutdown();
      awaitSame(monolith, "SELECT id, email, password_hash, last_login, login_count FROM users ORDER BY id", service,
          "SELECT user_id, email, password_hash, last_login, login_count FROM credentials ORDER BY user_id", SETTLE);
      awaitSame(monolith, "SELECT * FROM stock ORDER BY sku", service, "SELECT * FROM stock ORDER BY sku", SETTLE);
      assertEquals(List.of("bolt|" + (5000 - rounds - 2 * rounds) + "|A1", "nut|" + (5000 + 5 * rounds) + "|A2"),
          rows(monolith, "SELECT * FROM stock ORDER BY sku"));
      // Every login counted, every password change kept (each user changed password on the service only).
      assertEquals(List.of(String.valueOf(rounds)), rows(monolith, "SELECT SUM(login_count) FROM users"));
      assertEquals(List.of("h59"), rows(monolith, "SELECT password_hash FROM users WHERE id = 10"));
      // No echo: each side's changes were captured once (rounds x statements), nothing more.
      Thread.sleep(1_000);
      assertEquals(2L * rounds, monolithCapture.published());
      assertEquals(3L * rounds, serviceCapture.published());

      // Rollback of the canary: the service wrote new rows; they are all in the monolith too.
      exec(service, "INSERT INTO credentials VALUES (1001, 'canary@shop.test', 'hc', now(), 1)",
          "INSERT INTO stock VALUES ('washer', 7, 'C3')");
      awaitSame(monolith, "SELECT sku, on_hand FROM stock ORDER BY sku", service, "SELECT sku, on_hand FROM stock "
          + "ORDER BY sku", SETTLE);
      assertEquals(List.of("canary@shop.test"), rows(monolith, "SELECT email FROM users WHERE id = 1001"));
      SyncStats stats = sync.stats();
      assertTrue(stats.toService() >= 2L * rounds && stats.toMonolith() >= 3L * rounds, stats.toString());
    } finally {
      stop(sync, monolithCapture, serviceCapture);
    }
  }

  /**
   * The ABA race on logical decoding (see {@code BidirectionalSyncTest}): the service renames a row to the value
   * sync expects while its rename is on its way. Row transactions keep sync from taking that value for its own.
   */
  @Test
  void shouldNeverTakeAServiceWriteOfTheValueSyncExpectsForItsOwn() throws Exception {
    DataSource monolith = Postgres.newDatabase("abamono");
    DataSource service = Postgres.newDatabase("abasvc");
    for (DataSource side : List.of(monolith, service)) {
      exec(side, "CREATE TABLE item (id BIGINT PRIMARY KEY, name TEXT, stock INT NOT NULL)",
          "INSERT INTO item VALUES (2, 'n2', 100)");
    }
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture monolithCapture = PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), user)
        .tables("item").slot("cutover_aba_monolith").replicaIdentityFull(true).build();
    PostgresLogicalCapture serviceCapture = PostgresLogicalCapture.builder(Side.service("inventory"), url(service),
        user).tables("item").slot("cutover_aba_service").replicaIdentityFull(true).build();
    monolithCapture.install();
    serviceCapture.install();
    BidirectionalSync sync = BidirectionalSync.builder("inventory", monolith, service, dir.resolve("state"))
        .table(TableMapping.identity("item"), ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER)).build();
    String item = "SELECT id, name, stock FROM item";
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
        .ringSize(1024).build()).apply(sync).start()) {
      // Both captures are not running yet: the changes wait in the slots.
      exec(monolith, "UPDATE item SET name = 'c0' WHERE id = 2", "UPDATE item SET name = 'c1' WHERE id = 2");
      exec(service, "UPDATE item SET name = 'c0' WHERE id = 2");
      monolithCapture.start(pipeline);
      await(() -> sync.stats().toService() >= 2);
      // 'c0 where n2' then 'c1 where c0' reached the service: its own c0, not yet seen, is left alone.
      assertEquals(List.of("2|c0|100"), rows(service, item));
      exec(service, "UPDATE item SET name = 'c1' WHERE id = 2");
      serviceCapture.start(pipeline);
      await(() -> sync.stats().toMonolith() >= 2);
      awaitSame(monolith, item, service, item, SETTLE);
      // Each side's last rename was c1: so is the row, on both.
      assertEquals(List.of("2|c1|100"), rows(monolith, item));
    } finally {
      stop(sync, monolithCapture, serviceCapture);
    }
    assertEquals(List.of("0"), rows(service, "SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'cutover%'"),
        "uninstall removes the row transaction triggers");
  }

  /**
   * One service transaction adds to a counter twice while the monolith adds too: sync's write of the monolith's
   * delta waits for that transaction and then finds the row changed by it (so it is left to the transaction's
   * changes to take), and both changes of the transaction arrive with images taken before sync's answer. The
   * monolith's delta lands once: answered at the transaction's first change, not again at its second.
   */
  @Test
  void shouldAddADeltaOnceToARowATransactionChangedTwice() throws Exception {
    DataSource monolith = Postgres.newDatabase("twicemono");
    DataSource service = Postgres.newDatabase("twicesvc");
    for (DataSource side : List.of(monolith, service)) {
      exec(side, "CREATE TABLE item (id BIGINT PRIMARY KEY, name TEXT, stock INT NOT NULL)",
          "INSERT INTO item VALUES (2, 'n2', 100), (3, 'n3', 100)");
    }
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture monolithCapture = PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), user)
        .tables("item").slot("cutover_twice_monolith").replicaIdentityFull(true).build();
    PostgresLogicalCapture serviceCapture = PostgresLogicalCapture.builder(Side.service("inventory"), url(service),
        user).tables("item").slot("cutover_twice_service").replicaIdentityFull(true).build();
    monolithCapture.install();
    serviceCapture.install();
    BidirectionalSync sync = BidirectionalSync.builder("inventory", monolith, service, dir.resolve("state"))
        .table(TableMapping.identity("item"), ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER)).build();
    String item = "SELECT id, name, stock FROM item ORDER BY id";
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
        .ringSize(1024).build()).apply(sync).start()) {
      try (Connection c = service.getConnection()) {
        c.setAutoCommit(false);
        try (java.sql.Statement st = c.createStatement()) {
          st.execute("UPDATE item SET stock = stock + 1 WHERE id = 2");
          st.execute("UPDATE item SET name = 'renamed' WHERE id = 3");
          st.execute("UPDATE item SET stock = stock + 2 WHERE id = 2");
          st.execute("UPDATE item SET stock = stock + 3 WHERE id = 3");
        }
        c.commit();
      }
      exec(monolith, "UPDATE item SET stock = stock + 10 WHERE id = 2", "UPDATE item SET stock = stock + 20 "
          + "WHERE id = 3");
      monolithCapture.start(pipeline);
      await(() -> sync.stats().toService() >= 2);
      assertEquals(List.of("2|n2|103", "3|renamed|103"), rows(service, item),
          "the monolith's deltas wait for the service's changes to the rows");
      serviceCapture.start(pipeline);
      await(() -> sync.stats().toMonolith() >= 4);
      awaitSame(monolith, item, service, item, SETTLE);
      assertEquals(List.of("2|n2|113", "3|renamed|123"), rows(monolith, item), "every delta once, on both sides");
    } finally {
      stop(sync, monolithCapture, serviceCapture);
    }
  }

  /** Stops the captures and the sync, and removes what the captures installed. */
  static void stop(BidirectionalSync sync, PostgresLogicalCapture... captures) throws java.sql.SQLException {
    for (PostgresLogicalCapture capture : captures) {
      capture.close();
    }
    sync.close();
    for (PostgresLogicalCapture capture : captures) {
      capture.uninstall();
    }
  }

  private static void await(java.util.function.BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + SETTLE.toNanos();
    while (!condition.getAsBoolean()) {
      assertTrue(System.nanoTime() < deadline, "timed out");
      Thread.sleep(10);
    }
  }

  private interface Step {
    void run(Connection c, int i) throws Exception;
  }

  private static Void run(DataSource ds, int rounds, Step step) throws Exception {
    try (Connection c = ds.getConnection()) {
      for (int i = 0; i < rounds; i++) {
        step.run(c, i);
      }
    }
    return null;
  }
}
