package io.cutover.engine.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.cutover.engine.event.Side;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Real PostgreSQL on both sides, the engine in its own JVM killed with SIGKILL at random points while the
 * monolith keeps changing, then restarted: afterwards the service holds exactly the monolith's rows, so no
 * change was lost and none left a stale or doubled effect.
 */
class SyncCrashPropertiesTest {

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void killedEngineLosesNoChangeAndTheServiceEndsEqualToTheMonolith() {
    qt().withExamples(4).withShrinkCycles(2)
        .forAll(integers().between(100, 800), integers().between(1, 3), longs().all())
        .checkAssert(SyncCrashPropertiesTest::run);
  }

  private static void run(int operations, int kills, long seed) {
    DataSource monolith = Postgres.newDatabase("crash_mono");
    DataSource service = Postgres.newDatabase("crash_svc");
    String slot = "crash_" + Long.toHexString(seed & 0xffffffL) + "_" + operations;
    Path journal = TestSupport.tempDir("cutover-sync-crash");
    Process worker = null;
    try {
      for (DataSource ds : List.of(monolith, service)) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
          st.execute("CREATE TABLE stock (id INT PRIMARY KEY, qty INT NOT NULL, note TEXT)");
        }
      }
      String monolithUrl = url(monolith);
      worker = start(monolithUrl, url(service), journal, slot);
      Random random = new Random(seed);
      try (Connection c = monolith.getConnection()) {
        for (int i = 0; i < operations; i++) {
          write(c, random, i);
          if (kills > 0 && i > 0 && i % (operations / (kills + 1)) == 0) {
            worker.destroyForcibly(); // SIGKILL
            worker.waitFor(30, TimeUnit.SECONDS);
            for (int j = 0; j < 20; j++) {
              write(c, random, i); // the monolith keeps changing while the engine is down
            }
            worker = start(monolithUrl, url(service), journal, slot);
          }
        }
      }
      // Once more when every change is durable in the journal (the slot confirmed past the last write) but the
      // slow applier has not committed the last batch: only replay from the journal can bring those changes.
      awaitSlotPast(monolith, slot);
      worker.destroyForcibly();
      worker.waitFor(30, TimeUnit.SECONDS);
      worker = start(monolithUrl, url(service), journal, slot);
      String all = "SELECT id, qty, coalesce(note, '<null>') FROM stock ORDER BY id";
      List<String> expected = rows(monolith, all);
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      while (!rows(service, all).equals(expected) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      assertEquals(expected, rows(service, all));
    } catch (SQLException | IOException | InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      if (worker != null) {
        worker.destroyForcibly();
        try {
          worker.waitFor(30, TimeUnit.SECONDS);
          Properties user = new Properties();
          user.setProperty("user", "postgres");
          PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), user).tables("stock").slot(slot).build()
              .uninstall();
        } catch (InterruptedException | SQLException e) {
          Thread.currentThread().interrupt();
        }
      }
      TestSupport.delete(journal);
    }
  }

  private static void write(Connection c, Random random, int i) throws SQLException {
    int id = random.nextInt(40);
    int kind = random.nextInt(10);
    if (kind < 7) {
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO stock VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE "
          + "SET qty = stock.qty + EXCLUDED.qty, note = EXCLUDED.note")) {
        ps.setInt(1, id);
        ps.setInt(2, random.nextInt(10) - 3);
        ps.setString(3, random.nextBoolean() ? null : "n" + i);
        ps.executeUpdate();
      }
    } else {
      try (PreparedStatement ps = c.prepareStatement("DELETE FROM stock WHERE id = ?")) {
        ps.setInt(1, id);
        ps.executeUpdate();
      }
    }
  }

  private static void awaitSlotPast(DataSource monolith, String slot) throws SQLException, InterruptedException {
    try (Connection c = monolith.getConnection(); Statement st = c.createStatement()) {
      String target;
      try (ResultSet rs = st.executeQuery("SELECT pg_current_wal_lsn()")) {
        rs.next();
        target = rs.getString(1);
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        try (ResultSet rs = st.executeQuery("SELECT confirmed_flush_lsn >= '" + target + "'::pg_lsn "
            + "FROM pg_replication_slots WHERE slot_name = '" + slot + "'")) {
          if (rs.next() && rs.getBoolean(1)) {
            return;
          }
        }
        Thread.sleep(2);
      }
    }
  }

  private static Process start(String monolithUrl, String serviceUrl, Path journal, String slot) throws IOException {
    List<String> command = TestSupport.javaCommand(SyncWorker.class, monolithUrl, serviceUrl, journal.toString(),
        slot);
    Process process = new ProcessBuilder(command).redirectError(journal.resolveSibling(journal.getFileName()
        + ".err").toFile()).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"READY".equals(line)) {
      throw new IllegalStateException("sync worker did not start: " + line);
    }
    return process;
  }

  private static String url(DataSource ds) {
    try (Connection c = ds.getConnection()) {
      return c.getMetaData().getURL();
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> rows(DataSource ds, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        rows.add(rs.getString(1) + "|" + rs.getString(2) + "|" + rs.getString(3));
      }
    }
    return rows;
  }
}
