package io.cutover.engine.migration;

import static io.cutover.engine.testing.TestSupport.awaitSame;
import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static io.cutover.engine.testing.TestSupport.url;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.testing.FaultProxy;
import io.cutover.engine.testing.Postgres;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The monolith's side of a partition (PartitionTest cuts the service's): the engine, a {@code Migration} started
 * from YAML, reaches the monolith's PostgreSQL only through a fault-injecting TCP proxy (its YAML URL is the
 * proxy's), so sync's JDBC writes and the logical decoding replication connection both go through it. Applications
 * keep writing to both databases directly (counter deltas and inserts over hundreds of keys) while the link is cut
 * and healed several times. Afterwards both sides hold the same rows: every delta counted exactly once, every
 * inserted row present on both sides.
 */
@Timeout(180)
class MonolithPartitionTest {
  private static final int KEYS = 300;
  private static final int CUTS = 4;
  private static final String ITEMS = "SELECT id, stock FROM item ORDER BY id";
  @TempDir Path dir;

  @Test
  void cuttingTheMonolithsLinkUnderLoadLosesAndDoublesNothing() throws Exception {
    DataSource monolith = Postgres.newDatabase("mcutmono");
    DataSource service = Postgres.newDatabase("mcutsvc");
    for (DataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE item (id INT PRIMARY KEY, stock INT NOT NULL)",
          "INSERT INTO item SELECT g, 1000 FROM generate_series(1, " + KEYS + ") g");
    }
    String monolithUrl = url(monolith);
    URI uri = URI.create(monolithUrl.substring("jdbc:".length()));
    String slot = "mcut_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    long started = System.nanoTime();
    try (FaultProxy proxy = new FaultProxy(uri.getHost(), uri.getPort())) {
      String proxied = monolithUrl.replace(":" + uri.getPort() + "/", ":" + proxy.port() + "/");
      Path file = dir.resolve("cutover.yaml");
      Files.writeString(file, String.join("\n",
          "journal: {directory: journal}",
          "state: {directory: state}",
          "sides:",
          "  monolith: {url: '" + proxied + "', user: postgres, slot: " + slot + "_m}",
          "  services:",
          "    stock: {url: '" + url(service) + "', user: postgres, slot: " + slot + "_s}",
          "tables:",
          "  - {source: item, service: stock, conflicts: {rule: last_writer_wins, columns: {stock: counter}}}",
          ""));
      MigrationConfig config = MigrationConfig.load(file, Map.<String, String>of()::get);
      // The expected stock of every row: its first value plus every delta an application committed on either side.
      Map<Integer, AtomicLong> expected = new ConcurrentHashMap<>();
      for (int k = 1; k <= KEYS; k++) {
        expected.put(k, new AtomicLong(1000));
      }
      List<Integer> keys = new CopyOnWriteArrayList<>(expected.keySet());
      AtomicLong deltas = new AtomicLong();
      AtomicLong inserts = new AtomicLong();
      try (Migration migration = Migration.start(config)) {
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService writers = Executors.newFixedThreadPool(4);
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
          DataSource side = w % 2 == 0 ? monolith : service;
          int writer = w;
          futures.add(writers.submit(() -> {
            Random random = new Random(writer);
            int nextKey = 100_000 * (writer + 1);
            try (Connection c = side.getConnection();
                 PreparedStatement delta = c.prepareStatement("UPDATE item SET stock = stock + ? WHERE id = ?");
                 PreparedStatement insert = c.prepareStatement("INSERT INTO item VALUES (?, ?)")) {
              while (!stop.get()) {
                if (random.nextInt(10) == 0) {
                  // Each writer inserts keys of its own: both sides insert, never the same key.
                  int key = nextKey++;
                  insert.setInt(1, key);
                  insert.setInt(2, 500);
                  insert.executeUpdate();
                  expected.put(key, new AtomicLong(500));
                  keys.add(key);
                  inserts.incrementAndGet();
                } else {
                  int key = keys.get(random.nextInt(keys.size()));
                  int d = random.nextInt(21) - 10;
                  delta.setInt(1, d);
                  delta.setInt(2, key);
                  // A row another side inserted may not have reached this one yet: nothing changed, nothing counted.
                  if (delta.executeUpdate() == 1) {
                    expected.get(key).addAndGet(d);
                    deltas.incrementAndGet();
                  }
                }
                Thread.sleep(1);
              }
            }
            return null;
          }));
        }
        List<String> differedDuringCuts = new ArrayList<>();
        List<Long> recoveryMillis = new ArrayList<>();
        for (int cut = 1; cut <= CUTS; cut++) {
          Thread.sleep(500);
          long published = migration.captures().get(1).published();
          proxy.cut();
          Thread.sleep(1_200);
          // The service's changes keep being captured and journaled while the monolith is unreachable.
          assertTrue(migration.captures().get(1).published() > published, "the service's capture goes on");
          if (!rows(monolith, ITEMS).equals(rows(service, ITEMS))) {
            differedDuringCuts.add("cut " + cut);
          }
          proxy.heal();
          // Healed: a row inserted on each side reaches the other before the next cut, so each cut is one the
          // engine recovered from (capture reconnected, sync writing the monolith again), not one long outage.
          long healed = System.nanoTime();
          exec(monolith, "INSERT INTO item VALUES (" + (-cut) + ", 0)");
          exec(service, "INSERT INTO item VALUES (" + (-100 - cut) + ", 0)");
          expected.put(-cut, new AtomicLong());
          expected.put(-100 - cut, new AtomicLong());
          String markers = "SELECT id FROM item WHERE id IN (" + (-cut) + ", " + (-100 - cut) + ") ORDER BY id";
          long deadline = healed + Duration.ofSeconds(30).toNanos();
          while (rows(monolith, markers).size() < 2 || rows(service, markers).size() < 2) {
            assertTrue(System.nanoTime() < deadline, "the engine did not recover within 30 s of heal " + cut);
            Thread.sleep(10);
          }
          recoveryMillis.add((System.nanoTime() - healed) / 1_000_000);
        }
        Thread.sleep(1_000);
        stop.set(true);
        for (Future<?> f : futures) {
          f.get();
        }
        writers.shutdown();
        assertEquals(CUTS, differedDuringCuts.size(), "the sides differed during every cut: " + differedDuringCuts);
        awaitSame(monolith, ITEMS, service, ITEMS, Duration.ofSeconds(90));
        Map<Integer, Long> want = new TreeMap<>();
        expected.forEach((k, v) -> want.put(k, v.get()));
        List<String> wantRows = new ArrayList<>();
        want.forEach((k, v) -> wantRows.add(k + "|" + v));
        List<String> monolithRows = rows(monolith, ITEMS);
        List<String> wrong = new ArrayList<>();
        for (int i = 0; i < Math.max(wantRows.size(), monolithRows.size()); i++) {
          String a = i < wantRows.size() ? wantRows.get(i) : "-";
          String b = i < monolithRows.size() ? monolithRows.get(i) : "-";
          if (!a.equals(b) && wrong.size() < 20) {
            wrong.add("expected " + a + ", both sides have " + b);
          }
        }
        assertEquals(List.of(), wrong, "every delta counted once, every insert present (" + want.size() + " rows)");
        assertEquals(wantRows.size(), monolithRows.size());
        System.out.printf(java.util.Locale.ROOT, "monolith partition: %d deltas, %d inserts, %d cuts of 1.2 s, "
            + "caught up after each heal in %s ms; converged, %d rows equal to the model; %.1f s%n", deltas.get(),
            inserts.get(), CUTS, recoveryMillis, want.size(), (System.nanoTime() - started) / 1e9);
      } finally {
        Cleanup.run(config, false);
      }
    }
  }
}
