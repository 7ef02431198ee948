package io.cutover.engine.validate;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.event.Side;
import io.cutover.engine.sync.ConflictPolicy;
import io.cutover.engine.sync.H2SyncFixture;
import io.cutover.engine.testing.TestSupport;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Continuous validation under live bi-directional sync: no false alarm while rows are in transit; a divergence
 * made behind Cutover's back (a session the capture does not see) is reported once it outlives the tolerance,
 * repaired through the pipeline, and the whole story is in the audit log.
 */
@Timeout(180)
class ContinuousValidationTest {
  private static final TableMapping ITEM = TableMapping.identity("item");
  private static final String DDL = "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(40), stock INT NOT NULL)";

  private static H2SyncFixture fixture(Path dir) throws Exception {
    H2SyncFixture f = new H2SyncFixture(dir, "inventory", new String[] {"item"}, new String[] {"item"},
        b -> b.table(ITEM, ConflictPolicy.LAST_WRITER_WINS));
    exec(f.monolith, DDL);
    exec(f.service, DDL);
    for (int k = 1; k <= 300; k++) {
      exec(f.monolith, "INSERT INTO item VALUES (" + k + ", 'n" + k + "', 100)");
      exec(f.service, "INSERT INTO item VALUES (" + k + ", 'n" + k + "', 100)");
    }
    f.start();
    return f;
  }

  /** Writes on a session the capture ignores, as if someone patched the database by hand around Cutover. */
  private static void behindTheBack(DataSource ds, String... sql) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      ApplySessions.mark(c, "someone_else");
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  @Test
  void eventualLevelRaisesNoFalseAlarmUnderTrafficThenReportsAndRepairsARealDivergence() throws Exception {
    Path dir = TestSupport.tempDir("cutover-continuous");
    List<Discrepancy> alerts = new CopyOnWriteArrayList<>();
    Duration tolerance = Duration.ofMillis(1500);
    try (H2SyncFixture f = fixture(dir); AuditLog audit = AuditLog.open(dir.resolve("audit"))) {
      Repairer repairer = new Repairer(f.pipeline, Side.service("inventory"), f.clock, audit).table(ITEM, true);
      try (ContinuousValidator validation = ContinuousValidator.builder(Validator.builder("inventory", f.monolith,
          f.service).depth(6).build()).table(ITEM).consistency(Consistency.EVENTUAL).tolerance(tolerance)
          .interval(Duration.ofMillis(150)).clock(f.clock).listener(alerts::add).audit(audit)
          .autoRepair(repairer, Authority.MONOLITH).build().start()) {
        AtomicBoolean stop = new AtomicBoolean();
        Thread monolithTraffic = traffic(f.monolith, stop, 0);
        Thread serviceTraffic = traffic(f.service, stop, 1);
        Thread.sleep(4_000);
        stop.set(true);
        monolithTraffic.join();
        serviceTraffic.join();
        f.awaitQuiet();
        long roundsDuringTraffic = validation.stats().rounds();
        assertTrue(roundsDuringTraffic >= 5, "validation ran during the traffic: " + validation.stats());
        assertTrue(validation.stats().heldBack() > 0, "rows in flight were seen and held back: "
            + validation.stats());
        assertEquals(List.of(), alerts, "no false alarm under live traffic");

        long start = System.currentTimeMillis() * 1_000L;
        long divergedAt = System.nanoTime();
        behindTheBack(f.service, "UPDATE item SET name = 'rogue' WHERE id = 7", "DELETE FROM item WHERE id = 8");
        behindTheBack(f.monolith, "UPDATE item SET stock = 5 WHERE id = 9");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (alerts.size() < 3 && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
        long reportedAfter = System.nanoTime() - divergedAt;
        assertEquals(Set.of("7 COLUMNS_DIFFER [name]", "8 MISSING_ON_SERVICE", "9 COLUMNS_DIFFER [stock]"),
            alerts.stream().map(ContinuousValidationTest::describe).collect(Collectors.toCollection(TreeSet::new)));
        assertTrue(reportedAfter >= tolerance.toNanos(), "held back for the tolerance: " + reportedAfter);

        TestSupport.awaitSame(f.monolith, "SELECT id, name, stock FROM item ORDER BY id", f.service,
            "SELECT id, name, stock FROM item ORDER BY id", Duration.ofSeconds(30));
        assertEquals(List.of("n7"), rows(f.service, "SELECT name FROM item WHERE id = 7"), "the monolith won");
        assertEquals(List.of("5"), rows(f.service, "SELECT stock FROM item WHERE id = 9"));
        assertEquals(3, validation.stats().repaired());
        assertEquals(List.of(), validation.runOnce("on demand"), "consistent after the repair");

        List<AuditEntry> entries = audit.read(start, Long.MAX_VALUE);
        assertEquals(3, entries.stream().filter(e -> e.kind() == AuditEntry.Kind.DISCREPANCY).count(), entries::toString);
        assertEquals(3, entries.stream().filter(e -> e.kind() == AuditEntry.Kind.REPAIR
            && e.cause().equals("automatic repair") && e.detail().contains("journal change")).count());
        assertTrue(entries.stream().anyMatch(e -> e.kind() == AuditEntry.Kind.VALIDATION
            && e.cause().equals("on demand") && e.detail().contains("consistent")), entries::toString);
        assertTrue(audit.read(0, start).stream().allMatch(e -> e.kind() == AuditEntry.Kind.VALIDATION),
            "before the divergence only runs were recorded");
      }
    } finally {
      TestSupport.delete(dir);
    }
  }

  private static String describe(Discrepancy d) {
    return d.key().get("id").asLong() + " " + d.kind()
        + (d.kind() == Discrepancy.Kind.COLUMNS_DIFFER ? " " + d.columns() : "");
  }

  /** Random updates, inserts and deletes on one side, side-specific new keys so inserts never collide. */
  private static Thread traffic(DataSource ds, AtomicBoolean stop, int sideNo) {
    Thread thread = new Thread(() -> {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      int next = 1_000 + sideNo;
      try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
        while (!stop.get()) {
          int id = 10 + random.nextInt(290);
          switch (random.nextInt(4)) {
            case 0 -> st.execute("INSERT INTO item VALUES (" + next + ", 'new', 1)");
            case 1 -> st.execute("DELETE FROM item WHERE id = " + (next - 2));
            default -> st.execute("UPDATE item SET stock = stock + 1, name = 'x" + random.nextInt(9) + "' WHERE id = "
                + id);
          }
          next += 2;
          Thread.sleep(2);
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    }, "traffic-" + sideNo);
    thread.start();
    return thread;
  }

  @Test
  void strictLevelReportsAtOnceAndTheDryRunChangesNothing() throws Exception {
    Path dir = TestSupport.tempDir("cutover-strict");
    List<Discrepancy> alerts = new CopyOnWriteArrayList<>();
    try (H2SyncFixture f = fixture(dir)) {
      behindTheBack(f.service, "UPDATE item SET name = NULL WHERE id = 3", "INSERT INTO item VALUES (900, 'x', 1)");
      Repairer repairer = new Repairer(f.pipeline, Side.service("inventory"), f.clock, null).table(ITEM, true);
      try (ContinuousValidator validation = ContinuousValidator.builder(Validator.builder("inventory", f.monolith,
          f.service).build()).table(ITEM).consistency(Consistency.STRICT).tolerance(Duration.ofHours(1))
          .listener(alerts::add).build()) {
        List<Discrepancy> found = validation.runOnce("on demand");
        assertEquals(2, found.size());
        assertEquals(2, alerts.size());
        List<Repair> plan = repairer.plan(found, Authority.SERVICE);
        assertEquals(Set.of("item {id=3}: copy the service's row to the monolith (COLUMNS_DIFFER)",
                "item {id=900}: copy the service's row to the monolith (MISSING_ON_MONOLITH)"),
            plan.stream().map(Repair::describe).collect(Collectors.toSet()));
        assertEquals(List.of("n3"), rows(f.monolith, "SELECT name FROM item WHERE id = 3"), "a dry run writes nothing");
        validation.runOnce("on demand");
        assertEquals(2, alerts.size(), "reported once while it lasts");

        repairer.repair(found, Authority.SERVICE, "operator");
        TestSupport.awaitSame(f.monolith, "SELECT id, name, stock FROM item ORDER BY id", f.service,
            "SELECT id, name, stock FROM item ORDER BY id", Duration.ofSeconds(30));
        assertEquals(List.of("null"), rows(f.monolith, "SELECT name FROM item WHERE id = 3"), "the service won");
        assertEquals(List.of(), validation.runOnce("on demand"));
        assertEquals(0, validation.stats().outstanding());
      }
    } finally {
      TestSupport.delete(dir);
    }
  }

  @Test
  void newestWinsByTheSidesLastStampsAndOneWayTablesOnlyTakeTheMonolith() throws Exception {
    Path dir = TestSupport.tempDir("cutover-newest");
    try (H2SyncFixture f = fixture(dir)) {
      exec(f.monolith, "UPDATE item SET name = 'm' WHERE id = 4");
      f.awaitQuiet();
      exec(f.service, "UPDATE item SET name = 's' WHERE id = 4");
      f.awaitQuiet();
      behindTheBack(f.monolith, "UPDATE item SET name = 'old' WHERE id = 4");
      try (Validator validator = Validator.builder("inventory", f.monolith, f.service).build()) {
        List<Discrepancy> found = validator.validate(ITEM).discrepancies();
        assertEquals(1, found.size());
        Repairer repairer = new Repairer(f.pipeline, Side.service("inventory"), f.clock, null).table(ITEM, true);
        assertEquals(Authority.SERVICE, repairer.plan(found, Authority.NEWEST).get(0).winner(),
            "the service changed the row last");
        Repairer oneWay = new Repairer(f.pipeline, Side.service("inventory"), f.clock, null).table(ITEM, false);
        assertEquals(Authority.MONOLITH, oneWay.plan(found, Authority.NEWEST).get(0).winner());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> oneWay.plan(found, Authority.SERVICE));
        assertTrue(e.getMessage().contains("syncs one way"), e.getMessage());
        Repairer noClock = new Repairer(f.pipeline, Side.service("inventory"), null, null).table(ITEM, true);
        assertEquals(Authority.MONOLITH, noClock.plan(found, Authority.NEWEST).get(0).winner());
        repairer.repair(found, Authority.NEWEST, "operator");
        TestSupport.awaitSame(f.monolith, "SELECT name FROM item WHERE id = 4", f.service,
            "SELECT name FROM item WHERE id = 4", Duration.ofSeconds(30));
        assertEquals(List.of("s"), rows(f.monolith, "SELECT name FROM item WHERE id = 4"));
      }
    } finally {
      TestSupport.delete(dir);
    }
  }
}
