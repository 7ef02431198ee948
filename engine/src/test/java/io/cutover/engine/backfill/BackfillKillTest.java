package io.cutover.engine.backfill;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static io.cutover.engine.testing.TestSupport.url;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import io.cutover.engine.migration.Cleanup;
import io.cutover.engine.sync.BidiCrashWorker;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.JournalReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The online backfill SIGKILLed mid-copy: the engine runs in a JVM of its own ({@code Migration} from a YAML file
 * with {@code backfill:}, as {@code cutover run} does) and copies a table of many small rows from the monolith's
 * PostgreSQL into the service's while applications update, delete and insert the monolith's rows. It is killed
 * while the copy is part way through and started again: the copy resumes after the last chunk it recorded on the
 * source (it does not start over: at most the chunk in flight at a kill is copied twice), and both sides end
 * identical, every concurrent change in the service. It is killed a second time while the restarted engine catches
 * up on the changes the first run had journaled but not applied (one big batch).
 *
 * <p>Each kill lands while sync has a write transaction open on the service (its batch decided, not committed), and
 * the rows are about 220 bytes, so sync's state for the 100,000 rows is some 40 MB and the catch-up batch touches
 * most of it. Before main's bce3ba8 this lost thousands of changes (the state store wrote part of a big batch by
 * itself: 6,805 and 10,955 rows apart in two runs). After that fix and before handler batches were bounded, the
 * engine (the 256 MB heap of {@link TestSupport#javaCommand}) ran out of memory committing the catch-up batch and
 * retried it forever: docs/defects/sync-catch-up-batch-memory-2026-12-07.md.
 */
@Timeout(240)
class BackfillKillTest {
  private static final int ROWS = 100_000;
  private static final int CHUNK = 1_000;
  private static final String ITEMS = "SELECT id, qty, name FROM items ORDER BY id";
  private static final String DIGEST = "SELECT count(*), coalesce(sum(hashtext(id || '|' || qty || '|' || "
      + "coalesce(name, '-'))::bigint), 0) FROM items";
  @TempDir Path dir;

  @Test
  void aBackfillKilledMidCopyResumesAndEndsWithBothSidesIdentical() throws Exception {
    DataSource monolith = Postgres.newDatabase("bfkill_mono");
    DataSource service = Postgres.newDatabase("bfkill_svc");
    exec(monolith, "CREATE TABLE items (id BIGINT PRIMARY KEY, qty INT NOT NULL, name TEXT)",
        "INSERT INTO items SELECT g, g % 50, rpad('item ' || g, 200, '.') FROM generate_series(1, " + ROWS + ") g",
        "ANALYZE items");
    exec(service, "CREATE TABLE items (id BIGINT PRIMARY KEY, qty INT NOT NULL, name TEXT)");
    String slot = "bfk_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    Path file = dir.resolve("cutover.yaml");
    // sync: none spares a device flush per batch: a killed process loses nothing the OS has (the journal is mapped
    // memory), and the copy runs about twice as fast on this disk
    Files.writeString(file, String.join("\n",
        "journal: {directory: journal, sync: none}",
        "state: {directory: state}",
        "sides:",
        "  monolith: {url: '" + url(monolith) + "', user: postgres, slot: " + slot + "_m}",
        "  services:",
        "    inventory: {url: '" + url(service) + "', user: postgres, slot: " + slot + "_s}",
        "tables:",
        "  - {source: items, service: inventory}",
        "backfill: {chunk: " + CHUNK + "}",
        ""));
    MigrationConfig config = MigrationConfig.load(file, Map.<String, String>of()::get);
    long started = System.nanoTime();
    // What the applications did to the monolith meanwhile: the last name written to each row, the rows deleted,
    // the rows inserted (absent: untouched or deleted).
    Map<Long, String> changed = new ConcurrentHashMap<>();
    AtomicLong writes = new AtomicLong();
    AtomicBoolean writing = new AtomicBoolean(true);
    List<Thread> writers = new ArrayList<>();
    Process engine = null;
    try {
      engine = TestSupport.startWorker(BidiCrashWorker.class, dir.resolve("engine-1.err"), file.toString());
      long copyStarted = System.nanoTime();
      for (int w = 0; w < 2; w++) {
        int writer = w;
        Thread thread = new Thread(() -> write(monolith, writer, writing, changed, writes), "writer-" + w);
        thread.start();
        writers.add(thread);
      }
      // Kill it part way through the copy (a third of the rows recorded done, the table not finished), at a moment
      // sync is writing a batch to the service: its decisions made, the batch not committed.
      long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
      long[] progress = progress(monolith);
      while (progress[0] < ROWS / 3) {
        assertTrue(System.nanoTime() < deadline, "the backfill did not get a third through in 90 s");
        Thread.sleep(10);
        progress = progress(monolith);
      }
      killWhileSyncWrites(engine, service);
      long recordedAtKill = progress(monolith)[0];
      assertEquals(0, progress(monolith)[1], "killed mid-copy, not after it");
      assertTrue(recordedAtKill < ROWS, "killed mid-copy: " + recordedAtKill);
      String serviceRowsAtKill = rows(service, "SELECT count(*) FROM items").get(0);
      long journaledAtKill = journalRecords(dir.resolve("journal"));
      Thread.sleep(500); // the monolith's applications go on while the engine is down

      // Killed again while the restarted engine catches up on what the first run left unapplied (a big batch, for
      // the service lagged the copy); the copy is still under way.
      String positionAtKill = rows(service, "SELECT journal_index FROM cutover_apply_position").toString();
      engine = TestSupport.startWorker(BidiCrashWorker.class, dir.resolve("engine-2.err"), file.toString());
      killWhileSyncWrites(engine, service);
      boolean caughtUp = !rows(service, "SELECT journal_index FROM cutover_apply_position").toString()
          .equals(positionAtKill);
      assertEquals(0, progress(monolith)[1], "killed again mid-copy");
      Thread.sleep(500);

      engine = TestSupport.startWorker(BidiCrashWorker.class, dir.resolve("engine-3.err"), file.toString());
      // The progress the restarted copy records goes on from the kill's; it never starts from the beginning again.
      long lowestAfterRestart = Long.MAX_VALUE;
      deadline = System.nanoTime() + Duration.ofSeconds(150).toNanos();
      do {
        assertTrue(System.nanoTime() < deadline, "the resumed backfill did not finish in 150 s: " + progress[0]
            + " rows recorded done, the service holds " + rows(service, "SELECT count(*) FROM items").get(0));
        Thread.sleep(10);
        progress = progress(monolith);
        lowestAfterRestart = Math.min(lowestAfterRestart, progress[0]);
      } while (progress[1] == 0);
      double copySeconds = (System.nanoTime() - copyStarted) / 1e9;
      writing.set(false);
      for (Thread t : writers) {
        t.join();
      }
      assertTrue(lowestAfterRestart >= recordedAtKill, "the restarted copy recorded " + lowestAfterRestart
          + " rows done, fewer than the " + recordedAtKill + " recorded before the kill: it started over");

      // Sync carries the last changes; then both sides are identical, row for row.
      try {
        TestSupport.awaitSame(monolith, DIGEST, service, DIGEST, Duration.ofSeconds(60));
      } catch (AssertionError e) {
        throw new AssertionError("the sides did not converge; " + differences(monolith, service), e);
      }
      List<String> monolithRows = rows(monolith, ITEMS);
      assertEquals(monolithRows, rows(service, ITEMS), "the service holds exactly the monolith's rows");
      engine.destroyForcibly();
      assertTrue(engine.waitFor(30, TimeUnit.SECONDS));
      engine = null;

      // Every change the applications made during the copy is there.
      Map<Long, String> byId = new HashMap<>();
      for (String row : monolithRows) {
        String[] columns = row.split("\\|");
        byId.put(Long.parseLong(columns[0]), columns[2]);
      }
      List<String> lost = new ArrayList<>();
      changed.forEach((id, name) -> {
        String now = byId.get(id);
        boolean deleted = name.equals("deleted");
        if (deleted ? now != null : !name.equals(now)) {
          lost.add(id + ": expected " + name + ", found " + now);
        }
      });
      assertEquals(List.of(), lost, "concurrent changes missing");

      // Resumed, not started over: the journal holds each row's snapshot copy once, but for the chunks a kill
      // interrupted (journaled, not yet recorded done).
      Map<Long, Integer> copies = snapshotCopies(dir.resolve("journal"));
      long copiedTwice = copies.values().stream().filter(n -> n > 1).count();
      long copiedThrice = copies.values().stream().filter(n -> n > 2).count();
      long journaledAfter = journalRecords(dir.resolve("journal")) - journaledAtKill;
      String report = String.format(java.util.Locale.ROOT, "backfill kill: %,d rows; killed with %,d recorded done "
          + "(%s rows in the service), killed again %s the catch-up was applied; %,d application writes during the "
          + "copy; after the first kill %,d records journaled; %,d rows copied (snapshot reads) in all, %,d of them "
          + "twice; copy (kills and restarts included) %.1f s, test %.1f s", ROWS, recordedAtKill, serviceRowsAtKill,
          caughtUp ? "after" : "before", writes.get(), journaledAfter, copies.size(), copiedTwice, copySeconds,
          (System.nanoTime() - started) / 1e9);
      System.out.println(report);
      assertTrue(copiedTwice <= 2L * CHUNK && copiedThrice <= CHUNK, report);
      assertTrue(journaledAfter < ROWS - recordedAtKill + 4L * writes.get() + 2L * CHUNK, "the runs after the kill "
          + "journaled about what was left to copy and the changes, not the whole table again: " + report);
    } catch (Throwable e) {
      // what the engines said, for the failure's report (the directory goes with the test)
      for (int run = 1; run <= 3; run++) {
        Path log = dir.resolve("engine-" + run + ".err");
        if (Files.exists(log)) {
          List<String> lines = Files.readAllLines(log).stream().filter(l -> !l.contains("openhft")
              && !l.trim().startsWith("at ") && !l.trim().startsWith("...")).toList();
          System.out.println("engine run " + run + ":\n  " + String.join("\n  ", lines.subList(Math.max(0,
              lines.size() - 40), lines.size())));
        }
      }
      throw e;
    } finally {
      writing.set(false);
      for (Thread t : writers) {
        t.join();
      }
      if (engine != null) {
        engine.destroyForcibly();
        engine.waitFor(30, TimeUnit.SECONDS);
      }
      Cleanup.run(config, false);
    }
  }

  /**
   * SIGKILLs the engine as soon as sync has a write transaction open on the service (within 5 s, else anyway).
   */
  private static void killWhileSyncWrites(Process engine, DataSource service) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline && rows(service, "SELECT count(*) FROM pg_stat_activity WHERE datname = "
        + "current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()").get(0).equals("0")) {
      Thread.sleep(2);
    }
    engine.destroyForcibly(); // SIGKILL
    assertTrue(engine.waitFor(30, TimeUnit.SECONDS));
  }

  /** The rows that differ between the sides (the first 20, with the counts), for a failure's message. */
  private static String differences(DataSource monolith, DataSource service) throws Exception {
    java.util.Set<String> m = new java.util.HashSet<>(rows(monolith, ITEMS));
    java.util.Set<String> s = new java.util.HashSet<>(rows(service, ITEMS));
    java.util.TreeMap<Long, String> diff = new java.util.TreeMap<>();
    for (String row : m) {
      if (!s.contains(row)) {
        diff.merge(Long.parseLong(row.split("\\|")[0]), "monolith " + row, (a, b) -> a + ", " + b);
      }
    }
    for (String row : s) {
      if (!m.contains(row)) {
        diff.merge(Long.parseLong(row.split("\\|")[0]), "service " + row, (a, b) -> a + ", " + b);
      }
    }
    return diff.size() + " rows differ (monolith " + m.size() + " rows, service " + s.size() + "), first: "
        + diff.values().stream().limit(20).toList();
  }

  /** The monolith's record of the copy: rows done and whether it is finished ({0, 0} before the first chunk). */
  private static long[] progress(DataSource monolith) throws Exception {
    List<String> row = rows(monolith, "SELECT rows_done, CASE WHEN done THEN 1 ELSE 0 END FROM "
        + Backfill.PROGRESS_TABLE + " WHERE table_name = 'items'");
    if (row.isEmpty()) {
      return new long[] {0, 0};
    }
    String[] columns = row.get(0).split("\\|");
    return new long[] {Long.parseLong(columns[0]), Long.parseLong(columns[1])};
  }

  /** An application on the monolith: renames, deletes and inserts rows (each writer its own rows). */
  private static void write(DataSource monolith, int writer, AtomicBoolean writing, Map<Long, String> changed,
      AtomicLong writes) {
    Random random = new Random(writer);
    long next = ROWS + 1 + writer;
    try (Connection c = monolith.getConnection();
         PreparedStatement update = c.prepareStatement("UPDATE items SET qty = qty + 1, name = ? WHERE id = ?");
         PreparedStatement delete = c.prepareStatement("DELETE FROM items WHERE id = ?");
         PreparedStatement insert = c.prepareStatement("INSERT INTO items VALUES (?, 1, ?)")) {
      int n = 0;
      while (writing.get()) {
        int op = random.nextInt(10);
        // Writer 0 takes the even rows, writer 1 the odd ones: each row's last change is known.
        long id = 2L * (random.nextInt(ROWS / 2)) + 1 + (writer == 0 ? 1 : 0);
        String name = "w" + writer + "-" + n++;
        if (op < 6) {
          update.setString(1, name);
          update.setLong(2, id);
          if (update.executeUpdate() == 1) {
            changed.put(id, name);
          }
        } else if (op < 8) {
          delete.setLong(1, id);
          delete.executeUpdate();
          changed.put(id, "deleted");
        } else {
          insert.setLong(1, next);
          insert.setString(2, name);
          insert.executeUpdate();
          changed.put(next, name);
          next += 2;
        }
        writes.incrementAndGet();
        Thread.sleep(5);
      }
    } catch (Exception e) {
      throw new IllegalStateException("writer " + writer + " failed", e);
    }
  }

  /** The number of records in the engine's journal (read while no engine runs). */
  private static long journalRecords(Path journal) {
    long[] n = {0};
    try (Journal j = Journal.open(JournalConfig.of(journal)); JournalReader reader = j.readAfter(Journal.NO_INDEX)) {
      while (reader.next((index, buffer, offset, length) -> n[0]++)) {
        // counting
      }
    }
    return n[0];
  }

  /** How many times each row of items was copied into the journal as a snapshot read, over both runs. */
  private static Map<Long, Integer> snapshotCopies(Path journal) {
    Map<Long, Integer> copies = new HashMap<>();
    try (Journal j = Journal.open(JournalConfig.of(journal)); JournalReader reader = j.readAfter(Journal.NO_INDEX)) {
      while (reader.next((index, buffer, offset, length) -> {
        if (EventCodec.operation(buffer, offset) == Operation.SNAPSHOT_READ) {
          ChangeEvent event = EventCodec.decode(buffer, offset, length);
          if (event.table().equals("items")) {
            copies.merge(event.key().get("id").asLong(), 1, Integer::sum);
          }
        }
      })) {
        // counting
      }
    }
    return copies;
  }
}
