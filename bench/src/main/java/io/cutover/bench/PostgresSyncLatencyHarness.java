package io.cutover.bench;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;

/**
 * One-way sync PostgreSQL -> PostgreSQL under load: a load generator writes row changes at a set rate on the
 * monolith (transactions of TX_ROWS inserts or updates), Cutover captures them by logical decoding, journals
 * and applies them mapped to the service. A probe in the checksum stage (which sees a change only after the
 * applier committed it) records commit-to-applied latency per change: from the moment the writer's COMMIT
 * returned to the moment the change was committed in the service. Starts its own PostgreSQL server.
 *
 * <p>Mode {@code native} is the baseline: the same load replicated by PostgreSQL's own logical replication
 * (publication and subscription, no Cutover), its latency read by polling the service for the highest change
 * sequence applied (every 1 ms).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.cutover.bench.PostgresSyncLatencyHarness [RATE] [SECONDS] [TX_ROWS] [cutover|native]
 * </pre>
 */
public final class PostgresSyncLatencyHarness {
  private PostgresSyncLatencyHarness() {}

  /** Records commit-to-applied latency; the row id travels as the key, the commit time in a side table. */
  static final class Probe implements ChangeHandler {
    final Histogram histogram = new Histogram(TimeUnit.MINUTES.toNanos(5), 3);
    private final long[] committedNanos;
    private final long[] batch = new long[1 << 16];
    private int inBatch;
    volatile long applied;
    volatile boolean recording;

    Probe(long[] committedNanos) {
      this.committedNanos = committedNanos;
    }

    @Override
    public String name() {
      return "latency-probe";
    }

    @Override
    public void onChange(ChangeRecord change) {
      if (inBatch < batch.length) {
        var after = change.decode().after();
        batch[inBatch++] = after == null ? -1 : after.get("seq").asLong();
      }
      applied++;
    }

    @Override
    public void onBatchEnd() {
      long now = System.nanoTime();
      for (int i = 0; i < inBatch; i++) {
        long seq = batch[i];
        if (recording && seq >= 0 && seq < committedNanos.length && committedNanos[(int) seq] != 0) {
          histogram.recordValue(Math.min(Math.max(0, now - committedNanos[(int) seq]), TimeUnit.MINUTES.toNanos(5)));
        }
      }
      inBatch = 0;
    }
  }

  /**
   * Runs the harness and prints the result.
   *
   * @param args row changes per second (default 10000), seconds (default 20), rows per transaction (default 10).
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int txRows = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    boolean nativeReplication = args.length > 3 && "native".equals(args[3]);
    Path dir = BenchEvents.tempDir("bench-sync");
    try (EmbeddedPostgres pg = BenchEvents.postgres(dir)) {
      Properties user = new Properties();
      user.setProperty("user", "postgres");
      String monolithUrl = pg.getJdbcUrl("postgres", "monolith");
      try (Connection c = java.sql.DriverManager.getConnection(monolithUrl, user); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, customer TEXT, "
            + "total NUMERIC(12,2), status TEXT, updated_at TIMESTAMPTZ)");
      }
      javax.sql.DataSource service = pg.getDatabase("postgres", "service");
      try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE purchases (order_id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, customer TEXT, "
            + "total NUMERIC(12,2), status TEXT, updated_at TIMESTAMPTZ)");
      }
      long total = (long) rate * (seconds + BenchEvents.warmupSeconds());
      long[] committed = new long[(int) total + 1];
      Probe probe = new Probe(committed);
      if (nativeReplication) {
        runNative(pg, monolithUrl, user, service, rate, seconds, txRows, committed, probe);
        return;
      }
      PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH, monolithUrl, user)
          .tables("orders").build();
      capture.install();
      try (JdbcApplier applier = JdbcApplier.builder("purchases", service)
               .map(TableMapping.renamed("orders", "purchases").withColumns(Map.of("id", "order_id", "seq", "seq",
                   "customer", "customer", "total", "total", "status", "status", "updated_at", "updated_at")))
               .build();
           Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
               .build()).apply(applier).checksum(probe).start()) {
        capture.start(pipeline);
        long produced = load(monolithUrl, user, rate, seconds, txRows, committed, probe);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (probe.applied < produced && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        Histogram h = probe.histogram;
        System.out.printf("rate=%d rows/s tx=%d rows seconds=%d written=%d applied=%d commit-to-applied ms: "
                + "p50=%.1f p95=%.1f p99=%.1f max=%.1f%n", rate, txRows, seconds, produced, probe.applied,
            ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(95)), ms(h.getValueAtPercentile(99)),
            ms(h.getMaxValue()));
      } finally {
        capture.uninstall();
      }
    } finally {
      BenchEvents.delete(dir);
    }
  }

  /** The baseline: PostgreSQL's built-in logical replication of the same table under the same load. */
  private static void runNative(EmbeddedPostgres pg, String monolithUrl, Properties user,
      javax.sql.DataSource service, int rate, int seconds, int txRows, long[] committed, Probe probe)
      throws Exception {
    try (Connection c = java.sql.DriverManager.getConnection(monolithUrl, user); Statement st = c.createStatement()) {
      st.execute("CREATE PUBLICATION native_pub FOR TABLE orders");
      // In one cluster CREATE SUBSCRIPTION cannot create its own slot (it would wait for itself): make it first.
      st.execute("SELECT pg_create_logical_replication_slot('native_sub', 'pgoutput')");
    }
    try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, customer TEXT, "
          + "total NUMERIC(12,2), status TEXT, updated_at TIMESTAMPTZ)");
      st.execute("CREATE SUBSCRIPTION native_sub CONNECTION 'host=127.0.0.1 port=" + pg.getPort()
          + " dbname=monolith user=postgres' PUBLICATION native_pub WITH (create_slot = false, slot_name = 'native_sub')");
    }
    long[] seen = {-1};
    Thread poller = new Thread(() -> {
      try (Connection c = service.getConnection();
           PreparedStatement max = c.prepareStatement("SELECT max(seq) FROM orders")) {
        while (!Thread.currentThread().isInterrupted()) {
          long now = System.nanoTime();
          try (java.sql.ResultSet rs = max.executeQuery()) {
            long top = rs.next() ? rs.getLong(1) : -1;
            for (long s = seen[0] + 1; s <= top; s++) {
              if (probe.recording && committed[(int) s] != 0) {
                probe.histogram.recordValue(Math.min(Math.max(0, now - committed[(int) s]),
                    TimeUnit.MINUTES.toNanos(5)));
              }
            }
            if (top > seen[0]) {
              probe.applied = top + 1;
              seen[0] = top;
            }
          }
          LockSupport.parkNanos(1_000_000);
        }
      } catch (java.sql.SQLException e) {
        if (!Thread.currentThread().isInterrupted()) {
          throw new IllegalStateException(e);
        }
      }
    });
    poller.start();
    long produced = load(monolithUrl, user, rate, seconds, txRows, committed, probe);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (probe.applied < produced && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    poller.interrupt();
    poller.join();
    try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
      st.execute("ALTER SUBSCRIPTION native_sub DISABLE");
      st.execute("ALTER SUBSCRIPTION native_sub SET (slot_name = NONE)");
      st.execute("DROP SUBSCRIPTION native_sub");
    }
    try (Connection c = java.sql.DriverManager.getConnection(monolithUrl, user); Statement st = c.createStatement()) {
      st.execute("SELECT pg_drop_replication_slot('native_sub')");
    }
    Histogram h = probe.histogram;
    System.out.printf("native logical replication: rate=%d rows/s tx=%d rows seconds=%d written=%d applied=%d "
            + "commit-to-applied ms: p50=%.1f p95=%.1f p99=%.1f max=%.1f%n", rate, txRows, seconds, produced,
        probe.applied, ms(h.getValueAtPercentile(50)), ms(h.getValueAtPercentile(95)),
        ms(h.getValueAtPercentile(99)), ms(h.getMaxValue()));
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  /** Writes at the set rate for 3 s of warm-up plus the measured seconds; returns the changes written. */
  private static long load(String url, Properties user, int rate, int seconds, int txRows, long[] committed,
      Probe probe) throws Exception {
    int keys = 50_000;
    try (Connection c = java.sql.DriverManager.getConnection(url, user);
         PreparedStatement upsert = c.prepareStatement("INSERT INTO orders (id, seq, customer, total, status, "
             + "updated_at) VALUES (?, ?, 'customer', 12.50, 'paid', now()) ON CONFLICT (id) DO UPDATE SET "
             + "seq = EXCLUDED.seq, status = EXCLUDED.status, updated_at = EXCLUDED.updated_at")) {
      return BenchEvents.pacedLoad(c, upsert, rate, seconds, txRows, committed, () -> probe.recording = true,
          (statement, seq) -> {
            statement.setLong(1, seq % keys);
            statement.setLong(2, seq);
          });
    }
  }
}
