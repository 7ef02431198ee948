package io.cutover.engine.validate;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
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
        TestSupport.behindTheBack(f.service, "UPDATE item SET name = 'rogue' WHERE id = 7",
            "DELETE FROM item WHERE id = 8");
        TestSupport.behindTheBack(f.monolith, "UPDATE item SET stock = 5 WHERE id = 9");
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
      TestSupport.behindTheBack(f.service, "UPDATE item SET name = NULL WHERE id = 3",
          "INSERT INTO item VALUES (900, 'x', 1)");
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
      TestSupport.behindTheBack(f.monolith, "UPDATE item SET name = 'old' WHERE id = 4");
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

  @Test
  void incrementalRoundsReadOnlyChangedRowsKeepTheDifferenceTreeAndFullScansCatchTheRest() throws Exception {
    Path dir = TestSupport.tempDir("cutover-incremental");
    List<Discrepancy> alerts = new CopyOnWriteArrayList<>();
    try (H2SyncFixture f = fixture(dir); ContinuousValidator validation = ContinuousValidator.builder(
        Validator.builder("inventory", f.monolith, f.service).depth(5).build()).table(ITEM)
        .consistency(Consistency.EVENTUAL).tolerance(Duration.ofMillis(300)).clock(f.clock)
        .fullScanEvery(Duration.ofHours(1)).listener(alerts::add).build()) {
      assertEquals(List.of(), validation.runOnce("on demand"));
      assertEquals(1, validation.stats().fullScans());
      long compared = validation.stats().rowsCompared();
      assertEquals(600, compared, "the first round scans both tables");

      exec(f.monolith, "UPDATE item SET stock = 1 WHERE id IN (1, 2, 3)");
      exec(f.service, "UPDATE item SET name = 'svc' WHERE id IN (4, 5)", "INSERT INTO item VALUES (400, 'new', 1)");
      f.awaitQuiet();
      Thread.sleep(400); // settled: older than the tolerance
      assertEquals(List.of(), validation.runOnce("scheduled"));
      assertEquals(1, validation.stats().fullScans(), "no full scan");
      assertEquals(6, validation.stats().rowsRechecked(), "only the six changed rows were read again");

      // a divergence that travels through the pipeline: the table is paused, the monolith's change is held
      f.pipeline.publish(io.cutover.engine.sync.BidirectionalSync.pauseTable("item")).join();
      f.awaitQuiet();
      exec(f.monolith, "UPDATE item SET name = 'held' WHERE id = 9");
      f.awaitQuiet();
      Thread.sleep(400);
      List<Discrepancy> first = validation.runOnce("scheduled");
      assertEquals(List.of(), first, "seen, held back for one tolerance");
      Thread.sleep(400);
      List<Discrepancy> found = validation.runOnce("scheduled");
      assertEquals(1, found.size(), found.toString());
      assertEquals(Discrepancy.Kind.COLUMNS_DIFFER, found.get(0).kind());
      assertEquals(List.of("name"), found.get(0).columns());
      assertEquals(1, validation.stats().fullScans(), "found without a full scan");
      assertEquals(7, validation.stats().rowsRechecked());

      f.pipeline.publish(io.cutover.engine.sync.BidirectionalSync.resumeTable("item")).join();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!rows(f.service, "SELECT name FROM item WHERE id = 9").equals(List.of("held"))
          && System.nanoTime() < deadline) {
        f.pipeline.publish(io.cutover.engine.sync.BidirectionalSync.tick()).join(); // held changes go on a batch
        Thread.sleep(50);                                                          // after the resume
      }
      TestSupport.awaitSame(f.monolith, "SELECT name FROM item WHERE id = 9", f.service,
          "SELECT name FROM item WHERE id = 9", Duration.ofSeconds(30));
      exec(f.monolith, "UPDATE item SET stock = stock WHERE id = 9"); // the release itself is not captured
      f.awaitQuiet();
      Thread.sleep(400);
      assertEquals(List.of(), validation.runOnce("scheduled"), "released and rechecked: consistent again");

      TestSupport.behindTheBack(f.service, "DELETE FROM item WHERE id = 77");
      Thread.sleep(400);
      assertEquals(List.of(), validation.runOnce("scheduled"), "a write that bypassed capture is not in the stream");
      validation.runFullScan("operator"); // full scan: first sight
      assertEquals(2, validation.stats().fullScans());
      Thread.sleep(400);
      List<Discrepancy> bypass = validation.runOnce("scheduled");
      assertEquals(1, bypass.size(), bypass.toString());
      assertEquals(Discrepancy.Kind.MISSING_ON_SERVICE, bypass.get(0).kind());
      assertEquals(2, alerts.size());
    } finally {
      TestSupport.delete(dir);
    }
  }

  @Test
  void aClockThatOverflowedForcesAFullScanAndIncrementalNeedsATrackingClock() throws Exception {
    assertThrows(IllegalArgumentException.class, () -> ContinuousValidator.builder(Validator.builder("s",
        H2SyncFixture.h2("a"), H2SyncFixture.h2("b")).build()).table(ITEM).clock(new ChangeClock())
        .fullScanEvery(Duration.ofMinutes(1)).build());
    javax.sql.DataSource monolith = H2SyncFixture.h2("m");
    javax.sql.DataSource service = H2SyncFixture.h2("s");
    for (javax.sql.DataSource ds : List.of(monolith, service)) {
      exec(ds, DDL, "INSERT INTO item VALUES (1, 'a', 1)", "INSERT INTO item VALUES (2, 'b', 1)");
    }
    ChangeClock small = ChangeClock.trackingKeys(2);
    assertTrue(small.tracksKeys());
    try (ContinuousValidator validation = ContinuousValidator.builder(Validator.builder("inventory", monolith,
        service).build()).table(ITEM).consistency(Consistency.STRICT).clock(small)
        .fullScanEvery(Duration.ofHours(1)).build()) {
      validation.runOnce("first");
      small.onChange(ValidatorTest.record(io.cutover.engine.event.ChangeEvent.builder(
          io.cutover.engine.event.Side.MONOLITH, "item", io.cutover.engine.event.Operation.DELETE)
          .key(io.cutover.engine.event.Row.of("id", io.cutover.engine.event.Value.of(1))).build()));
      small.onBatchEnd();
      exec(service, "UPDATE item SET name = 'x' WHERE id = 1");
      assertEquals(1, validation.runOnce("second").size(), "the changed row, read again");
      assertEquals(1, validation.stats().fullScans());
      assertEquals(1, validation.stats().rowsRechecked());
      for (int id = 10; id < 13; id++) {
        small.onChange(ValidatorTest.record(io.cutover.engine.event.ChangeEvent.builder(
            io.cutover.engine.event.Side.service("inventory"), "item", io.cutover.engine.event.Operation.DELETE)
            .key(io.cutover.engine.event.Row.of("id", io.cutover.engine.event.Value.of(id))).build()));
      }
      small.onBatchEnd();
      assertTrue(small.overflowed());
      assertEquals(List.of(), small.drainChanged(true, "item", Long.MAX_VALUE), "an overflow drops the keys");
      exec(service, "UPDATE item SET name = 'y' WHERE id = 2");
      assertEquals(2, validation.runOnce("third").size());
      assertEquals(2, validation.stats().fullScans(), "after an overflow the round scans in full");
      assertTrue(!small.overflowed(), "and the full scan resets the clock");
    }
  }
}
