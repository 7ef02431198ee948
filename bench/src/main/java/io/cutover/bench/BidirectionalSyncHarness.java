package io.cutover.bench;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.sync.BidirectionalSync;
import io.cutover.engine.sync.Conflict;
import io.cutover.engine.sync.ConflictPolicy;
import io.cutover.engine.sync.Rule;
import io.cutover.journal.JournalConfig;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.HdrHistogram.Histogram;

/**
 * Bi-directional sync PostgreSQL <-> PostgreSQL under load: two writers, one per side, each at half the rate,
 * update rows in their own key ranges, and a share of their changes goes to a small shared range both update
 * (real conflicts: a counter column and a last-writer-wins column). A probe after the sync stage records
 * commit-to-applied latency per change in each direction; conflict-detection delay is read from the conflict log
 * (detected minus the second change's commit).
 *
 * <p>Mode {@code oneway} is the baseline of the same run: the same total rate written on the monolith only and
 * applied one way by {@code JdbcApplier}.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.cutover.bench.BidirectionalSyncHarness [RATE] [SECONDS] [TX_ROWS]
 *     [CONFLICT_PERCENT] [bidi|oneway]
 * </pre>
 */
public final class BidirectionalSyncHarness {
  private static final int KEYS_PER_SIDE = 25_000;
  private static final int SHARED_KEYS = 200;

  private BidirectionalSyncHarness() {}

  /** Records commit-to-applied latency for the changes of one side, identified by their seq column. */
  static final class Probe implements ChangeHandler {
    final Histogram toService = new Histogram(TimeUnit.MINUTES.toNanos(5), 3);
    final Histogram toMonolith = new Histogram(TimeUnit.MINUTES.toNanos(5), 3);
    final long[] monolithCommitted;
    final long[] serviceCommitted;
    private final long[] batch = new long[1 << 16];
    private final boolean[] batchFromMonolith = new boolean[1 << 16];
    private int inBatch;
    volatile long applied;
    volatile boolean recording;

    Probe(int capacity) {
      monolithCommitted = new long[capacity];
      serviceCommitted = new long[capacity];
    }

    @Override
    public String name() {
      return "latency-probe";
    }

    @Override
    public void onChange(ChangeRecord change) {
      var event = change.decode();
      if (event.after() == null || !event.after().has("seq") || inBatch >= batch.length) {
        return;
      }
      batch[inBatch] = event.after().get("seq").asLong();
      batchFromMonolith[inBatch++] = event.side().isMonolith();
      applied++;
    }

    @Override
    public void onBatchEnd() {
      long now = System.nanoTime();
      for (int i = 0; i < inBatch; i++) {
        long[] committed = batchFromMonolith[i] ? monolithCommitted : serviceCommitted;
        int seq = (int) batch[i];
        if (recording && seq >= 0 && seq < committed.length && committed[seq] != 0) {
          (batchFromMonolith[i] ? toService : toMonolith).recordValue(Math.min(Math.max(0, now - committed[seq]),
              TimeUnit.MINUTES.toNanos(5)));
        }
      }
      inBatch = 0;
    }
  }

  /** Row versions on both sides' tables ({@code -Dcutover.bench.rowVersions=false}: writes conditioned on values). */
  private static final boolean ROW_VERSIONS = !"false".equals(System.getProperty("cutover.bench.rowVersions"));

  /**
   * Runs the harness and prints the result.
   *
   * @param args changes per second in all (default 10000), seconds (default 20), rows per transaction (default
   *     10), percent of changes to shared rows (default 1), mode bidi (default) or oneway.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 10_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 20;
    int txRows = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int conflictPercent = args.length > 3 ? Integer.parseInt(args[3]) : 1;
    boolean oneWay = args.length > 4 && "oneway".equals(args[4]);
    Path dir = BenchEvents.tempDir("bench-bidi");
    try (EmbeddedPostgres pg = BenchEvents.postgres(dir)) {
      Properties user = new Properties();
      user.setProperty("user", "postgres");
      String monolithUrl = pg.getJdbcUrl("postgres", "monolith");
      String serviceUrl = pg.getJdbcUrl("postgres", "service");
      DataSource monolith = pg.getDatabase("postgres", "monolith");
      DataSource service = pg.getDatabase("postgres", "service");
      for (DataSource ds : List.of(monolith, service)) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
          st.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, seq BIGINT NOT NULL, status TEXT, "
              + "quantity INT NOT NULL, updated_at TIMESTAMPTZ)");
          st.execute("INSERT INTO orders SELECT g, -1, 'new', 1000, timestamptz '2026-01-01 00:00:00+00' FROM "
              + "generate_series(0, "
              + (2 * KEYS_PER_SIDE + SHARED_KEYS) + ") g");
        }
      }
      int capacity = rate * (seconds + BenchEvents.warmupSeconds() + 2);
      Probe probe = new Probe(capacity);
      // Steady state: the rows enter sync's state through an online backfill first, as in a migration Cutover
      // copied (-Dcutover.bench.seed=false: every row's first change meets no state, as after a copy made by hand).
      io.cutover.engine.backfill.Backfill seed = oneWay || "false".equals(System.getProperty("cutover.bench.seed"))
          ? null : io.cutover.engine.backfill.Backfill.builder(Side.MONOLITH, monolith).tables("orders")
          .chunkSize(5_000).build();
      if (seed != null) {
        seed.install();
      }
      PostgresLogicalCapture monolithCapture = PostgresLogicalCapture.builder(Side.MONOLITH, monolithUrl, user)
          .tables(seed == null ? new String[] {"orders"}
              : new String[] {"orders", io.cutover.engine.backfill.Backfill.WATERMARK_TABLE}).slot("bench_monolith")
          .replicaIdentityFull(!"false".equals(System.getProperty("cutover.bench.identityFull")))
          .rowVersions(ROW_VERSIONS).build();
      PostgresLogicalCapture serviceCapture = PostgresLogicalCapture.builder(Side.service("orders"), serviceUrl, user)
          .tables("orders").slot("bench_service").replicaIdentityFull(true).rowVersions(ROW_VERSIONS).build();
      monolithCapture.install();
      if (!oneWay) {
        serviceCapture.install();
      }
      ChangeHandler handler = oneWay
          ? JdbcApplier.builder("orders", service).map(TableMapping.identity("orders")).build()
          : BidirectionalSync.builder("orders", monolith, service, dir.resolve("state"))
              .table(TableMapping.identity("orders"), ConflictPolicy.LAST_WRITER_WINS.column("quantity", Rule.COUNTER))
              .syncState(!"false".equals(System.getProperty("cutover.bench.syncState")))
              .build();
      try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
          .waitStrategy(io.cutover.engine.pipeline.WaitStrategyKind.valueOf(System.getProperty("cutover.bench.wait",
              "PARKING")))
          .build()).apply(handler).checksum(probe).start()) {
        monolithCapture.start(seed == null ? pipeline : seed.watermarked(pipeline));
        if (!oneWay) {
          serviceCapture.start(pipeline);
        }
        if (seed != null) {
          long started = System.nanoTime();
          seed.run();
          pipeline.awaitIdle(java.time.Duration.ofMinutes(2));
          System.out.printf("state seeded by an online backfill of %,d rows in %.1f s%n", 2 * KEYS_PER_SIDE
              + SHARED_KEYS + 1, (System.nanoTime() - started) / 1e9);
        }
        long seeded = probe.applied; // the backfill's rows, not the load's changes
        long[] written = new long[2];
        Thread serviceWriter = new Thread(() -> {
          if (!oneWay) {
            written[1] = load(serviceUrl, user, rate / 2, seconds, txRows, conflictPercent, KEYS_PER_SIDE,
                probe.serviceCommitted, probe);
          }
        });
        serviceWriter.start();
        written[0] = load(monolithUrl, user, oneWay ? rate : rate / 2, seconds, txRows, oneWay ? 0 : conflictPercent,
            0, probe.monolithCommitted, probe);
        serviceWriter.join();
        long total = written[0] + written[1];
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (probe.applied - seeded < total && System.nanoTime() < deadline) {
          Thread.sleep(10);
        }
        Histogram both = new Histogram(TimeUnit.MINUTES.toNanos(5), 3);
        both.add(probe.toService);
        both.add(probe.toMonolith);
        System.out.printf("%s: rate=%d changes/s tx=%d rows seconds=%d shared=%d%% written=%d applied=%d "
                + "commit-to-applied ms: p50=%.1f p95=%.1f p99=%.1f max=%.1f (to service p95=%.1f, to monolith "
                + "p95=%.1f)%n", oneWay ? "one-way (baseline)" : "bi-directional", rate, txRows, seconds,
            conflictPercent, total, probe.applied - seeded, ms(both.getValueAtPercentile(50)),
            ms(both.getValueAtPercentile(95)), ms(both.getValueAtPercentile(99)), ms(both.getMaxValue()),
            ms(probe.toService.getValueAtPercentile(95)), ms(probe.toMonolith.getValueAtPercentile(95)));
        if (handler instanceof BidirectionalSync sync) {
          Histogram detection = new Histogram(TimeUnit.MINUTES.toMicros(5), 3);
          List<Conflict> conflicts = sync.conflicts(100_000);
          for (Conflict conflict : conflicts) {
            if (conflict.incomingCommitMicros() > 0) {
              detection.recordValue(Math.min(Math.max(0, conflict.detectedMicros() - conflict.incomingCommitMicros()),
                  TimeUnit.MINUTES.toMicros(5)));
            }
          }
          System.out.printf("conflicts=%d detection delay (second change's commit to detected) ms: p50=%.1f "
                  + "p95=%.1f max=%.1f; stats %s%n", conflicts.size(), detection.getValueAtPercentile(50) / 1e3,
              detection.getValueAtPercentile(95) / 1e3, detection.getMaxValue() / 1e3, sync.stats());
        }
      } finally {
        monolithCapture.close();
        serviceCapture.close();
        if (handler instanceof AutoCloseable closeable) {
          closeable.close();
        }
        monolithCapture.uninstall();
        if (!oneWay) {
          serviceCapture.uninstall();
        }
      }
    } finally {
      BenchEvents.delete(dir);
    }
  }

  private static double ms(long nanos) {
    return nanos / 1e6;
  }

  /** Writes at the set rate for the warm-up (3 s unless set) plus the measured seconds; returns the changes written. */
  private static long load(String url, Properties user, int rate, int seconds, int txRows, int conflictPercent,
      int keyBase, long[] committed, Probe probe) {
    java.util.Random random = new java.util.Random(keyBase);
    try (Connection c = java.sql.DriverManager.getConnection(url, user);
         PreparedStatement update = c.prepareStatement("UPDATE orders SET seq = ?, status = ?, "
             + "quantity = quantity + ?, updated_at = now() WHERE id = ?")) {
      return BenchEvents.pacedLoad(c, update, rate, seconds, txRows, committed, () -> probe.recording = true,
          (statement, seq) -> {
            boolean shared = random.nextInt(100) < conflictPercent;
            long key = shared ? 2L * KEYS_PER_SIDE + random.nextInt(SHARED_KEYS) : keyBase + (seq % KEYS_PER_SIDE);
            statement.setLong(1, seq);
            statement.setString(2, "s" + (seq % 7));
            statement.setInt(3, random.nextInt(5) - 2);
            statement.setLong(4, key);
          });
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
