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
 * The engine in its own JVM, killed with SIGKILL at random points while the monolith keeps changing, then
 * restarted: afterwards the service holds exactly the monolith's rows, so no change was lost and none left a stale
 * or doubled effect. Runs on real PostgreSQL on both sides (logical decoding) and on the embedded H2 default
 * (trigger capture; the test JVM hosts the H2 databases in server mode so they outlive the killed engine: if the
 * killed process hosted H2, H2 itself would lose its last commits, which it acknowledges before writing them).
 */
class SyncCrashPropertiesTest {

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void killedEngineLosesNoChangeAndTheServiceEndsEqualToTheMonolithOnPostgresql() {
    qt().withExamples(4).withShrinkCycles(2)
        .forAll(integers().between(100, 800), integers().between(1, 3), longs().all())
        .checkAssert((operations, kills, seed) -> run(Postgres.newDatabase("crash_mono"),
            Postgres.newDatabase("crash_svc"), operations, kills, seed));
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void killedEngineLosesNoChangeAndTheServiceEndsEqualToTheMonolithOnH2WithTriggers() {
    qt().withExamples(3).withShrinkCycles(2)
        .forAll(integers().between(100, 600), integers().between(1, 3), longs().all())
        .checkAssert((operations, kills, seed) -> {
          Path databases = TestSupport.tempDir("cutover-h2-crash");
          try {
            run(h2(databases.resolve("mono")), h2(databases.resolve("svc")), operations, kills, seed);
          } finally {
            TestSupport.delete(databases);
          }
        });
  }

  /** An H2 file database in server mode, opened (and so hosted) by this JVM. */
  private static DataSource h2(Path file) {
    return io.cutover.engine.db.DataSources.of("jdbc:h2:" + file + ";AUTO_SERVER=TRUE", "sa", "");
  }

  private static void run(DataSource monolith, DataSource service, int operations, int kills, long seed) {
    Connection host = null;
    Connection monolithHost = null;
    String slot = "crash_" + Long.toHexString(seed & 0xffffffL) + "_" + operations;
    Path journal = TestSupport.tempDir("cutover-sync-crash");
    Process worker = null;
    try {
      // Keep both databases open in this JVM, so for H2 it hosts them and only the engine dies at a kill.
      host = service.getConnection();
      monolithHost = monolith.getConnection();
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
      awaitJournaled(monolith, slot);
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
          if (url(monolith).startsWith("jdbc:postgresql:")) {
            Properties user = new Properties();
            user.setProperty("user", "postgres");
            PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), user).tables("stock").slot(slot).build()
                .uninstall();
          }
        } catch (InterruptedException | SQLException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (monolithHost != null) {
        try {
          monolithHost.close();
        } catch (SQLException ignored) {
          // the database goes away with the test
        }
      }
      if (host != null) {
        try {
          host.close();
        } catch (SQLException ignored) {
          // the database goes away with the test
        }
      }
      TestSupport.delete(journal);
    }
  }

  private static void write(Connection c, Random random, int i) throws SQLException {
    int id = random.nextInt(40);
    int kind = random.nextInt(10);
    if (kind < 7) {
      try (PreparedStatement ps = c.prepareStatement(io.cutover.engine.db.Dialect.of(c).upsert("stock",
          List.of("id", "qty", "note"), List.of("id")))) {
        ps.setInt(1, id);
        ps.setInt(2, random.nextInt(100) - 30);
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

  /** Waits until every change so far is durable in the journal: slot confirmed past it, or change table purged. */
  private static void awaitJournaled(DataSource monolith, String slot) throws SQLException, InterruptedException {
    try (Connection c = monolith.getConnection(); Statement st = c.createStatement()) {
      if (c.getMetaData().getURL().startsWith("jdbc:h2:")) {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
          try (ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM cutover_changes")) {
            rs.next();
            if (rs.getLong(1) == 0) {
              return;
            }
          }
          Thread.sleep(2);
        }
        return;
      }
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
      String url = c.getMetaData().getURL();
      return url.startsWith("jdbc:h2:") && !url.contains("AUTO_SERVER") ? url + ";AUTO_SERVER=TRUE" : url;
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
