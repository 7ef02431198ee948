package io.cutover.bench;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.backfill.Backfill;
import io.cutover.engine.backfill.BackfillProgress;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Online backfill PostgreSQL -> PostgreSQL: ROWS rows copied through logical decoding, the journal and the
 * applier, in chunks between watermarks, while a writer updates random rows at WRITE_RATE per second; then the
 * same table copied by a plain JDBC read-and-batch-insert (the baseline: what a one-off copy with no stream, no
 * watermarks and no writes costs on the same server). Both sides are compared at the end.
 *
 * <pre>
 * java $FLAGS -Xmx1g -cp bench/target/benchmarks.jar io.cutover.bench.BackfillHarness [ROWS] [CHUNK] [WRITE_RATE]
 * </pre>
 */
public final class BackfillHarness {
  private BackfillHarness() {}

  /**
   * Runs it.
   *
   * @param args rows, chunk size, writes per second during the copy.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int chunk = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
    int writeRate = args.length > 2 ? Integer.parseInt(args[2]) : 500;
    Path dir = Files.createTempDirectory("cutover-backfill-bench");
    System.out.printf("JDK %s, %d cores; %,d rows, chunks of %,d, %d updates/s during the copy%n",
        System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), rows, chunk, writeRate);
    try (EmbeddedPostgres pg = BenchEvents.postgres(dir)) {
      DataSource monolith = pg.getDatabase("postgres", "monolith");
      DataSource service = pg.getDatabase("postgres", "service");
      String ddl = "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, status VARCHAR(12) NOT "
          + "NULL, total NUMERIC(12,2), placed_at TIMESTAMPTZ NOT NULL, note TEXT)";
      try (Connection c = monolith.getConnection(); Statement st = c.createStatement()) {
        st.execute(ddl);
        st.execute("INSERT INTO orders SELECT g, g % 5000, 'paid', (g % 1000) + 0.99, TIMESTAMPTZ '2026-01-01' "
            + "+ g * INTERVAL '1 second', 'order ' || g FROM generate_series(1, " + rows + ") g");
        st.execute("ANALYZE orders");
      }
      try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
        st.execute(ddl);
        st.execute(ddl.replace("orders", "orders_copy"));
      }
      Properties credentials = new Properties();
      credentials.setProperty("user", "postgres");
      JdbcApplier applier = JdbcApplier.builder("service", service).source(Side.MONOLITH)
          .map(TableMapping.identity("orders")).build();
      AtomicLong updates = new AtomicLong();
      long copyNanos;
      try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
          .build()).apply(applier).start()) {
        Backfill backfill = Backfill.builder(Side.MONOLITH, monolith).tables("orders").chunkSize(chunk)
            .listener(p -> {
              if (p.done() || p.rowsDone() % (chunk * 25L) == 0) {
                System.out.println("  " + p.describe());
              }
            }).build();
        backfill.install();
        PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH,
            pg.getJdbcUrl("postgres", "monolith"), credentials).tables("orders", Backfill.WATERMARK_TABLE)
            .slot("cutover_backfill_bench").replicaIdentityFull(true).build();
        capture.install();
        capture.start(backfill.watermarked(pipeline));
        AtomicBoolean writing = new AtomicBoolean(true);
        Thread writer = new Thread(() -> {
          try (Connection c = monolith.getConnection();
               PreparedStatement st = c.prepareStatement("UPDATE orders SET status = 'shipped', total = total + 1 "
                   + "WHERE id = ?")) {
            long next = System.nanoTime();
            while (writing.get()) {
              st.setLong(1, 1 + ThreadLocalRandom.current().nextInt(rows));
              st.executeUpdate();
              updates.incrementAndGet();
              next += 1_000_000_000L / Math.max(1, writeRate);
              long wait = next - System.nanoTime();
              if (wait > 0) {
                Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
              }
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        long started = System.nanoTime();
        writer.start();
        List<BackfillProgress> done = backfill.run();
        copyNanos = System.nanoTime() - started;
        writing.set(false);
        writer.join();
        long deadline = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        String all = "SELECT md5(string_agg(id || ':' || status || ':' || total, ',' ORDER BY id)) FROM orders";
        while (!single(monolith, all).equals(single(service, all)) && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        System.out.printf("online backfill: %,d rows in %.1f s = %,.0f rows/s while %,d updates ran; both sides "
            + "equal: %s%n", done.get(0).rowsDone(), copyNanos / 1e9, done.get(0).rowsDone() / (copyNanos / 1e9),
            updates.get(), single(monolith, all).equals(single(service, all)));
        capture.close();
      } finally {
        applier.close();
      }
      long t0 = System.nanoTime();
      long copied = 0;
      try (Connection from = monolith.getConnection(); Connection to = service.getConnection()) {
        from.setAutoCommit(false);
        to.setAutoCommit(false);
        try (Statement read = from.createStatement()) {
          read.setFetchSize(5_000);
          try (ResultSet rs = read.executeQuery("SELECT id, customer_id, status, total, placed_at, note FROM orders");
               PreparedStatement insert = to.prepareStatement("INSERT INTO orders_copy VALUES (?, ?, ?, ?, ?, ?)")) {
            while (rs.next()) {
              for (int i = 1; i <= 6; i++) {
                insert.setObject(i, rs.getObject(i));
              }
              insert.addBatch();
              if (++copied % 5_000 == 0) {
                insert.executeBatch();
              }
            }
            insert.executeBatch();
          }
        }
        to.commit();
      }
      double baseline = (System.nanoTime() - t0) / 1e9;
      System.out.printf("baseline, JDBC read + batched insert, no stream, no writes: %,d rows in %.1f s = %,.0f "
          + "rows/s%n", copied, baseline, copied / baseline);
    }
  }

  private static String single(DataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return String.valueOf(rs.getString(1));
    }
  }
}
