package io.cutover.engine.validate;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.migration.Cleanup;
import io.cutover.engine.migration.Migration;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The whole engine on real PostgreSQL, configured from YAML: logical decoding on both sides, bi-directional sync,
 * continuous validation at the eventual level with automatic repair by the monolith. Live traffic on both sides
 * raises no alarm; rows changed behind Cutover's back (a session under a foreign replication origin, which
 * capture skips) are reported once the marks written after the round's reads have passed the pipeline, repaired
 * through the journal, and audited.
 */
@Timeout(240)
class PostgresContinuousValidationTest {
  private static final String QUERY = "SELECT id, name, stock FROM item ORDER BY id";

  @Test
  void noFalseAlarmUnderLiveTrafficAndARealDivergenceIsReportedAndRepaired() throws Exception {
    DataSource monolith = Postgres.newDatabase("val_monolith");
    DataSource service = Postgres.newDatabase("val_service");
    for (DataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE item (id INT PRIMARY KEY, name TEXT, stock INT NOT NULL, price NUMERIC(10,2))",
          "INSERT INTO item SELECT g, 'n' || g, 100, g * 1.5 FROM generate_series(1, 500) g");
    }
    Path work = TestSupport.tempDir("cutover-pg-validation");
    Path file = work.resolve("cutover.yaml");
    Files.writeString(file, String.join("\n",
        "journal: {directory: journal}",
        "state: {directory: state}",
        "sides:",
        "  monolith: {url: '" + TestSupport.url(monolith) + "', user: postgres, slot: val_monolith}",
        "  services:",
        "    inventory: {url: '" + TestSupport.url(service) + "', user: postgres, slot: val_inventory}",
        "tables:",
        "  - {source: item, service: inventory, conflicts: {rule: last_writer_wins, columns: {stock: counter}}}",
        "validation: {interval: 250ms, consistency: eventual, tolerance: 2s, repair: monolith, depth: 8}",
        ""));
    MigrationConfig config = MigrationConfig.load(file);
    try {
      try (Migration migration = Migration.start(config)) {
        ContinuousValidator validation = migration.validations().get("inventory");
        AtomicBoolean stop = new AtomicBoolean();
        Thread a = traffic(monolith, stop);
        Thread b = traffic(service, stop);
        Thread.sleep(5_000);
        stop.set(true);
        a.join();
        b.join();
        TestSupport.awaitSame(monolith, QUERY, service, QUERY, Duration.ofSeconds(60));
        Thread.sleep(500);
        ValidationStats during = validation.stats();
        assertTrue(during.rounds() >= 5, during.toString());
        assertEquals(0, during.reported(), "no false alarm under live traffic: " + during);
        assertEquals(0, during.repaired());

        long divergedMicros = System.currentTimeMillis() * 1_000L;
        TestSupport.behindTheBack(service, "UPDATE item SET price = 0 WHERE id = 17", "DELETE FROM item WHERE id = 18");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (validation.stats().repaired() < 2 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        assertEquals(2, validation.stats().reported(), validation.stats().toString());
        TestSupport.awaitSame(monolith, QUERY, service, QUERY, Duration.ofSeconds(60));
        assertEquals(List.of("25.50"), rows(service, "SELECT price FROM item WHERE id = 17"));
        assertEquals(List.of("1"), rows(service, "SELECT count(*) FROM item WHERE id = 18"));
        List<AuditEntry> audit = migration.audit().read(divergedMicros, Long.MAX_VALUE);
        assertEquals(2, audit.stream().filter(e -> e.kind() == AuditEntry.Kind.DISCREPANCY).count(), audit::toString);
        assertEquals(2, audit.stream().filter(e -> e.kind() == AuditEntry.Kind.REPAIR).count(), audit::toString);
        assertTrue(migration.audit().read(0, divergedMicros).stream()
            .noneMatch(e -> e.kind() == AuditEntry.Kind.DISCREPANCY || e.kind() == AuditEntry.Kind.REPAIR),
            "no discrepancy and no repair before the divergence");
      }
    } finally {
      Cleanup.run(config, false);
      try (Connection c = service.getConnection()) {
        ApplySessions.dropOrigin(c, "someone_else");
      }
      TestSupport.delete(work);
    }
  }

  private static Thread traffic(DataSource ds, AtomicBoolean stop) {
    Thread thread = new Thread(() -> {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
        while (!stop.get()) {
          int id = 20 + random.nextInt(480);
          st.execute(random.nextBoolean() ? "UPDATE item SET stock = stock + 1 WHERE id = " + id
              : "UPDATE item SET name = 'x" + random.nextInt(5) + "', price = price + 1 WHERE id = " + id);
          Thread.sleep(3);
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    thread.start();
    return thread;
  }
}
