package io.cutover.bench;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.validate.ValidationReport;
import io.cutover.engine.validate.Validator;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;

/**
 * Full validation of a table pair on real PostgreSQL: ROWS rows on each side (an orders table of six columns:
 * bigint, bigint, text, numeric, timestamptz, text), DIFFS of them damaged on the service. Runs, in one process:
 * <ol>
 *   <li>baseline {@code scan}: both tables streamed in parallel by JDBC with the same fetch size, every value read,
 *       nothing hashed (the floor any client-side validator pays);</li>
 *   <li>baseline {@code server-checksum}: a pt-table-checksum style whole-table checksum computed inside
 *       PostgreSQL on both databases in parallel ({@code bit_xor} of a per-row md5): it says whether the tables
 *       differ, not where;</li>
 *   <li>baseline {@code copy}: both tables streamed in parallel with {@code COPY ... TO STDOUT}, the database's own
 *       export (issue 27's yardstick: a full check within 2x of it), alternating with</li>
 *   <li>{@code cutover}: {@link Validator#validate}, which finds and classifies every discrepancy.</li>
 * </ol>
 * Each is run RUNS times; the heap's peak is measured per run. Starts its own PostgreSQL server.
 *
 * <pre>
 * java -Xmx256m -cp bench/target/benchmarks.jar io.cutover.bench.ValidationHarness [ROWS] [DIFFS] [RUNS]
 * </pre>
 */
public final class ValidationHarness {
  private ValidationHarness() {}

  /**
   * Runs the benchmark.
   *
   * @param args rows, damaged rows, runs.
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    int rows = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
    int diffs = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    int runs = args.length > 2 ? Integer.parseInt(args[2]) : 3;
    Path dir = Files.createTempDirectory("cutover-validation-bench");
    try (EmbeddedPostgres pg = BenchEvents.postgres(dir)) {
      DataSource monolith = pg.getDatabase("postgres", "monolith");
      DataSource service = pg.getDatabase("postgres", "service");
      long t0 = System.nanoTime();
      for (DataSource ds : List.of(monolith, service)) {
        try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
          st.execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL, status TEXT NOT NULL, "
              + "total NUMERIC(12,2) NOT NULL, created_at TIMESTAMPTZ NOT NULL, note TEXT)");
          st.execute("INSERT INTO orders SELECT g, g % 50000, (ARRAY['new','paid','shipped','returned'])[1 + g % 4], "
              + "(g % 100000) / 100.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second', "
              + "CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || g END FROM generate_series(1, " + rows + ") g");
          st.execute("VACUUM ANALYZE orders");
        }
      }
      try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
        for (int i = 0; i < diffs; i++) {
          long id = 1 + (long) i * (rows / Math.max(1, diffs));
          st.execute(switch (i % 3) {
            case 0 -> "DELETE FROM orders WHERE id = " + id;
            case 1 -> "UPDATE orders SET total = total + 0.01 WHERE id = " + id;
            default -> "UPDATE orders SET note = '' WHERE id = " + id;
          });
        }
      }
      System.out.printf("loaded %,d rows per side in %.1f s; %d damaged; JDK %s, %d cores%n", rows,
          (System.nanoTime() - t0) / 1e9, diffs, System.getProperty("java.version"),
          Runtime.getRuntime().availableProcessors());
      System.out.printf("%-16s %8s %12s %14s %12s %s%n", "mode", "run", "seconds", "rows/s (both)", "peak heap",
          "result");
      ExecutorService pool = Executors.newFixedThreadPool(2);
      try (Validator validator = Validator.builder("bench", monolith, service).build()) {
        for (int run = 1; run <= runs; run++) {
          resetPeaks();
          long s = System.nanoTime();
          Future<Long> a = pool.submit(() -> scan(monolith));
          long n = scan(service) + a.get();
          print("scan", run, s, n, n + " rows read");
        }
        for (int run = 1; run <= runs; run++) {
          resetPeaks();
          long s = System.nanoTime();
          Future<String> a = pool.submit(() -> serverChecksum(monolith));
          String serviceSum = serverChecksum(service);
          String monolithSum = a.get();
          print("server-checksum", run, s, 2L * rows, monolithSum.equals(serviceSum) ? "same" : "differ (where?)");
        }
        for (int run = 1; run <= runs; run++) { // COPY of both sides and a full validation, alternating
          resetPeaks();
          long c0 = System.nanoTime();
          Future<Long> a = pool.submit(() -> copy(monolith));
          long bytes = copy(service) + a.get();
          long copyNanos = System.nanoTime() - c0;
          print("copy", run, c0, 2L * rows, String.format(java.util.Locale.ROOT, "%.1f MB streamed", bytes / 1e6));
          resetPeaks();
          long s = System.nanoTime();
          ValidationReport report = validator.validate(TableMapping.identity("orders"));
          long validateNanos = System.nanoTime() - s;
          print("cutover", run, s, report.monolithRows() + report.serviceRows(), report.discrepancyCount()
              + " discrepancies found, " + report.differingLeaves() + " leaves read; "
              + String.format(java.util.Locale.ROOT, "%.2fx the COPY of both sides", (double) validateNanos
              / copyNanos));
        }
        // incremental rounds: CHANGED rows change on the monolith (the same change on the service, so they agree),
        // the checksum stage's clock is told, and a round reads only those again; against a full-scan round
        int changed = Integer.parseInt(System.getProperty("cutover.bench.changed", "1000"));
        io.cutover.engine.validate.ChangeClock clock = io.cutover.engine.validate.ChangeClock.trackingKeys(
            10 * changed);
        try (io.cutover.engine.validate.ContinuousValidator continuous =
                 io.cutover.engine.validate.ContinuousValidator.builder(io.cutover.engine.validate.Validator
                     .builder("bench", monolith, service).build()).table(TableMapping.identity("orders"))
                     .consistency(io.cutover.engine.validate.Consistency.STRICT).clock(clock)
                     .fullScanEvery(java.time.Duration.ofHours(1)).build()) {
          continuous.runOnce("seed");
          org.agrona.ExpandableArrayBuffer buffer = new org.agrona.ExpandableArrayBuffer(256);
          for (int run = 1; run <= runs; run++) {
            for (DataSource ds : List.of(monolith, service)) {
              try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
                st.execute("UPDATE orders SET status = 'run" + run + "' WHERE id % " + (rows / changed) + " = 0");
              }
            }
            for (long id = rows / changed; id <= rows; id += rows / changed) {
              io.cutover.engine.event.ChangeEvent event = io.cutover.engine.event.ChangeEvent.builder(
                  io.cutover.engine.event.Side.MONOLITH, "orders", io.cutover.engine.event.Operation.DELETE)
                  .key(io.cutover.engine.event.Row.of("id", io.cutover.engine.event.Value.of(id))).build();
              int length = io.cutover.engine.event.EventCodec.encode(event, buffer, 0);
              clock.onChange(new Record(buffer, length));
            }
            clock.onBatchEnd();
            resetPeaks();
            long s0 = System.nanoTime();
            int found = continuous.runOnce("bench").size();
            print("incremental", run, s0, 2L * continuous.stats().rowsRechecked() / run, changed
                + " changed rows read again, " + found + " discrepancies kept");
          }
          resetPeaks();
          long s0 = System.nanoTime();
          int found = continuous.runFullScan("bench").size();
          print("full (baseline)", 1, s0, 2L * rows, found + " discrepancies");
        }
      } finally {
        pool.shutdownNow();
      }
    } finally {
      BenchEvents.delete(dir);
    }
  }

  /** A change record over an encoded event (what the pipeline hands the checksum stage). */
  private record Record(org.agrona.DirectBuffer buffer, int length) implements io.cutover.engine.pipeline.ChangeRecord {
    @Override
    public long journalIndex() {
      return 0;
    }

    @Override
    public boolean replayed() {
      return false;
    }
  }

  /** Streams a side's table with {@code COPY ... TO STDOUT} (text), counting the bytes: the database's own floor. */
  private static long copy(DataSource ds) throws Exception {
    try (Connection c = ds.getConnection()) {
      long[] bytes = {0};
      java.io.OutputStream sink = new java.io.OutputStream() {
        @Override
        public void write(int b) {
          bytes[0]++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
          bytes[0] += len;
        }
      };
      c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyOut("COPY orders TO STDOUT", sink);
      return bytes[0];
    }
  }

  private static long scan(DataSource ds) throws Exception {
    try (Connection c = ds.getConnection()) {
      c.setAutoCommit(false);
      try (PreparedStatement st = c.prepareStatement("SELECT id, customer_id, status, total, created_at, note "
          + "FROM orders")) {
        st.setFetchSize(5_000);
        long n = 0;
        try (ResultSet rs = st.executeQuery()) {
          while (rs.next()) {
            for (int i = 1; i <= 6; i++) {
              rs.getObject(i);
            }
            n++;
          }
        }
        c.rollback();
        return n;
      }
    }
  }

  private static String serverChecksum(DataSource ds) throws Exception {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT count(*), bit_xor(('x' || substr(md5(o::text), 1, 16))::bit(64)"
             + "::bigint) FROM orders o")) {
      rs.next();
      return rs.getLong(1) + ":" + rs.getLong(2);
    }
  }

  private static void resetPeaks() {
    System.gc();
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      pool.resetPeakUsage();
    }
  }

  private static void print(String mode, int run, long startNanos, long rowsRead, String result) {
    double seconds = (System.nanoTime() - startNanos) / 1e9;
    long peak = 0;
    for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
      if (pool.getType() == MemoryType.HEAP) {
        peak += pool.getPeakUsage().getUsed();
      }
    }
    System.out.printf("%-16s %8d %12.2f %,14.0f %9d MB %s%n", mode, run, seconds, rowsRead / seconds,
        peak >> 20, result);
  }
}
