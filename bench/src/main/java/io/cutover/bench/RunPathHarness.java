package io.cutover.bench;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One-way sync on the path users run, against PostgreSQL's own logical replication, in the same invocation.
 *
 * <p>One embedded PostgreSQL holds a {@code monolith} database with {@code bench} (100,000 rows), and two copies of
 * it: {@code service} (Cutover's target) and {@code nativedb} (a subscription's). Each round runs both replicators
 * under the same load, alternating which goes first: PostgreSQL's native replication (publication, subscription)
 * and {@code cutover run} in a process of its own, started from a YAML file with the table {@code direction:
 * to_service} exactly as a user starts it (then {@code cutover cleanup}). The load is pgbench's 10-row update
 * transaction ({@code UPDATE bench SET v = v + 1, c_ts = clock_timestamp() WHERE id BETWEEN :id AND :id + 9}) at
 * a fixed rate (open loop, four connections); an {@code AFTER} trigger on each target ({@code ENABLE ALWAYS})
 * logs {@code clock_timestamp()} against the writer's {@code c_ts}, so both replicators are timed by the same
 * method. After a warm-up, the measured seconds give p50/p95/p99 of that delay, the time the target took to
 * catch up once the load stopped (a replicator that keeps up drains in well under a second; one that falls
 * behind shows its backlog here), and the CPU of the replicator: for Cutover its JVM, for both every PostgreSQL
 * backend it uses (walsender, apply worker or sessions), from {@code /proc}. Rate 0 measures an idle replicator.
 *
 * <p>{@code both}: the table is synced both ways. Native: a subscription each way with {@code origin = none}
 * (PostgreSQL 16 and later). Cutover: {@code direction: both}, last writer wins with the counter column {@code v}
 * merged. Half the writers write the monolith over keys 1..45,000, half the target over 45,001..90,000, and a tenth
 * of each side's transactions go to the shared keys above 90,000 (concurrent changes of one row: conflicts). Each
 * side's trigger logs only the writes made under a replication origin (the replicators' own), so the delays are
 * of both directions together; "caught up" compares the sides' own keys, and the run says whether the sums agree
 * on the shared keys too (only a replicator that merges counters gets there; native's last write overwrites).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.cutover.bench.RunPathHarness bin/cutover RATES SECONDS ROUNDS [WARMUP]
 *     [one|both]
 *   e.g. RunPathHarness bin/cutover 0,10000,20000 20 3 10
 *        RunPathHarness bin/cutover 10000 20 3 30 both
 * </pre>
 */
public final class RunPathHarness {
  private static final int ROWS = 100_000;
  private static final int TX_ROWS = 10;
  private static final int WRITERS = 4;
  private static final long CLOCK_TICKS = 100;
  /** Every copy starts identical, as after a backfill. */
  private static final String SEED_TS = "'2026-01-01 00:00:00+00'::timestamptz";

  private final EmbeddedPostgres pg;
  private final Path dir;
  private final Path cutover;
  private final Properties user = new Properties();
  private final Set<Integer> ownBackends = new HashSet<>();
  /** Both ways: each side writes its own keys, and a tenth of its transactions the shared ones. */
  private final boolean both;
  private int round;

  /** Both ways: the monolith's own keys are 1..45,000, the service's 45,001..90,000, the rest shared. */
  private static final int OWN_KEYS = 45_000;
  private static final int SHARED_FROM = 2 * OWN_KEYS + 1;

  private RunPathHarness(EmbeddedPostgres pg, Path dir, Path cutover, boolean both) {
    this.pg = pg;
    this.dir = dir;
    this.cutover = cutover;
    this.both = both;
    user.setProperty("user", "postgres");
  }

  /** What one replicator did under one load. */
  record Result(String who, int rate, long rows, double p50, double p95, double p99, double max, long arrived,
      double drainSeconds, double cpuPercent) {
    String line() {
      return String.format(Locale.ROOT, "%-7s rate=%6d rows/s measured=%d arrived=%d p50=%.1f p95=%.1f p99=%.1f "
              + "max=%.1f ms, caught up %.2f s after the load, CPU %.1f%% of a core%s", who, rate, rows, arrived, p50,
          p95, p99, max, drainSeconds, cpuPercent,
          rate == 0 ? "" : String.format(Locale.ROOT, " (%.2f%% per 1,000 rows/s)", cpuPercent * 1000 / rate));
    }
  }

  /**
   * Runs the harness.
   *
   * @param args the {@code cutover} launcher, rates (comma-separated rows/s, 0 for idle), measured seconds,
   *     rounds, warm-up seconds (default 10).
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: RunPathHarness CUTOVER_LAUNCHER RATES SECONDS ROUNDS [WARMUP] [one|both]");
      System.exit(2);
    }
    Path launcher = Path.of(args[0]).toAbsolutePath();
    List<Integer> rates = new ArrayList<>();
    for (String r : args[1].split(",")) {
      rates.add(Integer.parseInt(r.trim()));
    }
    int seconds = Integer.parseInt(args[2]);
    int rounds = Integer.parseInt(args[3]);
    int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 10;
    boolean both = args.length > 5 && args[5].equals("both");
    Path dir = BenchEvents.tempDir("bench-runpath");
    List<Result> results = new ArrayList<>();
    try (EmbeddedPostgres pg = BenchEvents.postgres(dir)) {
      RunPathHarness h = new RunPathHarness(pg, dir, launcher, both);
      h.setUp();
      for (int r = 0; r < rounds; r++) {
        for (int rate : rates) {
          boolean nativeFirst = r % 2 == 0;
          for (int i = 0; i < 2; i++) {
            Result result = (i == 0) == nativeFirst ? h.runNative(rate, seconds, warmup)
                : h.runCutover(rate, seconds, warmup);
            results.add(result);
            System.out.println("round " + (r + 1) + " " + result.line());
          }
        }
      }
    } finally {
      BenchEvents.delete(dir);
    }
    System.out.println("summary (medians over rounds):");
    for (int rate : rates) {
      for (String who : List.of("native", "cutover")) {
        List<Result> mine = results.stream().filter(x -> x.rate() == rate && x.who().equals(who)).toList();
        System.out.printf(Locale.ROOT, "  %-7s rate=%6d p50=%.1f p95=%.1f p99=%.1f ms caught-up=%.2f s CPU=%.1f%%%n",
            who, rate, median(mine, Result::p50), median(mine, Result::p95), median(mine, Result::p99),
            median(mine, Result::drainSeconds), median(mine, Result::cpuPercent));
      }
    }
  }

  private static double median(List<Result> results, java.util.function.ToDoubleFunction<Result> f) {
    double[] v = results.stream().mapToDouble(f).sorted().toArray();
    return v.length == 0 ? Double.NaN : v[v.length / 2];
  }

  private String url(String db) {
    return "jdbc:postgresql://127.0.0.1:" + pg.getPort() + "/" + db;
  }

  private Connection connect(String db) throws SQLException {
    Connection c = DriverManager.getConnection(url(db), user);
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
      rs.next();
      synchronized (ownBackends) {
        ownBackends.add(rs.getInt(1));
      }
    }
    return c;
  }

  private void setUp() throws SQLException {
    try (Connection c = connect("postgres"); Statement st = c.createStatement()) {
      st.execute("CREATE DATABASE nativedb");
    }
    for (String db : List.of("monolith", "service", "nativedb")) {
      try (Connection c = connect(db); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE bench (id BIGINT PRIMARY KEY, v BIGINT NOT NULL, "
            + "c_ts TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(), pad TEXT NOT NULL)");
        st.execute("INSERT INTO bench SELECT g, 0, " + SEED_TS + ", repeat('x', 60) FROM generate_series(1, "
            + ROWS + ") g");
        if (both || !db.equals("monolith")) {
          st.execute("CREATE UNLOGGED TABLE arrivals (c_ts TIMESTAMPTZ NOT NULL, at TIMESTAMPTZ NOT NULL)");
          // Both ways, each side logs only the writes a replicator makes: both replay under a replication origin.
          st.execute("CREATE FUNCTION arrival() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "
              + (both ? "pg_replication_origin_session_is_setup()" : "true") + " THEN "
              + "INSERT INTO public.arrivals VALUES (NEW.c_ts, clock_timestamp()); END IF; RETURN NULL; END $$");
          st.execute("CREATE TRIGGER arrival AFTER UPDATE ON bench FOR EACH ROW EXECUTE FUNCTION arrival()");
          // The subscription's apply worker runs as a replica: only ALWAYS triggers fire there.
          st.execute("ALTER TABLE bench ENABLE ALWAYS TRIGGER arrival");
        }
        st.execute("VACUUM ANALYZE bench");
      }
    }
    try (Connection c = connect("monolith"); Statement st = c.createStatement()) {
      st.execute("CREATE PUBLICATION native_pub FOR TABLE bench");
    }
    if (both) {
      try (Connection c = connect("nativedb"); Statement st = c.createStatement()) {
        st.execute("CREATE PUBLICATION native_back FOR TABLE bench");
      }
    }
  }

  private Result runNative(int rate, int seconds, int warmup) throws Exception {
    round++;
    String slot = "native_" + round;
    reset("nativedb");
    try (Connection c = connect("monolith"); Statement st = c.createStatement()) {
      st.execute("ALTER TABLE bench REPLICA IDENTITY DEFAULT");
      // In one cluster CREATE SUBSCRIPTION cannot create its own slot (it would wait for itself): make it first.
      st.execute("SELECT pg_create_logical_replication_slot('" + slot + "', 'pgoutput')");
    }
    // Both ways (PostgreSQL 16 and later): each subscription skips changes that came in through the other.
    String origin = both ? ", origin = none" : "";
    try (Connection c = connect("nativedb"); Statement st = c.createStatement()) {
      st.execute("CREATE SUBSCRIPTION " + slot + " CONNECTION 'host=127.0.0.1 port=" + pg.getPort()
          + " dbname=monolith user=postgres' PUBLICATION native_pub WITH (create_slot = false, slot_name = '"
          + slot + "', copy_data = false" + origin + ")");
      if (both) {
        st.execute("SELECT pg_create_logical_replication_slot('" + slot + "_back', 'pgoutput')");
      }
    }
    if (both) {
      try (Connection c = connect("monolith"); Statement st = c.createStatement()) {
        st.execute("CREATE SUBSCRIPTION " + slot + "_back CONNECTION 'host=127.0.0.1 port=" + pg.getPort()
            + " dbname=nativedb user=postgres' PUBLICATION native_back WITH (create_slot = false, slot_name = '"
            + slot + "_back', copy_data = false, origin = none)");
      }
      awaitSlotActive(slot + "_back");
    }
    awaitSlotActive(slot);
    try {
      return measure("native", "nativedb", null, rate, seconds, warmup);
    } finally {
      if (both) {
        try (Connection c = connect("monolith"); Statement st = c.createStatement()) {
          st.execute("ALTER SUBSCRIPTION " + slot + "_back DISABLE");
          st.execute("ALTER SUBSCRIPTION " + slot + "_back SET (slot_name = NONE)");
          st.execute("DROP SUBSCRIPTION " + slot + "_back");
        }
        awaitSlotInactive(slot + "_back");
        try (Connection c = connect("nativedb"); Statement st = c.createStatement()) {
          st.execute("SELECT pg_drop_replication_slot('" + slot + "_back')");
        }
      }
      try (Connection c = connect("nativedb"); Statement st = c.createStatement()) {
        st.execute("ALTER SUBSCRIPTION " + slot + " DISABLE");
        st.execute("ALTER SUBSCRIPTION " + slot + " SET (slot_name = NONE)");
        st.execute("DROP SUBSCRIPTION " + slot);
      }
      awaitSlotInactive(slot);
      try (Connection c = connect("monolith"); Statement st = c.createStatement()) {
        st.execute("SELECT pg_drop_replication_slot('" + slot + "')");
      }
    }
  }

  private Result runCutover(int rate, int seconds, int warmup) throws Exception {
    round++;
    Path work = dir.resolve("cutover-" + round);
    Files.createDirectories(work);
    String slot = "cutover_m" + round;
    Path config = work.resolve("cutover.yaml");
    reset("service");
    Files.writeString(config, String.join("\n",
        "journal: {directory: journal}",
        "state: {directory: state}",
        "sides:",
        "  monolith: {url: '" + url("monolith") + "', user: postgres, slot: " + slot + "}",
        "  services:",
        "    svc: {url: '" + url("service") + "', user: postgres, slot: cutover_s" + round + "}",
        "tables:",
        both ? "  - {source: bench, service: svc, direction: both, conflicts: {rule: last_writer_wins, "
            + "columns: {v: counter}}}" : "  - {source: bench, service: svc, direction: to_service}",
        ""), StandardCharsets.UTF_8);
    ProcessBuilder run = new ProcessBuilder(cutover.toString(), "run", "--config", config.toString())
        .redirectErrorStream(true).redirectOutput(work.resolve("run.log").toFile());
    // e.g. a profiler for the engine alone: -Dcutover.bench.runJavaOpts=-XX:StartFlightRecording=filename=x.jfr
    String javaOpts = System.getProperty("cutover.bench.runJavaOpts");
    if (javaOpts != null) {
      run.environment().put("CUTOVER_JAVA_OPTS", javaOpts);
    }
    Process process = run.start();
    try {
      awaitSlotActive(slot);
      if (both) {
        awaitSlotActive("cutover_s" + round);
      }
      return measure("cutover", "service", process, rate, seconds, warmup);
    } finally {
      process.destroy();
      if (!process.waitFor(60, TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
      Process cleanup = new ProcessBuilder(cutover.toString(), "cleanup", "--config", config.toString())
          .redirectErrorStream(true).redirectOutput(work.resolve("cleanup.log").toFile()).start();
      if (cleanup.waitFor() != 0) {
        throw new IllegalStateException("cutover cleanup failed: " + Files.readString(work.resolve("cleanup.log")));
      }
    }
  }

  private Result measure(String who, String target, Process process, int rate, int seconds, int warmup)
      throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong written = new AtomicLong();
    List<Thread> writers = new ArrayList<>();
    long start = System.nanoTime();
    if (rate > 0) {
      long intervalNanos = TimeUnit.SECONDS.toNanos(1) * TX_ROWS * WRITERS / rate;
      for (int w = 0; w < WRITERS; w++) {
        long offset = intervalNanos * w / WRITERS;
        // both ways: half the writers on each side, each over its side's own keys
        String db = both && w % 2 == 1 ? target : "monolith";
        int ownFrom = !both ? 1 : db.equals("monolith") ? 1 : OWN_KEYS + 1;
        int ownKeys = both ? OWN_KEYS : ROWS;
        Thread t = new Thread(() -> write(db, ownFrom, ownKeys, stop, written, start + offset, intervalNanos),
            "writer-" + w);
        t.start();
        writers.add(t);
      }
    }
    Thread.sleep(TimeUnit.SECONDS.toMillis(warmup));
    String from = now(target);
    java.util.Map<String, Long> threadsFrom = threadTicks(process);
    java.util.Map<String, Long> backendsFrom = new java.util.HashMap<>();
    long cpuFrom = cpuTicks(process, backendsFrom);
    long wallFrom = System.nanoTime();
    Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
    java.util.Map<String, Long> backendsTo = new java.util.HashMap<>();
    long cpuTo = cpuTicks(process, backendsTo);
    if (Boolean.getBoolean("cutover.bench.threads")) {
      backendsTo.forEach((name, t) -> System.err.printf(Locale.ROOT, "  %s backend %-40s %.1f%%%n", who, name,
          (t - backendsFrom.getOrDefault(name, t)) * 100.0 / CLOCK_TICKS / seconds));
    }
    if (process != null && Boolean.getBoolean("cutover.bench.threads")) {
      java.util.Map<String, Long> threadsTo = threadTicks(process);
      threadsTo.forEach((name, t) -> threadsTo.put(name, t - threadsFrom.getOrDefault(name, 0L)));
      threadsTo.entrySet().stream().filter(e -> e.getValue() > 0)
          .sorted(java.util.Map.Entry.<String, Long>comparingByValue().reversed()).limit(15)
          .forEach(e -> System.err.printf(Locale.ROOT, "  thread %-40s %.1f%%%n", e.getKey(),
              e.getValue() * 100.0 / CLOCK_TICKS / seconds));
    }
    long wallTo = System.nanoTime();
    String to = now(target);
    stop.set(true);
    for (Thread t : writers) {
      t.join();
    }
    long stopped = System.nanoTime();
    if (rate > 0 && written.get() == 0) {
      throw new IllegalStateException("the writers wrote nothing");
    }
    double drain = awaitCaughtUp(target) ? (System.nanoTime() - stopped) / 1e9 : Double.POSITIVE_INFINITY;
    double cpu = (cpuTo - cpuFrom) * 100.0 / CLOCK_TICKS / ((wallTo - wallFrom) / 1e9);
    if (both) {
      return bothWays(who, target, rate, seconds, from, to, drain, cpu);
    }
    try (Connection c = connect(target);
         PreparedStatement q = c.prepareStatement("SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) "
             + "WITHIN GROUP (ORDER BY extract(epoch FROM at - c_ts) * 1000), "
             + "max(extract(epoch FROM at - c_ts) * 1000) FROM arrivals "
             + "WHERE c_ts >= ?::timestamptz AND c_ts < ?::timestamptz")) {
      q.setString(1, from);
      q.setString(2, to);
      if (Boolean.getBoolean("cutover.bench.debug")) {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT count(*), min(c_ts)::text, "
            + "max(c_ts)::text, min(at)::text, max(at)::text FROM arrivals")) {
          rs.next();
          System.err.printf("%s window %s .. %s; arrivals %d c_ts %s .. %s at %s .. %s%n", who, from, to, rs.getLong(1),
              rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5));
        }
      }
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        long arrived = rs.getLong(1);
        Double[] p = arrived == 0 ? new Double[] {0.0, 0.0, 0.0} : (Double[]) rs.getArray(2).getArray();
        return new Result(who, rate, (long) rate * seconds, p[0], p[1], p[2], rs.getDouble(3), arrived, drain, cpu);
      }
    }
  }

  /**
   * Both ways: the delays logged on both sides (each side logs only what a replicator wrote), and whether the sides
   * agree exactly once caught up, shared keys included (only a replicator that merges counters can).
   */
  private Result bothWays(String who, String target, int rate, int seconds, String from, String to, double drain,
      double cpu) throws SQLException {
    List<Double> delays = new ArrayList<>();
    long[] sums = new long[2];
    // the shared keys' merges may land a moment after the own keys agree: up to 10 s for a replicator that merges
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(who.equals("cutover") ? 10 : 0);
    do {
      for (int i = 0; i < 2; i++) {
        try (Connection c = connect(i == 0 ? "monolith" : target); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT sum(v) FROM bench")) {
          rs.next();
          sums[i] = rs.getLong(1);
        }
      }
    } while (sums[0] != sums[1] && System.nanoTime() < deadline && sleep(50));
    for (String db : List.of("monolith", target)) {
      try (Connection c = connect(db);
           PreparedStatement q = c.prepareStatement("SELECT extract(epoch FROM at - c_ts) * 1000 FROM arrivals "
               + "WHERE c_ts >= ?::timestamptz AND c_ts < ?::timestamptz")) {
        q.setString(1, from);
        q.setString(2, to);
        try (ResultSet rs = q.executeQuery()) {
          while (rs.next()) {
            delays.add(rs.getDouble(1));
          }
        }
      }
    }
    double[] d = delays.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    System.out.printf(Locale.ROOT, "%s both ways: sum(v) monolith %d, %s %d: %s%n", who, sums[0], target, sums[1],
        sums[0] == sums[1] ? "equal (every increment on both sides)" : "apart by " + Math.abs(sums[0] - sums[1]));
    return new Result(who, rate, (long) rate * seconds, at(d, 0.50), at(d, 0.95), at(d, 0.99),
        d.length == 0 ? 0 : d[d.length - 1], d.length, drain, cpu);
  }

  private static boolean sleep(long millis) {
    try {
      Thread.sleep(millis);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Interpolated between the two nearest values, as one way's {@code percentile_cont}. */
  private static double at(double[] sorted, double quantile) {
    if (sorted.length == 0) {
      return 0;
    }
    double rank = quantile * (sorted.length - 1);
    int low = (int) Math.floor(rank);
    int high = Math.min(sorted.length - 1, low + 1);
    return sorted[low] + (sorted[high] - sorted[low]) * (rank - low);
  }

  /**
   * Both sides start equal (v = 0) with an empty log; made before the replicator's slot exists, so the reset is
   * not replicated.
   */
  private void reset(String target) throws SQLException {
    for (String db : List.of("monolith", target)) {
      try (Connection c = connect(db); Statement st = c.createStatement()) {
        st.execute("ALTER TABLE bench DISABLE TRIGGER USER");
        st.execute("UPDATE bench SET v = 0, c_ts = " + SEED_TS + " WHERE v <> 0 OR c_ts <> " + SEED_TS);
        st.execute("ALTER TABLE bench ENABLE TRIGGER USER");
        if (both || !db.equals("monolith")) {
          st.execute("ALTER TABLE bench ENABLE ALWAYS TRIGGER arrival");
          st.execute("TRUNCATE arrivals");
        }
      }
    }
  }

  private void write(String db, int ownFrom, int ownKeys, AtomicBoolean stop, AtomicLong written, long first,
      long intervalNanos) {
    try (Connection c = connect(db);
         PreparedStatement update = c.prepareStatement("UPDATE bench SET v = v + 1, c_ts = clock_timestamp() "
             + "WHERE id BETWEEN ? AND ? + 9")) {
      long next = first;
      while (!stop.get()) {
        long now = System.nanoTime();
        if (now < next) {
          LockSupport.parkNanos(Math.min(next - now, 200_000));
          continue;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        long id = both && random.nextInt(10) == 0 ? random.nextLong(SHARED_FROM, ROWS - TX_ROWS + 2)
            : random.nextLong(ownFrom, ownFrom + ownKeys - TX_ROWS + 1);
        update.setLong(1, id);
        update.setLong(2, id);
        update.executeUpdate();
        written.addAndGet(TX_ROWS);
        next += intervalNanos;
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private String now(String db) throws SQLException {
    try (Connection c = connect(db); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT clock_timestamp()::text")) {
      rs.next();
      return rs.getString(1);
    }
  }

  /** Waits until the target's {@code sum(v)} equals the monolith's (two minutes at most). */
  private boolean awaitCaughtUp(String target) throws Exception {
    // both ways: each side's own keys, each direction apart (the shared ones only a counter merge can bring
    // together)
    String sum = both ? "SELECT sum(v) FILTER (WHERE id <= " + OWN_KEYS + ") * 1000000007 + sum(v) FILTER (WHERE id > "
        + OWN_KEYS + " AND id < " + SHARED_FROM + ") FROM bench" : "SELECT sum(v) FROM bench";
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    long source = 0;
    try (Connection m = connect("monolith"); Statement ms = m.createStatement();
         Connection c = connect(target); Statement st = c.createStatement()) {
      while (System.nanoTime() < deadline) {
        try (ResultSet rs = ms.executeQuery(sum)) {
          rs.next();
          source = rs.getLong(1);
        }
        try (ResultSet rs = st.executeQuery(sum)) {
          rs.next();
          if (rs.getLong(1) == source) {
            return true;
          }
        }
        Thread.sleep(20);
      }
      try (ResultSet rs = st.executeQuery("SELECT sum(v), (SELECT count(*) FROM arrivals), "
          + "(SELECT min(c_ts)::text || ' ' || max(c_ts)::text FROM arrivals) FROM bench")) {
        rs.next();
        System.err.println(target + " did not catch up: monolith sum(v) " + source + ", " + target + " "
            + rs.getLong(1) + ", arrivals " + rs.getLong(2) + " " + rs.getString(3));
      }
    }
    return false;
  }

  /**
   * CPU ticks so far of the replicator: the Cutover process (if any) and every backend that is not the harness's
   * own (the walsenders, the subscription's apply worker, Cutover's sessions).
   */
  private long cpuTicks(Process process, java.util.Map<String, Long> byBackend) throws SQLException, IOException {
    long ticks = process == null ? 0 : ticks(process.pid());
    if (process != null) {
      byBackend.put("cutover jvm", ticks);
    }
    Set<Integer> own;
    synchronized (ownBackends) {
      own = new HashSet<>(ownBackends);
    }
    try (Connection c = connect("postgres"); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT pid, backend_type || ' ' || coalesce(datname, '') || ' ' || pid "
             + "FROM pg_stat_activity WHERE backend_type IN "
             + "('client backend', 'walsender', 'logical replication apply worker', 'logical replication worker')")) {
      while (rs.next()) {
        if (!own.contains(rs.getInt(1))) {
          long t = ticks(rs.getInt(1));
          ticks += t;
          byBackend.put(rs.getString(2), t);
        }
      }
    }
    return ticks;
  }

  /** CPU ticks per thread name (threads of one name summed) of a process; empty without one. */
  private static java.util.Map<String, Long> threadTicks(Process process) throws IOException {
    java.util.Map<String, Long> out = new java.util.HashMap<>();
    if (process == null) {
      return out;
    }
    try (var tasks = Files.list(Path.of("/proc", Long.toString(process.pid()), "task"))) {
      for (Path task : (Iterable<Path>) tasks::iterator) {
        try {
          String s = Files.readString(task.resolve("stat"));
          String name = s.substring(s.indexOf('(') + 1, s.lastIndexOf(')'));
          if (Boolean.getBoolean("cutover.bench.switches")) {
            for (String line : Files.readAllLines(task.resolve("status"))) {
              if (line.startsWith("voluntary_ctxt_switches")) {
                out.merge(name + " switches", Long.parseLong(line.replaceAll("\\D", "")), Long::sum);
              }
            }
          } else {
            name = name.replaceAll("[0-9]+$", "#");
          }
          String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
          out.merge(name + " user", Long.parseLong(f[11]), Long::sum);
          out.merge(name + " sys", Long.parseLong(f[12]), Long::sum);
        } catch (IOException e) {
          // the thread ended
        }
      }
    }
    return out;
  }

  private static long ticks(long pid) throws IOException {
    Path stat = Path.of("/proc", Long.toString(pid), "stat");
    if (!Files.exists(stat)) {
      return 0;
    }
    String s = Files.readString(stat);
    String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
  }

  private void awaitSlotActive(String slot) throws Exception {
    awaitSlot(slot, true);
  }

  private void awaitSlotInactive(String slot) throws Exception {
    awaitSlot(slot, false);
  }

  private void awaitSlot(String slot, boolean active) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
    try (Connection c = connect("postgres");
         PreparedStatement q = c.prepareStatement("SELECT active FROM pg_replication_slots WHERE slot_name = ?")) {
      q.setString(1, slot);
      while (System.nanoTime() < deadline) {
        try (ResultSet rs = q.executeQuery()) {
          if (rs.next() && rs.getBoolean(1) == active) {
            return;
          }
        }
        Thread.sleep(50);
      }
    }
    throw new IllegalStateException("slot " + slot + " did not become " + (active ? "active" : "inactive"));
  }
}
