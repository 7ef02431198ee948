package io.cutover.engine.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.config.ConfigException;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.testing.Postgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(120)
class MigrationTest {
  @TempDir Path dir;

  private static List<String> rows(Connection c, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        rows.add(rs.getString(1) + "|" + rs.getString(2));
      }
    }
    return rows;
  }

  @Test
  void shouldRunAMigrationFromItsConfigurationFile() throws Exception {
    String monolithUrl = "jdbc:h2:mem:mig-mono-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    DataSource payments = Postgres.newDatabase("mig_payments");
    String paymentsUrl;
    try (Connection c = payments.getConnection(); Statement st = c.createStatement()) {
      paymentsUrl = c.getMetaData().getURL();
      st.execute("CREATE TABLE payments (payment_id BIGINT PRIMARY KEY, amount NUMERIC(10,2))");
    }
    try (Connection mono = DriverManager.getConnection(monolithUrl, "sa", "")) {
      try (Statement st = mono.createStatement()) {
        st.execute("CREATE TABLE payment (id BIGINT PRIMARY KEY, amount DECIMAL(10,2), card VARCHAR(20))");
      }
      Path file = dir.resolve("cutover.yaml");
      Files.writeString(file, String.join("\n",
          "journal: {directory: journal}",
          "sides:",
          "  monolith: {url: '" + monolithUrl + "', user: sa}",
          "  services:",
          "    payments: {url: '" + paymentsUrl + "', user: postgres, slot: mig_payments}",
          "tables:",
          "  - {source: payment, service: payments, target: payments, columns: {id: payment_id, amount: amount},",
          "     conflicts: {rule: monolith_wins}}",
          "state: {directory: state}",
          ""));
      MigrationConfig config = MigrationConfig.load(file, Map.<String, String>of()::get);
      try (Migration migration = Migration.start(config)) {
        try (Statement st = mono.createStatement()) {
          st.execute("INSERT INTO payment VALUES (1, 9.99, 'visa')");
          st.execute("INSERT INTO payment VALUES (2, 5.00, 'amex')");
          st.execute("UPDATE payment SET amount = 10.49 WHERE id = 1");
          st.execute("DELETE FROM payment WHERE id = 2");
        }
        try (Connection svc = payments.getConnection()) {
          long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
          List<String> expected = List.of("1|10.49");
          while (!rows(svc, "SELECT payment_id, amount FROM payments ORDER BY 1").equals(expected)
              && System.nanoTime() < deadline) {
            Thread.sleep(20);
          }
          assertEquals(expected, rows(svc, "SELECT payment_id, amount FROM payments ORDER BY 1"));
        }
        assertEquals(4, migration.captures().get(0).published());
        // And back: the service's own writes reach the monolith (columns it does not have stay as they were).
        try (Connection svc = payments.getConnection(); Statement st = svc.createStatement()) {
          st.execute("INSERT INTO payments VALUES (3, 1.00)");
          st.execute("UPDATE payments SET amount = 11.00 WHERE payment_id = 1");
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> both = List.of("1|11.00", "3|1.00");
        while (!rows(mono, "SELECT id, amount FROM payment ORDER BY 1").equals(both) && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertEquals(both, rows(mono, "SELECT id, amount FROM payment ORDER BY 1"));
        assertEquals(List.of("1|visa"), rows(mono, "SELECT id, card FROM payment WHERE id = 1"));
        assertEquals(2, migration.captures().size());
        assertTrue(migration.syncs().get("payments").parked().isEmpty());
        assertFalse(migration.resolve(42L, io.cutover.engine.event.Side.MONOLITH), "no such parked conflict");
        assertTrue(Files.exists(dir.resolve("state").resolve("sync-payments.mv.db")));
        assertEquals(config, migration.config());
        assertTrue(migration.pipeline().journal().lastIndex() > 0);
      }
      // Finished: cleanup removes everything the migration left in both databases (a forgotten slot keeps WAL).
      List<String> left = Cleanup.run(config, true);
      assertTrue(left.contains("payments: replication slot mig_payments"), left.toString());
      assertTrue(left.contains("payments: publication mig_payments"), left.toString());
      assertTrue(left.contains("payments: replication origin cutover_sync_payments_service"), left.toString());
      assertTrue(left.contains("monolith: trigger cutover_capture_payment"), left.toString());
      assertTrue(left.contains("monolith: table cutover_apply_position"), left.toString());
      assertTrue(left.contains("monolith: table cutover_row_versions"), left.toString());
      assertEquals(left, Cleanup.run(config, false));
      assertEquals(List.of(), Cleanup.run(config, true));
      try (Connection svc = payments.getConnection()) {
        assertEquals(List.of(), rows(svc, "SELECT slot_name, database FROM pg_replication_slots WHERE slot_name = "
            + "'mig_payments'"));
      }
      Files.writeString(file, Files.readString(file).replace("amount: amount", "amount: total"));
      MigrationConfig wrong = MigrationConfig.load(file, Map.<String, String>of()::get);
      ConfigException e = assertThrows(ConfigException.class, () -> Migration.start(wrong));
      assertEquals("tables[0].columns.amount", e.key());
    }
  }

  @Test
  void aTableSyncedOneWayOnPostgresMirrorsTheMonolithWhateverTheServiceHeld() throws Exception {
    DataSource monolith = Postgres.newDatabase("oneway_mono");
    DataSource service = Postgres.newDatabase("oneway_svc");
    for (DataSource ds : List.of(monolith, service)) {
      io.cutover.engine.testing.TestSupport.exec(ds, "CREATE TABLE rates (code TEXT PRIMARY KEY, rate NUMERIC(10,4) "
          + "NOT NULL, hits BIGINT NOT NULL, updated TIMESTAMPTZ NOT NULL)");
    }
    // The service's copy went its own way before the migration started (its application wrote it, or an old
    // copy): a one-way table has one source of truth, so the monolith's next change of a row is what it holds.
    io.cutover.engine.testing.TestSupport.exec(monolith, "INSERT INTO rates VALUES "
        + "('EUR', 1.1000, 10, '2026-01-01 00:00:00+00'), ('GBP', 0.8500, 5, '2026-01-01 00:00:00+00'), "
        + "('JPY', 150.0000, 1, '2026-01-01 00:00:00+00')");
    io.cutover.engine.testing.TestSupport.exec(service, "INSERT INTO rates VALUES "
        + "('EUR', 1.0000, 99, '2025-06-01 00:00:00+00'), ('GBP', 0.8500, 5, '2026-01-01 00:00:00+00'), "
        + "('JPY', 150.0000, 1, '2026-01-01 00:00:00+00')");
    Path file = dir.resolve("oneway.yaml");
    Files.writeString(file, String.join("\n",
        "journal: {directory: journal-oneway}",
        "state: {directory: state-oneway}",
        "sides:",
        "  monolith: {url: '" + io.cutover.engine.testing.TestSupport.url(monolith) + "', user: postgres, "
            + "slot: oneway_m}",
        "  services:",
        "    pricing: {url: '" + io.cutover.engine.testing.TestSupport.url(service) + "', user: postgres, "
            + "slot: oneway_s}",
        "tables:",
        "  - {source: rates, service: pricing, direction: to_service, conflicts: {columns: {hits: counter}}}",
        ""));
    MigrationConfig config = MigrationConfig.load(file, Map.<String, String>of()::get);
    try (Migration migration = Migration.start(config)) {
      io.cutover.engine.testing.TestSupport.exec(monolith,
          "UPDATE rates SET rate = 1.2000, hits = hits + 1, updated = '2026-02-01 00:00:00+00' WHERE code = 'EUR'",
          "UPDATE rates SET code = 'CHF' WHERE code = 'GBP'",
          "INSERT INTO rates VALUES ('USD', 1.0000, 0, '2026-02-01 00:00:00+00')",
          "DELETE FROM rates WHERE code = 'JPY'");
      String all = "SELECT code, rate, hits, to_char(updated AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM rates "
          + "ORDER BY code";
      io.cutover.engine.testing.TestSupport.awaitSame(monolith, all, service, all, Duration.ofSeconds(30));
      assertEquals(List.of("CHF|0.8500|5|2026-01-01 00:00:00", "EUR|1.2000|11|2026-02-01 00:00:00",
          "USD|1.0000|0|2026-02-01 00:00:00"), io.cutover.engine.testing.TestSupport.rows(service, all));
      // The service's own writes of the table stay there (one way); the monolith's next change replaces them.
      io.cutover.engine.testing.TestSupport.exec(service, "UPDATE rates SET rate = 9.9999 WHERE code = 'USD'");
      io.cutover.engine.testing.TestSupport.exec(monolith, "UPDATE rates SET hits = 3 WHERE code = 'CHF'");
      io.cutover.engine.testing.TestSupport.awaitSame(monolith, "SELECT code, hits FROM rates ORDER BY code", service,
          "SELECT code, hits FROM rates ORDER BY code", Duration.ofSeconds(30));
      assertEquals(List.of("1.0000"), io.cutover.engine.testing.TestSupport.rows(monolith,
          "SELECT rate FROM rates WHERE code = 'USD'"));
      io.cutover.engine.testing.TestSupport.exec(monolith, "UPDATE rates SET hits = 1 WHERE code = 'USD'");
      io.cutover.engine.testing.TestSupport.awaitSame(monolith, all, service, all, Duration.ofSeconds(30));
      assertEquals(0, migration.syncs().get("pricing").conflicts(10).size(), "one-way changes are not conflicts");
      // no before images needed: the table keeps its replica identity (its primary key)
      assertEquals(List.of("d"), io.cutover.engine.testing.TestSupport.rows(monolith,
          "SELECT relreplident FROM pg_class WHERE oid = 'rates'::regclass"));
    } finally {
      Cleanup.run(config, false);
    }
  }

  @Test
  void shouldBackfillTheMappedTablesOnlineWhenTheConfigurationAsks() throws Exception {
    String monolithUrl = "jdbc:h2:mem:mig-bf-mono-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String serviceUrl = "jdbc:h2:mem:mig-bf-svc-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    try (Connection mono = DriverManager.getConnection(monolithUrl, "sa", "");
         Connection svc = DriverManager.getConnection(serviceUrl, "sa", "")) {
      try (Statement st = mono.createStatement()) {
        st.execute("CREATE TABLE customer (id BIGINT PRIMARY KEY, name VARCHAR(40))");
        st.execute("INSERT INTO customer SELECT X, 'c' || X FROM SYSTEM_RANGE(1, 250)");
      }
      try (Statement st = svc.createStatement()) {
        st.execute("CREATE TABLE users (user_id BIGINT PRIMARY KEY, display_name VARCHAR(40))");
      }
      Path file = dir.resolve("cutover.yaml");
      Files.writeString(file, String.join("\n",
          "journal: {directory: journal}",
          "sides:",
          "  monolith: {url: '" + monolithUrl + "', user: sa}",
          "  services:",
          "    accounts: {url: '" + serviceUrl + "', user: sa}",
          "tables:",
          "  - {source: customer, service: accounts, target: users, columns: {id: user_id, name: display_name}}",
          "state: {directory: state}",
          "backfill: {chunk: 40}",
          "api: {accounts: {port: 0, tables: [users]}}",
          ""));
      MigrationConfig config = MigrationConfig.load(file, Map.<String, String>of()::get);
      assertEquals(40, config.backfill().chunk());
      try (Migration migration = Migration.start(config)) {
        try (Statement st = mono.createStatement()) {
          st.execute("UPDATE customer SET name = 'renamed' WHERE id = 7");
        }
        assertTrue(migration.awaitBackfill(Duration.ofSeconds(60)));
        assertEquals(null, migration.backfillFailure());
        assertTrue(migration.backfill().progress().get("customer").done());
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<String> expected;
        try (Statement st = mono.createStatement()) {
          expected = rows(mono, "SELECT id, name FROM customer ORDER BY 1");
        }
        while (!rows(svc, "SELECT user_id, display_name FROM users ORDER BY 1").equals(expected)
            && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertEquals(expected, rows(svc, "SELECT user_id, display_name FROM users ORDER BY 1"));
        assertEquals(250, expected.size());
        assertTrue(expected.contains("7|renamed"));
        int port = migration.apis().get("accounts").port();
        java.net.http.HttpResponse<String> page = java.net.http.HttpClient.newHttpClient().send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + port
                + "/v1/users?display_name=eq.renamed")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals("[{\"user_id\":7,\"display_name\":\"renamed\"}]", page.body(),
            "the service's generated API serves what sync wrote");
      }
      // a second start finds the table done and copies nothing again
      try (Migration again = Migration.start(config)) {
        assertTrue(again.awaitBackfill(Duration.ofSeconds(30)));
        assertEquals(250, again.backfill().progress().get("customer").rowsDone());
      }
      Files.writeString(file, Files.readString(file).replace("accounts: {port: 0", "billing: {port: 0"));
      ConfigException unknownSide = assertThrows(ConfigException.class, () -> MigrationConfig.load(file,
          Map.<String, String>of()::get));
      assertTrue(unknownSide.getMessage().contains("api.billing"), unknownSide.getMessage());
      Files.writeString(file, Files.readString(file).replace("backfill: {chunk: 40}", "backfill: {chunk: lots}"));
      ConfigException bad = assertThrows(ConfigException.class, () -> MigrationConfig.load(file,
          Map.<String, String>of()::get));
      assertTrue(bad.getMessage().contains("backfill.chunk"), bad.getMessage());
    }
  }
}
