package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.event.Side;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Crash property of bi-directional sync: the engine (a separate JVM running {@code Migration} from a YAML file)
 * is SIGKILLed at random points while applications write to both sides, and both sides keep writing while it is
 * down. After it restarts and settles, both sides hold identical rows equal to the reference model: every stock
 * delta from either side counted exactly once (counter rule), each name one of the sides' last names.
 */
class BidirectionalCrashPropertiesTest {
  private static final int KEYS = 5;

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void killedEngineCountsEveryDeltaOnceOnH2() {
    qt().withExamples(3).withShrinkCycles(0)
        .forAll(integers().between(60, 200), integers().between(1, 3), longs().all())
        .checkAssert((operations, kills, seed) -> {
          Path databases = TestSupport.tempDir("cutover-bidi-crash");
          try {
            DataSource monolith = DataSources.of("jdbc:h2:" + databases.resolve("mono") + ";AUTO_SERVER=TRUE", "sa",
                "");
            DataSource service = DataSources.of("jdbc:h2:" + databases.resolve("svc") + ";AUTO_SERVER=TRUE", "sa", "");
            run(monolith, service, "sa", "", "", operations, kills, seed, databases);
          } finally {
            TestSupport.delete(databases);
          }
        });
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void killedEngineCountsEveryDeltaOnceOnPostgresql() {
    qt().withExamples(2).withShrinkCycles(0)
        .forAll(integers().between(60, 200), integers().between(1, 3), longs().all())
        .checkAssert((operations, kills, seed) -> {
          Path work = TestSupport.tempDir("cutover-bidi-crash-pg");
          String suffix = Long.toHexString(seed & 0xffffffL) + "_" + operations;
          try {
            run(Postgres.newDatabase("bcm"), Postgres.newDatabase("bcs"), "postgres", "bcm_" + suffix,
                "bcs_" + suffix, operations, kills, seed, work);
          } finally {
            TestSupport.delete(work);
          }
        });
  }

  private static String url(DataSource ds) throws Exception {
    try (Connection c = ds.getConnection()) {
      String url = c.getMetaData().getURL();
      return url.startsWith("jdbc:h2:") && !url.contains("AUTO_SERVER") ? url + ";AUTO_SERVER=TRUE" : url;
    }
  }

  private static void run(DataSource monolith, DataSource service, String user, String monolithSlot,
      String serviceSlot, int operations, int kills, long seed, Path work) {
    Process worker = null;
    Connection monolithHost = null;
    Connection serviceHost = null;
    try {
      // This JVM keeps both databases open: for H2 it hosts them, so only the engine dies at a kill.
      monolithHost = monolith.getConnection();
      serviceHost = service.getConnection();
      for (DataSource ds : List.of(monolith, service)) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
          st.execute("CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(40), stock INT NOT NULL)");
          for (int k = 1; k <= KEYS; k++) {
            st.execute("INSERT INTO item VALUES (" + k + ", 'n" + k + "', 1000)");
          }
        }
      }
      Path config = work.resolve("cutover.yaml");
      Files.writeString(config, String.join("\n",
          "journal: {directory: journal}",
          "state: {directory: state}",
          "sides:",
          "  monolith: {url: '" + url(monolith) + "', user: " + user
              + (monolithSlot.isEmpty() ? "" : ", slot: " + monolithSlot) + "}",
          "  services:",
          "    inventory: {url: '" + url(service) + "', user: " + user
              + (serviceSlot.isEmpty() ? "" : ", slot: " + serviceSlot) + "}",
          "tables:",
          "  - {source: item, service: inventory, conflicts: {rule: last_writer_wins, columns: {stock: counter}}}",
          ""));
      worker = start(config, work);
      Random random = new Random(seed);
      Map<Integer, Integer> deltas = new HashMap<>();
      Map<Integer, String> monolithNames = new HashMap<>();
      Map<Integer, String> serviceNames = new HashMap<>();
      int[] serial = {0};
      try (Connection m = monolith.getConnection(); Connection s = service.getConnection()) {
        for (int i = 0; i < operations; i++) {
          write(random, m, s, deltas, monolithNames, serviceNames, serial);
          if (i > 0 && i % Math.max(1, operations / (kills + 1)) == 0) {
            worker.destroyForcibly(); // SIGKILL
            worker.waitFor(30, TimeUnit.SECONDS);
            for (int j = 0; j < 10; j++) {
              write(random, m, s, deltas, monolithNames, serviceNames, serial); // both sides go on meanwhile
            }
            worker = start(config, work);
          }
        }
      }
      String all = "SELECT id, name, stock FROM item ORDER BY id";
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      int stable = 0;
      List<String> last = null;
      while (stable < 5 && System.nanoTime() < deadline) {
        List<String> left = rows(monolith, all);
        stable = left.equals(rows(service, all)) && left.equals(last) ? stable + 1 : 0;
        last = left;
        Thread.sleep(200);
      }
      List<String> monolithRows = rows(monolith, all);
      assertEquals(monolithRows, rows(service, all), "both sides converge (seed " + seed + ")");
      for (int k = 1; k <= KEYS; k++) {
        String[] row = monolithRows.get(k - 1).split("\\|");
        assertEquals(1000 + deltas.getOrDefault(k, 0), Integer.parseInt(row[2]),
            "stock of item " + k + " counts every delta once (seed " + seed + ")");
        List<String> allowed = new ArrayList<>();
        if (monolithNames.containsKey(k)) {
          allowed.add(monolithNames.get(k));
        }
        if (serviceNames.containsKey(k)) {
          allowed.add(serviceNames.get(k));
        }
        if (allowed.isEmpty()) {
          allowed.add("n" + k);
        }
        assertTrue(allowed.contains(row[1]), "name of item " + k + " is " + row[1] + ", one of " + allowed);
      }
    } catch (Exception e) {
      throw new AssertionError("seed " + seed + ": " + e, e);
    } finally {
      if (worker != null) {
        worker.destroyForcibly();
        try {
          worker.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      dropSlot(monolith, Side.MONOLITH, monolithSlot);
      dropSlot(service, Side.service("inventory"), serviceSlot);
      for (Connection c : new Connection[] {monolithHost, serviceHost}) {
        if (c != null) {
          try {
            c.close();
          } catch (Exception ignored) {
            // closing the host
          }
        }
      }
    }
  }

  private static void write(Random random, Connection m, Connection s, Map<Integer, Integer> deltas,
      Map<Integer, String> monolithNames, Map<Integer, String> serviceNames, int[] serial) throws Exception {
    boolean onMonolith = random.nextBoolean();
    int key = 1 + random.nextInt(KEYS);
    try (Statement st = (onMonolith ? m : s).createStatement()) {
      if (random.nextInt(5) > 0) {
        int delta = random.nextInt(11) - 5;
        st.executeUpdate("UPDATE item SET stock = stock + (" + delta + ") WHERE id = " + key);
        deltas.merge(key, delta, Integer::sum);
      } else {
        String name = (onMonolith ? "m" : "s") + serial[0]++;
        st.executeUpdate("UPDATE item SET name = '" + name + "' WHERE id = " + key);
        (onMonolith ? monolithNames : serviceNames).put(key, name);
      }
    }
  }

  private static void dropSlot(DataSource ds, Side side, String slot) {
    if (slot.isEmpty()) {
      return;
    }
    try {
      Properties user = new Properties();
      user.setProperty("user", "postgres");
      PostgresLogicalCapture.builder(side, url(ds), user).tables("item").slot(slot).publication(slot).build()
          .uninstall();
    } catch (Exception ignored) {
      // best effort: the database is thrown away with the cluster
    }
  }

  private static Process start(Path config, Path work) throws Exception {
    List<String> command = TestSupport.javaCommand(BidiCrashWorker.class, config.toString());
    Process process = new ProcessBuilder(command).redirectError(work.resolve("worker.err").toFile()).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"READY".equals(line)) {
      throw new IllegalStateException("worker did not start: " + line + "; " + Files.readString(
          work.resolve("worker.err")));
    }
    return process;
  }
}
