package io.cutover.engine.kafka;

import static io.cutover.engine.testing.TestSupport.awaitSame;
import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.migration.Migration;
import io.cutover.engine.sync.BidirectionalSync;
import io.cutover.engine.testing.Kafka;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import javax.sql.DataSource;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bi-directional sync with both directions through Kafka, configured in YAML as {@code cutover run} reads it, on
 * real PostgreSQL databases and a real KRaft broker: a round trip each way with counters merged exactly and no
 * echo; then a service's sync taken over by another instance after its owner is killed with SIGKILL mid-stream,
 * from the state changelog in Kafka, with no counter increment lost or doubled.
 */
@Timeout(300)
class KafkaMigrationTest {
  private static final int ACCOUNTS = 20;
  private static final String QUERY = "SELECT id, owner, visits FROM account ORDER BY id";
  @TempDir Path dir;

  private static DataSource database(String name) throws Exception {
    DataSource ds = Postgres.newDatabase(name);
    exec(ds, "CREATE TABLE account (id BIGINT PRIMARY KEY, owner TEXT NOT NULL, visits BIGINT NOT NULL)");
    return ds;
  }

  private Path config(String name, DataSource monolith, DataSource service, String role, String prefix,
      String group) throws Exception {
    return Files.writeString(dir.resolve(name + ".yaml"), String.join("\n",
        "journal: {directory: ./journal-" + name + "}",
        "state: {directory: ./state-" + name + "}",
        "sides:",
        "  monolith: {url: '" + TestSupport.url(monolith) + "', user: postgres, capture: trigger}",
        "  services:",
        "    accounts: {url: '" + TestSupport.url(service) + "', user: postgres, capture: trigger}",
        "tables:",
        "  - source: account",
        "    service: accounts",
        "    conflicts: {columns: {visits: counter}}",
        "kafka:",
        "  bootstrap: " + Kafka.bootstrap(),
        "  topics: " + prefix,
        "  group: " + group,
        "  partitions: 3",
        "  role: " + role,
        "  properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 1000}",
        ""));
  }

  private static void increment(DataSource ds, long id) throws Exception {
    exec(ds, "UPDATE account SET visits = visits + 1 WHERE id = " + id);
  }

  @Test
  void bothDirectionsRoundTripThroughKafka() throws Exception {
    DataSource monolith = database("kmig_m");
    DataSource service = database("kmig_s");
    String prefix = "rt" + UUID.randomUUID().toString().substring(0, 6);
    MigrationConfig config = MigrationConfig.load(config("all", monolith, service, "all", prefix, prefix));
    assertEquals(MigrationConfig.KafkaRole.ALL, config.kafka().role());
    long[] expected = new long[ACCOUNTS + 1];
    try (Migration migration = Migration.start(config)) {
      for (long id = 1; id <= ACCOUNTS; id++) {
        exec(monolith, "INSERT INTO account VALUES (" + id + ", 'm" + id + "', 0)");
      }
      awaitSame(monolith, QUERY, service, QUERY, Duration.ofSeconds(60));
      assertEquals(ACCOUNTS, rows(service, QUERY).size(), "monolith -> Kafka -> service");
      exec(service, "UPDATE account SET owner = 'service' WHERE id <= 5",
          "INSERT INTO account VALUES (100, 'born in the service', 0)");
      awaitSame(monolith, QUERY, service, QUERY, Duration.ofSeconds(60));
      assertEquals(List.of("1|service|0"), rows(monolith, "SELECT id, owner, visits FROM account WHERE id = 1"),
          "service -> Kafka -> monolith");
      assertEquals(1, rows(monolith, "SELECT id FROM account WHERE id = 100").size());
      Random random = new Random(7);
      for (int i = 0; i < 300; i++) {
        int id = 1 + random.nextInt(ACCOUNTS);
        increment(i % 2 == 0 ? monolith : service, id);
        expected[id]++;
      }
      awaitSame(monolith, QUERY, service, QUERY, Duration.ofSeconds(60));
      assertCounters(monolith, expected);
      BidirectionalSync sync = migration.syncs().get("accounts");
      long synced = sync.stats().toService() + sync.stats().toMonolith();
      Thread.sleep(1_500);
      assertEquals(synced, sync.stats().toService() + sync.stats().toMonolith(),
          "quiet sides stay quiet: what sync writes is not sent back (no echo through Kafka)");
    }
    try (Migration again = Migration.start(config)) { // a restart: same state directory, a fresh apply journal
      exec(monolith, "INSERT INTO account VALUES (200, 'after the restart', 0)");
      exec(service, "UPDATE account SET owner = 'service again' WHERE id = 6");
      awaitSame(monolith, QUERY, service, QUERY, Duration.ofSeconds(60));
      assertEquals(List.of("200|after the restart|0"), rows(service, "SELECT id, owner, visits FROM account "
          + "WHERE id = 200"), "changes after a restart still sync");
      assertEquals(List.of("service again"), rows(monolith, "SELECT owner FROM account WHERE id = 6"));
      assertCounters(monolith, expected);
    }
    Properties p = new Properties();
    p.put("bootstrap.servers", Kafka.bootstrap());
    try (Admin admin = Admin.create(p)) {
      Set<String> topics = admin.listTopics().names().get();
      assertTrue(topics.containsAll(List.of(prefix + ".monolith.account", prefix + ".accounts.account",
          prefix + ".state.accounts")), "the migration created its topics: " + topics);
    }
    p.put("group.id", "peek-" + prefix);
    p.put("auto.offset.reset", "earliest");
    try (KafkaConsumer<String, String> peek = new KafkaConsumer<>(p, new StringDeserializer(),
        new StringDeserializer())) {
      peek.subscribe(List.of(prefix + ".monolith.account"));
      List<String> values = new ArrayList<>();
      long deadline = System.nanoTime() + 20_000_000_000L;
      while (values.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, String> r : peek.poll(Duration.ofMillis(500))) {
          values.add(r.value());
        }
      }
      assertTrue(values.get(0).contains("\"op\":\"c\"") && values.get(0).contains("\"table\":\"account\""),
          "the monolith's topic carries Debezium envelopes: " + values.get(0));
    }
    List<String> found = io.cutover.engine.migration.Cleanup.run(config, true);
    assertTrue(found.containsAll(List.of("kafka: topic " + prefix + ".monolith.account", "kafka: topic " + prefix
        + ".accounts.account", "kafka: topic " + prefix + ".state.accounts", "kafka: consumer group " + prefix)),
        "cleanup finds what the migration created in Kafka: " + found);
    io.cutover.engine.migration.Cleanup.run(config, false);
    try (Admin admin = Admin.create(p)) {
      long deadline = System.nanoTime() + 30_000_000_000L;
      while (admin.listTopics().names().get().stream().anyMatch(t -> t.startsWith(prefix + "."))
          && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertTrue(admin.listTopics().names().get().stream().noneMatch(t -> t.startsWith(prefix + ".")),
          "and removes it");
    }
  }

  @Test
  void anotherInstanceTakesAServiceOverFromTheChangelogAfterItsOwnerIsKilled() throws Exception {
    DataSource monolith = database("kmig_tm");
    DataSource service = database("kmig_ts");
    for (long id = 1; id <= ACCOUNTS; id++) {
      exec(monolith, "INSERT INTO account VALUES (" + id + ", 'm" + id + "', 0)");
      exec(service, "INSERT INTO account VALUES (" + id + ", 'm" + id + "', 0)");
    }
    String prefix = "to" + UUID.randomUUID().toString().substring(0, 6);
    Path first = config("first", monolith, service, "apply", prefix, prefix);
    Process owner = null;
    try (Migration capture = Migration.start(MigrationConfig.load(config("capture", monolith, service, "capture",
        prefix, prefix)))) {
      assertTrue(capture.syncs().isEmpty(), "a capture instance applies nothing");
      owner = new ProcessBuilder(TestSupport.javaCommand(KafkaMigrationWorker.class, first.toString()))
          .redirectErrorStream(true).redirectOutput(dir.resolve("first.log").toFile()).start();
      awaitLine(dir.resolve("first.log"), "ready");
      AtomicLongArray expected = new AtomicLongArray(ACCOUNTS + 1);
      AtomicBoolean writing = new AtomicBoolean(true);
      List<Throwable> failures = new java.util.concurrent.CopyOnWriteArrayList<>();
      List<Thread> threads = new ArrayList<>();
      for (DataSource side : List.of(monolith, service)) {
        Thread writer = new Thread(() -> {
          Random random = new Random(side == monolith ? 1 : 2);
          try {
            while (writing.get()) {
              int id = 1 + random.nextInt(ACCOUNTS);
              increment(side, id);
              expected.incrementAndGet(id);
              Thread.sleep(3);
            }
          } catch (Throwable e) {
            failures.add(e);
          }
        });
        writer.start();
        threads.add(writer);
      }
      awaitWriter(service, dir.resolve("first.log")); // the first instance owns the service and syncs
      try (Migration second = Migration.start(MigrationConfig.load(config("second", monolith, service, "apply",
          prefix, prefix)))) {
        Thread.sleep(2_000);
        owner.destroyForcibly().waitFor(); // SIGKILL, mid-stream
        Thread.sleep(8_000); // the group notices, the survivor takes the service over while writes go on
        writing.set(false);
        for (Thread writer : threads) {
          writer.join();
        }
        assertTrue(failures.isEmpty(), "writers: " + failures);
        awaitSame(monolith, QUERY, service, QUERY, Duration.ofSeconds(90));
        long[] counts = new long[ACCOUNTS + 1];
        for (int id = 1; id <= ACCOUNTS; id++) {
          counts[id] = expected.get(id);
        }
        assertCounters(monolith, counts);
        assertTrue(second.syncs().get("accounts").stats().toService() + second.syncs().get("accounts").stats()
            .toMonolith() > 0, "the survivor synced after the take-over");
        List<String> writers = rows(service, "SELECT applier FROM " + io.cutover.engine.apply.SideWriter
            .POSITION_TABLE + " WHERE applier LIKE 'sync-accounts#%'");
        assertEquals(2, writers.size(), "the killed owner and its successor both wrote, each under its own name: "
            + writers);
      }
    } finally {
      if (owner != null) {
        owner.destroyForcibly();
      }
    }
  }

  private static void awaitLine(Path log, String prefix) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      if (Files.exists(log)) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(Files.newInputStream(log),
            StandardCharsets.UTF_8))) {
          String line;
          while ((line = in.readLine()) != null) {
            if (line.startsWith(prefix)) {
              return;
            }
          }
        }
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the worker did not start: " + (Files.exists(log) ? Files.readString(log) : ""));
  }

  private static void awaitWriter(DataSource service, Path log) throws Exception {
    long deadline = System.nanoTime() + 120_000_000_000L;
    while (System.nanoTime() < deadline) {
      try {
        if (!rows(service, "SELECT applier FROM " + io.cutover.engine.apply.SideWriter.POSITION_TABLE
            + " WHERE applier LIKE 'sync-accounts#%'").isEmpty()) {
          return;
        }
      } catch (java.sql.SQLException e) {
        // its position table is not there yet
      }
      Thread.sleep(200);
    }
    throw new AssertionError("the first instance never synced: " + Files.readString(log));
  }

  private static void assertCounters(DataSource ds, long[] expected) throws Exception {
    List<String> visits = rows(ds, "SELECT visits FROM account WHERE id <= " + (expected.length - 1)
        + " ORDER BY id");
    List<String> want = new ArrayList<>();
    for (int id = 1; id < expected.length; id++) {
      want.add(Long.toString(expected[id]));
    }
    assertEquals(want, visits, "every increment on either side counted once on both");
  }
}
