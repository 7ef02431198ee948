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
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Continuous validation while the engine is behind by far more than the lag tolerance: real PostgreSQL on both
 * sides, logical decoding, one table synced both ways with a counter column, four writers (two a side) each
 * committing 150 five-row transactions a second over 3,900 keys (3,000 rows/s in all), and the apply held up for five
 * seconds by a row lock on the service (the tolerance is one second). Every round meanwhile sees hundreds of rows differ that are only in
 * flight: none may be reported, the lag is reported once as itself, and rows changed behind Cutover's back during
 * the stall are reported, and only they, once the pipeline has caught up.
 */
@Timeout(300)
class PostgresLagValidationTest {
  private static final int KEYS = 4_000;
  private static final int WRITTEN = 3_900;
  private static final int RATE = 150; // transactions a second per writer // keys above are changed only behind Cutover's back
  private static final String SYNCED = "SELECT id, name, balance FROM acct WHERE id <= " + WRITTEN + " ORDER BY id";

  @Test
  void noFalseDiscrepancyWhileThePipelineIsBehindAndTheRealOnesOnceItCatchesUp() throws Exception {
    DataSource monolith = Postgres.newDatabase("lag_monolith");
    DataSource service = Postgres.newDatabase("lag_service");
    for (DataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE acct (id INT PRIMARY KEY, name TEXT NOT NULL, balance BIGINT NOT NULL)",
          "INSERT INTO acct SELECT g, 'a' || g, 1000 FROM generate_series(1, " + KEYS + ") g");
    }
    Path work = TestSupport.tempDir("cutover-pg-lag-validation");
    Path file = work.resolve("cutover.yaml");
    Files.writeString(file, String.join("\n",
        "journal: {directory: journal}",
        "state: {directory: state}",
        "sides:",
        "  monolith: {url: '" + TestSupport.url(monolith) + "', user: postgres, slot: lag_monolith}",
        "  services:",
        "    ledger: {url: '" + TestSupport.url(service) + "', user: postgres, slot: lag_ledger}",
        "tables:",
        "  - {source: acct, service: ledger, conflicts: {rule: last_writer_wins, columns: {balance: counter}}}",
        "validation: {interval: 200ms, consistency: eventual, tolerance: 1s, repair: none, depth: 10}",
        ""));
    MigrationConfig config = MigrationConfig.load(file);
    try {
      try (Migration migration = Migration.start(config)) {
        ContinuousValidator validation = migration.validations().get("ledger");
        ConcurrentLinkedQueue<Discrepancy> alerts = new ConcurrentLinkedQueue<>();
        List<Duration> lagAlerts = new java.util.concurrent.CopyOnWriteArrayList<>();
        validation.addListener(new ValidationListener() {
          @Override
          public void onDiscrepancy(Discrepancy d) {
            alerts.add(d);
          }

          @Override
          public void onLagExceedsTolerance(Duration behind) {
            lagAlerts.add(behind);
          }
        });
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong deltas = new AtomicLong();
        AtomicLong transactions = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (DataSource side : List.of(monolith, service, monolith, service)) {
          writers.add(writer(side, stop, deltas, transactions));
        }
        Thread.sleep(2_000);
        long heldBefore = validation.stats().heldBack();
        try (Connection lock = service.getConnection()) {
          lock.setAutoCommit(false);
          try (java.sql.Statement st = lock.createStatement()) {
            st.execute("SELECT * FROM acct WHERE id = 1 FOR UPDATE");
          }
          exec(monolith, "UPDATE acct SET balance = balance + 1 WHERE id = 1"); // the apply waits for the lock
          deltas.addAndGet(1);
          TestSupport.behindTheBack(service, "UPDATE acct SET name = 'tampered' WHERE id = 3950",
              "DELETE FROM acct WHERE id = 3951");
          TestSupport.behindTheBack(monolith, "UPDATE acct SET balance = 7 WHERE id = 3960");
          Thread.sleep(5_000);
          lock.rollback();
        }
        assertTrue(validation.stats().heldBack() > heldBefore + 100, "rounds saw rows in flight while the apply "
            + "waited: " + validation.stats());
        Thread.sleep(2_000);
        stop.set(true);
        for (Thread w : writers) {
          w.join();
        }
        assertTrue(transactions.get() > 1_000, "writers committed " + transactions.get() + " transactions");
        TestSupport.awaitSame(monolith, SYNCED, service, SYNCED, Duration.ofSeconds(90));
        long total = 1000L * KEYS + deltas.get(); // every delta of both sides, once, on both sides
        assertEquals(List.of(String.valueOf(total - 1000L)), rows(service, "SELECT sum(balance) FROM acct"),
            "the service lost row 3951 behind Cutover's back");
        assertEquals(List.of(String.valueOf(total - 993L)), rows(monolith, "SELECT sum(balance) FROM acct"),
            "the monolith's row 3960 was set to 7 behind Cutover's back");

        Set<String> tampered = Set.of("3950", "3951", "3960");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (reportedIds(validation.outstanding()).size() < 3 && System.nanoTime() < deadline) {
          Thread.sleep(50);
        }
        assertEquals(new TreeSet<>(tampered), reportedIds(validation.outstanding()), "the divergences made behind "
            + "Cutover's back are reported once the lag cleared: " + validation.stats());
        assertEquals(new TreeSet<>(tampered), reportedIds(alerts), "nothing but them was ever reported: " + alerts);
        assertEquals(3, validation.stats().reported(), validation.stats().toString());
        assertTrue(!lagAlerts.isEmpty() && lagAlerts.size() == validation.stats().lagAlerts(), "the lag is reported "
            + "as itself, once an episode: " + lagAlerts + " " + validation.stats());
        assertTrue(lagAlerts.get(0).toMillis() >= 1_000, lagAlerts::toString);
        assertEquals(0, validation.stats().behindMillis(), "caught up: " + validation.stats());
        List<AuditEntry> lags = migration.audit().read(0, Long.MAX_VALUE).stream()
            .filter(e -> e.kind() == AuditEntry.Kind.LAG).toList();
        assertEquals(2 * lagAlerts.size(), lags.size(), "each episode audited when it starts and ends: " + lags);
        assertTrue(lags.get(0).detail().contains("behind by more than the lag tolerance"), lags::toString);
        assertTrue(lags.get(lags.size() - 1).detail().contains("caught up"), lags::toString);
      }
    } finally {
      Cleanup.run(config, false);
      for (DataSource ds : List.of(monolith, service)) {
        try (Connection c = ds.getConnection()) {
          ApplySessions.dropOrigin(c, "someone_else");
        }
      }
      TestSupport.delete(work);
    }
  }

  private static Set<String> reportedIds(Iterable<Discrepancy> discrepancies) {
    Set<String> ids = new TreeSet<>();
    discrepancies.forEach(d -> ids.add(d.key().get("id").toString()));
    return ids;
  }

  /** Commits five-row transactions over keys 2..3900 (sorted, so writers of one side never deadlock). */
  private static Thread writer(DataSource ds, AtomicBoolean stop, AtomicLong deltas, AtomicLong transactions) {
    Thread thread = new Thread(() -> {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      try (Connection c = ds.getConnection();
           PreparedStatement add = c.prepareStatement("UPDATE acct SET balance = balance + ? WHERE id = ?");
           PreparedStatement rename = c.prepareStatement("UPDATE acct SET name = ? WHERE id = ?")) {
        c.setAutoCommit(false);
        long next = System.nanoTime();
        while (!stop.get()) {
          next += 1_000_000_000L / RATE;
          long wait = next - System.nanoTime();
          if (wait > 0) {
            Thread.sleep(wait / 1_000_000L, (int) (wait % 1_000_000L));
          }
          int[] ids = random.ints(5, 2, WRITTEN + 1).sorted().toArray();
          long sum = 0;
          try {
            for (int id : ids) {
              if (random.nextInt(4) == 0) {
                rename.setString(1, "n" + random.nextInt(1_000));
                rename.setInt(2, id);
                rename.executeUpdate();
              } else {
                int delta = random.nextInt(1, 10);
                add.setInt(1, delta);
                add.setInt(2, id);
                add.executeUpdate();
                sum += delta;
              }
            }
            c.commit();
            deltas.addAndGet(sum);
            transactions.incrementAndGet();
          } catch (SQLException e) { // a deadlock with the apply on the service: the transaction did not happen
            c.rollback();
          }
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "lag-writer");
    thread.start();
    return thread;
  }
}
