package io.cutover.engine.backfill;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.ChangeCapture;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Online backfill under concurrent writes, on both capture methods: the trigger capture on the embedded H2 default
 * and logical decoding on a real PostgreSQL. Writers update, insert and delete rows of the table while it is
 * copied in small chunks; afterwards the service holds exactly the monolith's rows. A backfill that dies between
 * chunks resumes after the last chunk it recorded.
 */
@Timeout(180)
class BackfillTest {
  private static final int ROWS = 3_000;
  private static final String ITEMS = "SELECT id, qty, name FROM items ORDER BY id";
  @TempDir Path dir;
  private final List<AutoCloseable> open = new ArrayList<>();
  /** One slot across the runs, as one engine keeps: a restart resumes where the last run confirmed. */
  private final String slot = "cutover_bf_" + UUID.randomUUID().toString().substring(0, 8);

  private static JdbcDataSource h2(String name) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + name + "-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return ds;
  }

  private ChangeCapture capture(boolean postgres, DataSource monolith) throws Exception {
    if (!postgres) {
      return TriggerCapture.builder(Side.MONOLITH, monolith).tables("items", Backfill.WATERMARK_TABLE)
          .pollInterval(Duration.ofMillis(2)).build();
    }
    Properties credentials = new Properties();
    credentials.setProperty("user", "postgres");
    String url;
    try (Connection c = monolith.getConnection()) {
      url = c.getMetaData().getURL();
    }
    return PostgresLogicalCapture.builder(Side.MONOLITH, url, credentials).tables("items", Backfill.WATERMARK_TABLE)
        .slot(slot).replicaIdentityFull(true)
        .heartbeat(Duration.ofMillis(200)).build();
  }

  private void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    open.clear();
  }

  /** Runs capture, pipeline and apply around a backfill; the listener may throw to play a crash between chunks. */
  private List<BackfillProgress> copy(boolean postgres, DataSource monolith, DataSource service, Path journal,
      java.util.function.Consumer<BackfillProgress> listener) throws Exception {
    try {
      JdbcApplier applier = JdbcApplier.builder("svc", service).source(Side.MONOLITH)
          .map(TableMapping.identity("items")).build();
      open.add(applier);
      Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(journal)).ringSize(1024)
          .retryBackoff(Duration.ofMillis(5), Duration.ofMillis(100)).build()).apply(applier).start();
      open.add(pipeline);
      Backfill backfill = Backfill.builder(Side.MONOLITH, monolith).tables("items").chunkSize(97)
          .chunkTimeout(Duration.ofSeconds(30)).listener(listener).build();
      backfill.install();
      ChangeCapture capture = capture(postgres, monolith);
      capture.install();
      open.add(capture);
      capture.start(backfill.watermarked(pipeline));
      return backfill.run();
    } finally {
      closeAll();
    }
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(booleans = {false, true})
  void aBackfillUnderConcurrentWritesEndsWithBothSidesEqualAndResumesAfterACrash(boolean postgres) throws Exception {
    DataSource monolith = postgres ? Postgres.newDatabase("bf_mono") : h2("bf-mono");
    DataSource service = postgres ? Postgres.newDatabase("bf_svc") : h2("bf-svc");
    exec(monolith, "CREATE TABLE items (id BIGINT PRIMARY KEY, qty INT NOT NULL, name VARCHAR(40))");
    exec(service, "CREATE TABLE items (id BIGINT PRIMARY KEY, qty INT NOT NULL, name VARCHAR(40))");
    exec(monolith, postgres
        ? "INSERT INTO items SELECT g, g % 50, 'item ' || g FROM generate_series(1, " + ROWS + ") g"
        : "INSERT INTO items SELECT X, MOD(X, 50), 'item ' || X FROM SYSTEM_RANGE(1, " + ROWS + ")");
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicInteger writes = new AtomicInteger();
    Thread writer = new Thread(() -> {
      ThreadLocalRandom random = ThreadLocalRandom.current();
      int next = ROWS + 1;
      while (writing.get()) {
        try {
          int op = random.nextInt(10);
          if (op < 6) {
            exec(monolith, "UPDATE items SET qty = qty + 1, name = 'changed' WHERE id = " + (1 + random.nextInt(ROWS)));
          } else if (op < 8) {
            exec(monolith, "INSERT INTO items VALUES (" + next++ + ", 1, 'new')");
          } else {
            exec(monolith, "DELETE FROM items WHERE id = " + (1 + random.nextInt(next)));
          }
          writes.incrementAndGet();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }
    });
    writer.start();
    Path journal = dir.resolve("journal");
    List<BackfillProgress> seen = new ArrayList<>();
    try {
      IllegalStateException crash = assertThrows(IllegalStateException.class, () -> copy(postgres, monolith, service,
          journal, p -> {
            seen.add(p);
            if (seen.size() == 5) {
              throw new IllegalStateException("the engine dies between chunks");
            }
          }));
      assertEquals("the engine dies between chunks", crash.getMessage());
      long recorded = Long.parseLong(rows(monolith, "SELECT rows_done FROM cutover_backfill").get(0));
      assertEquals(5 * 97, recorded, "five chunks recorded before the crash");
      List<BackfillProgress> resumed = new ArrayList<>();
      List<BackfillProgress> done = copy(postgres, monolith, service, journal, resumed::add);
      assertTrue(resumed.get(0).rowsDone() > recorded, "the second run went on from the sixth chunk: "
          + resumed.get(0));
      assertTrue(done.get(0).done());
      assertTrue(done.get(0).rowsDone() >= ROWS - ROWS / 5, done.toString());
      assertTrue(done.get(0).describe().startsWith("items: "), done.get(0).describe());
    } finally {
      writing.set(false);
      writer.join();
    }
    assertTrue(writes.get() > 50, "the table was written while it was copied: " + writes.get());
    // the backfill is done; capture runs on for the writes made after it, as it would in a migration
    try {
      JdbcApplier applier = JdbcApplier.builder("svc", service).source(Side.MONOLITH)
          .map(TableMapping.identity("items")).build();
      open.add(applier);
      Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(journal)).ringSize(1024)
          .build()).apply(applier).start();
      open.add(pipeline);
      ChangeCapture capture = capture(postgres, monolith);
      open.add(capture);
      capture.start(pipeline);
      TestSupport.awaitSame(monolith, ITEMS, service, ITEMS, Duration.ofSeconds(60));
    } finally {
      closeAll();
    }
    assertEquals(rows(monolith, ITEMS), rows(service, ITEMS), "every row copied, none older than the stream's");
  }
}
