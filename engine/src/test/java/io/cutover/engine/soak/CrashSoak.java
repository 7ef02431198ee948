package io.cutover.engine.soak;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.migration.Cleanup;
import io.cutover.engine.sync.BidiCrashWorker;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;

/**
 * A crash soak of the sync on the path {@code cutover run} takes: {@code Migration} started from a YAML file in a
 * JVM of its own ({@link BidiCrashWorker}), two real databases, concurrent writers on both sides at a paced rate
 * (transactions of a few operations over thousands of keys, sometimes twice on one row: logins that bump a
 * counter and set a last-writer-wins timestamp, stock decrements, renames and password changes, sign-ups and
 * deletes), an online backfill at start,
 * and the engine SIGKILLed at random moments (during the backfill, under load, right after a restart) and started
 * again. The ground truth is what the writers committed: after the load stops and the sides settle, both sides
 * hold the same rows, every counter equals its committed increments, every committed insert is there and every
 * committed delete is gone.
 *
 * <p>The mapping renames columns ({@code users -> accounts}: name, email and last_login) and a counter
 * ({@code inventory -> stock}: qty as quantity), as a real service split does. A third table goes one way
 * ({@code ledger -> ledger_copy}, {@code direction: to_service}): the service's copy must equal the monolith's,
 * every hit counted.
 */
public final class CrashSoak {
  /**
   * What the soak runs against: PostgreSQL with logical decoding or triggers, H2 with triggers, or PostgreSQL with
   * logical decoding through Kafka (a broker of its own, one capture instance living through the run, two apply
   * instances sharing the service, killed in turn).
   */
  public enum Capture {
    LOGICAL, TRIGGER, H2, KAFKA;

    static Capture parse(String text) {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }
  }

  /**
   * One soak's settings.
   *
   * @param capture the databases and capture.
   * @param ratePerSide operations (each changing a row) a second offered on each side.
   * @param writersPerSide connections writing on each side.
   * @param seconds how long the load runs.
   * @param kills how many times the engine is SIGKILLed during the load.
   * @param users base user rows (the monolith has them at the start; the backfill copies them).
   * @param items stock rows.
   * @param downMillis how long the engine stays down after a kill.
   * @param settleSeconds how long the sides get to converge after the load.
   * @param seed the random seed (key choice, kill moments).
   * @param txOps operations a writer commits in one transaction (1: single-row transactions).
   */
  public record Settings(Capture capture, int ratePerSide, int writersPerSide, int seconds, int kills, int users,
      int items, int downMillis, int settleSeconds, long seed, int txOps) {
    /**
     * Settings from system properties ({@code cutover.soak.*}), with the given defaults.
     *
     * @param capture the capture.
     * @param defaults the defaults.
     * @return the settings.
     */
    public static Settings fromProperties(Capture capture, Settings defaults) {
      return new Settings(capture,
          Integer.getInteger("cutover.soak.rate", defaults.ratePerSide),
          Integer.getInteger("cutover.soak.writers", defaults.writersPerSide),
          Integer.getInteger("cutover.soak.seconds", defaults.seconds),
          Integer.getInteger("cutover.soak.kills", defaults.kills),
          Integer.getInteger("cutover.soak.users", defaults.users),
          Integer.getInteger("cutover.soak.items", defaults.items),
          Integer.getInteger("cutover.soak.downMillis", defaults.downMillis),
          Integer.getInteger("cutover.soak.settleSeconds", defaults.settleSeconds),
          Long.getLong("cutover.soak.seed", defaults.seed),
          Integer.getInteger("cutover.soak.txOps", defaults.txOps));
    }

    Settings withSeed(long value) {
      return new Settings(capture, ratePerSide, writersPerSide, seconds, kills, users, items, downMillis,
          settleSeconds, value, txOps);
    }
  }

  /**
   * What one soak saw.
   *
   * @param settings its settings.
   * @param committed operations the writers committed, per side (monolith, service).
   * @param achievedRate committed operations a second, per side.
   * @param lockTimeouts application statements that timed out on a lock (not committed, retried), per side.
   * @param killsAt seconds into the load at which the engine was killed.
   * @param settleMillis how long the sides took to converge after the load (or the limit).
   * @param problems what does not hold; empty when the soak passed.
   */
  public record Result(Settings settings, long[] committed, double[] achievedRate, long[] lockTimeouts,
      List<String> killsAt, long settleMillis, List<String> problems) {
    /** Whether every check held. */
    public boolean passed() {
      return problems.isEmpty();
    }

    /** One line for logs and the benchmark record. */
    public String summary() {
      return String.format(Locale.ROOT, "%s seed=%d rate/side=%d writers/side=%d ops/tx=%d load=%ds kills at %s: "
          + "committed monolith %d (%.0f/s) service %d (%.0f/s)%s; settled in %.1f s; %s", settings.capture(),
          settings.seed(), settings.ratePerSide(), settings.writersPerSide(), settings.txOps(), settings.seconds(),
          killsAt, committed[0],
          achievedRate[0], committed[1], achievedRate[1], lockTimeouts[0] + lockTimeouts[1] == 0 ? ""
              : "; application lock timeouts " + lockTimeouts[0] + " / " + lockTimeouts[1], settleMillis / 1000.0,
          problems.isEmpty() ? "PASSED" : "FAILED: " + problems.size() + " problem(s): " + String.join("; ",
              problems.subList(0, Math.min(20, problems.size()))));
    }
  }

  private static final long MONOLITH_SIGNUPS = 10_000_000L;
  private static final long SERVICE_SIGNUPS = 20_000_000L;

  private final Settings settings;
  private final Path work;
  private final DataSource monolith;
  private final DataSource service;
  private final String monolithUrl;
  private final String serviceUrl;
  private final String user;
  private final Path config;
  private final String suffix;
  /** The engine's instances by name: one, or with Kafka a capture instance and two apply instances. */
  private final Map<String, Process> engines = new java.util.LinkedHashMap<>();
  private final List<Connection> hosts = new ArrayList<>();

  /** Committed logins per user id (both sides). */
  private final ConcurrentHashMap<Long, AtomicInteger> logins = new ConcurrentHashMap<>();
  /** Committed decrements per item id (both sides). */
  private final ConcurrentHashMap<Long, AtomicInteger> decrements = new ConcurrentHashMap<>();
  /** Committed hits per ledger row (the monolith's one-way table). */
  private final ConcurrentHashMap<Long, AtomicInteger> hits = new ConcurrentHashMap<>();
  /** Inserted users: id -> true while present, false once deleted. */
  private final ConcurrentHashMap<Long, Boolean> signups = new ConcurrentHashMap<>();
  /** Inserted users that are never deleted, which both sides log in to (index 0 monolith's, 1 service's). */
  private final List<CopyOnWriteArrayList<Long>> shared = List.of(new CopyOnWriteArrayList<>(),
      new CopyOnWriteArrayList<>());
  /** Inserted users only their own side touches and may delete, per side. */
  private final List<ConcurrentHashMap<Long, Boolean>> ephemeral = List.of(new ConcurrentHashMap<>(),
      new ConcurrentHashMap<>());
  private final AtomicLong[] nextSignup = {new AtomicLong(MONOLITH_SIGNUPS), new AtomicLong(SERVICE_SIGNUPS)};
  private final AtomicLong[] committed = {new AtomicLong(), new AtomicLong()};
  /** Application statements that timed out waiting for a lock (H2's lock timeout), per side; not committed. */
  private final AtomicLong[] lockTimeouts = {new AtomicLong(), new AtomicLong()};
  /** SQLSTATEs of a lock wait that ran out: H2's, PostgreSQL's (lock_timeout, deadlock). */
  private static final java.util.Set<String> LOCK_TIMEOUTS = java.util.Set.of("HYT00", "55P03", "40P01", "40001");
  private final List<String> writerFailures = new CopyOnWriteArrayList<>();

  private CrashSoak(Settings settings, Path work) throws Exception {
    this.settings = settings;
    this.work = work;
    String suffix = Long.toHexString(settings.seed() & 0xffffffL);
    if (settings.capture() == Capture.H2) {
      monolithUrl = "jdbc:h2:" + work.resolve("monolith") + ";AUTO_SERVER=TRUE";
      serviceUrl = "jdbc:h2:" + work.resolve("service") + ";AUTO_SERVER=TRUE";
      monolith = DataSources.of(monolithUrl, "sa", "");
      service = DataSources.of(serviceUrl, "sa", "");
      user = "sa";
      // this JVM hosts both databases, so only the engine dies at a kill
      hosts.add(monolith.getConnection());
      hosts.add(service.getConnection());
    } else {
      monolith = Postgres.newDatabase("soakm");
      service = Postgres.newDatabase("soaks");
      monolithUrl = TestSupport.url(monolith);
      serviceUrl = TestSupport.url(service);
      user = "postgres";
    }
    this.config = work.resolve("cutover.yaml");
    this.suffix = suffix;
    Files.writeString(config, yaml("", null));
  }

  /** The configuration; with Kafka, one per instance (its own journal and state) with its role. */
  private String yaml(String instance, String role) {
    String capture = settings.capture() == Capture.TRIGGER ? ", capture: trigger" : "";
    boolean slots = settings.capture() == Capture.LOGICAL || settings.capture() == Capture.KAFKA;
    List<String> lines = new ArrayList<>(List.of(
        "journal: {directory: journal" + instance + "}",
        "state: {directory: state" + instance + "}",
        "sides:",
        "  monolith: {url: '" + monolithUrl + "', user: " + user + capture
            + (slots ? ", slot: soakm_" + suffix : "") + "}",
        "  services:",
        "    accounts: {url: '" + serviceUrl + "', user: " + user + capture
            + (slots ? ", slot: soaks_" + suffix : "") + "}",
        "tables:",
        "  - {source: users, service: accounts, target: accounts,",
        "     columns: {id: id, name: full_name, email: mail, password: password, last_login: last_seen,"
            + " login_count: login_count},",
        "     conflicts: {rule: last_writer_wins, columns: {login_count: counter}}}",
        "  - {source: inventory, service: accounts, target: stock, columns: {id: id, sku: sku, qty: quantity},",
        "     conflicts: {columns: {qty: counter}}}",
        // one way: whole row images, each batch's rows as one statement, no sync state
        "  - {source: ledger, service: accounts, target: ledger_copy, direction: to_service}",
        "backfill: {chunk: 1000}"));
    if (settings.capture() == Capture.KAFKA) {
      lines.addAll(List.of(
          "kafka:",
          "  bootstrap: " + io.cutover.engine.testing.Kafka.bootstrap(),
          "  topics: soak" + suffix,
          "  group: soak" + suffix,
          "  partitions: 3",
          "  role: " + (role == null ? "all" : role),
          "  properties: {session.timeout.ms: 6000, heartbeat.interval.ms: 1000}"));
    }
    lines.add("");
    return String.join("\n", lines);
  }

  /**
   * Runs one soak in a fresh pair of databases under {@code work}.
   *
   * @param settings the settings.
   * @param work an empty directory for the configuration, journal and state.
   * @return what it saw.
   * @throws Exception if the set-up fails.
   */
  public static Result run(Settings settings, Path work) throws Exception {
    CrashSoak soak = new CrashSoak(settings, work);
    try {
      return soak.run();
    } finally {
      soak.tearDown();
    }
  }

  /**
   * Runs soaks from the command line (the test classpath, the JVM flags in {@code cutover.test.jvmFlags}):
   * {@code cutover.soak.runs} of each capture in {@code cutover.soak.captures}, stopping at the first failure.
   *
   * @param args none.
   * @throws Exception if a set-up fails.
   */
  public static void main(String[] args) throws Exception {
    int runs = Integer.getInteger("cutover.soak.runs", 1);
    int failed = 0;
    for (String capture : System.getProperty("cutover.soak.captures", "logical").split(",")) {
      for (int run = 0; run < runs && failed == 0; run++) {
        Settings settings = Settings.fromProperties(Capture.parse(capture), new Settings(Capture.LOGICAL, 2_000, 4,
            60, 3, 20_000, 2_000, 2_000, 180, 0, 4)).withSeed(Long.getLong("cutover.soak.seed", System.nanoTime())
            + run);
        Path work = TestSupport.tempDir("cutover-soak");
        Result result = run(settings, work);
        if (result.passed()) {
          TestSupport.delete(work);
        } else {
          failed++;
        }
        System.out.println("soak " + (run + 1) + "/" + runs + ": " + result.summary()
            + (result.passed() ? "" : " (kept in " + work + ")"));
      }
    }
    System.exit(failed == 0 ? 0 : 1);
  }

  private Result run() throws Exception {
    createSchemas();
    Random random = new Random(settings.seed());
    List<String> killable;
    if (settings.capture() == Capture.KAFKA) {
      start("capture", "capture");
      start("apply1", "apply");
      start("apply2", "apply");
      killable = List.of("apply1", "apply2");
    } else {
      start("engine", null);
      killable = List.of("engine");
    }
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> writers = new ArrayList<>();
    for (int side = 0; side < 2; side++) {
      for (int w = 0; w < settings.writersPerSide(); w++) {
        int s = side;
        Thread t = new Thread(() -> write(s, stop), "soak-writer-" + (s == 0 ? "monolith-" : "service-") + w);
        t.setDaemon(true);
        writers.add(t);
      }
    }
    long loadStart = System.nanoTime();
    writers.forEach(Thread::start);
    List<String> killsAt = new ArrayList<>();
    long loadEnd = loadStart + TimeUnit.SECONDS.toNanos(settings.seconds());
    long lastStart = loadStart;
    for (int k = 0; k < settings.kills(); k++) {
      // the first kill lands while the backfill copies; later ones right after a restart or anywhere in the load
      long remaining = loadEnd - System.nanoTime() - TimeUnit.SECONDS.toNanos(3);
      long delay;
      if (k == 0) {
        delay = TimeUnit.MILLISECONDS.toNanos(500 + random.nextInt(2_500));
      } else if (random.nextBoolean()) {
        delay = TimeUnit.MILLISECONDS.toNanos(300 + random.nextInt(1_700));
      } else {
        delay = (long) (random.nextDouble() * Math.max(0, remaining / (settings.kills() - k)));
      }
      long at = lastStart + delay;
      if (at >= loadEnd - TimeUnit.SECONDS.toNanos(2)) {
        break;
      }
      LockSupport.parkNanos(at - System.nanoTime());
      String victim = killable.get(k % killable.size());
      Process engine = engines.get(victim);
      engine.destroyForcibly(); // SIGKILL
      engine.waitFor(30, TimeUnit.SECONDS);
      killsAt.add(String.format(Locale.ROOT, "%.1fs%s", (System.nanoTime() - loadStart) / 1e9,
          killable.size() > 1 ? " " + victim : ""));
      Thread.sleep(settings.downMillis()); // both sides go on writing meanwhile
      start(victim, killable.size() > 1 ? "apply" : null);
      lastStart = System.nanoTime();
    }
    LockSupport.parkNanos(loadEnd - System.nanoTime());
    stop.set(true);
    for (Thread t : writers) {
      t.join(30_000);
    }
    double loadSeconds = (System.nanoTime() - loadStart) / 1e9;
    long settleStart = System.nanoTime();
    boolean settled = awaitSettled(TimeUnit.SECONDS.toNanos(settings.settleSeconds()));
    long settleMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - settleStart);
    List<String> problems = new ArrayList<>(writerFailures);
    if (!settled) {
      problems.add("the sides did not settle within " + settings.settleSeconds() + " s");
    }
    problems.addAll(check());
    for (Map.Entry<String, Process> engine : engines.entrySet()) {
      if (!engine.getValue().isAlive()) {
        problems.add(engine.getKey() + " died by itself: " + tail(work.resolve(engine.getKey() + ".err")));
      }
    }
    if (!problems.isEmpty() && Boolean.getBoolean("cutover.soak.holdOnFailure")) {
      // for a person to look: the databases and the engine stay up until this JVM is ended
      System.out.println("soak failed; holding: monolith " + monolithUrl + ", service " + serviceUrl + ", work "
          + work + "; " + problems.subList(0, Math.min(5, problems.size())));
      Thread.sleep(Long.MAX_VALUE);
    }
    return new Result(settings, new long[] {committed[0].get(), committed[1].get()},
        new double[] {committed[0].get() / loadSeconds, committed[1].get() / loadSeconds},
        new long[] {lockTimeouts[0].get(), lockTimeouts[1].get()}, killsAt, settleMillis,
        problems);
  }

  private void createSchemas() throws SQLException {
    try (Connection c = monolith.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(60) NOT NULL, email VARCHAR(80) NOT NULL,"
          + " password VARCHAR(60) NOT NULL, last_login TIMESTAMP, login_count INT NOT NULL)");
      st.execute("CREATE TABLE inventory (id BIGINT PRIMARY KEY, sku VARCHAR(30) NOT NULL, qty INT NOT NULL)");
      st.execute("CREATE TABLE ledger (id BIGINT PRIMARY KEY, hits INT NOT NULL, note VARCHAR(40), touched TIMESTAMP)");
      c.setAutoCommit(false);
      try (PreparedStatement users = c.prepareStatement("INSERT INTO users VALUES (?, ?, ?, ?, NULL, 0)");
          PreparedStatement items = c.prepareStatement("INSERT INTO inventory VALUES (?, ?, ?)")) {
        for (long id = 1; id <= settings.users(); id++) {
          users.setLong(1, id);
          users.setString(2, "user " + id);
          users.setString(3, "u" + id + "@example.com");
          users.setString(4, "p" + id);
          users.addBatch();
          if (id % 1000 == 0) {
            users.executeBatch();
          }
        }
        users.executeBatch();
        for (long id = 1; id <= settings.items(); id++) {
          items.setLong(1, id);
          items.setString(2, "sku-" + id);
          items.setInt(3, 1_000_000);
          items.addBatch();
        }
        items.executeBatch();
      }
      st.execute("INSERT INTO ledger SELECT id, 0, 'item ' || sku, NULL FROM inventory");
      c.commit();
    }
    try (Connection c = service.getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE accounts (id BIGINT PRIMARY KEY, full_name VARCHAR(60) NOT NULL, mail VARCHAR(80) "
          + "NOT NULL, password VARCHAR(60) NOT NULL, last_seen TIMESTAMP, login_count INT NOT NULL)");
      st.execute("CREATE TABLE stock (id BIGINT PRIMARY KEY, sku VARCHAR(30) NOT NULL, quantity INT NOT NULL)");
      st.execute("CREATE TABLE ledger_copy (id BIGINT PRIMARY KEY, hits INT NOT NULL, note VARCHAR(40), "
          + "touched TIMESTAMP)");
    }
  }

  /**
   * One writer: operations paced to its share of the side's rate, {@code txOps} to a transaction (single-row
   * transactions when 1; with more, a login sometimes bumps the same user twice in one transaction), until told to
   * stop. What an operation did is counted only once its transaction committed.
   */
  private void write(int side, AtomicBoolean stop) {
    boolean onMonolith = side == 0;
    String users = onMonolith ? "users" : "accounts";
    String lastLogin = onMonolith ? "last_login" : "last_seen";
    String items = onMonolith ? "inventory" : "stock";
    String qty = onMonolith ? "qty" : "quantity";
    long interval = TimeUnit.SECONDS.toNanos(1) * settings.writersPerSide() / Math.max(1, settings.ratePerSide());
    int txOps = Math.max(1, settings.txOps());
    ThreadLocalRandom random = ThreadLocalRandom.current();
    List<Runnable> done = new ArrayList<>(); // the bookkeeping of the open transaction's operations
    try (Connection c = (onMonolith ? monolith : service).getConnection();
        PreparedStatement login = c.prepareStatement("UPDATE " + users + " SET " + lastLogin
            + " = CURRENT_TIMESTAMP, login_count = login_count + 1 WHERE id = ?");
        PreparedStatement decrement = c.prepareStatement("UPDATE " + items + " SET " + qty + " = " + qty
            + " - 1 WHERE id = ?");
        PreparedStatement rename = c.prepareStatement(onMonolith ? "UPDATE users SET name = ? WHERE id = ?"
            : "UPDATE accounts SET password = ? WHERE id = ?");
        PreparedStatement insert = c.prepareStatement("INSERT INTO " + users + " VALUES (?, ?, ?, ?, NULL, 0)");
        PreparedStatement delete = c.prepareStatement("DELETE FROM " + users + " WHERE id = ?");
        // the monolith's one-way table: a third of its stock operations record a hit there instead
        PreparedStatement hit = c.prepareStatement(onMonolith ? "UPDATE ledger SET hits = hits + 1, touched = "
            + "CURRENT_TIMESTAMP WHERE id = ?" : "SELECT 1 WHERE 1 = ?")) { // (the service's writers never use it)
      c.setAutoCommit(txOps == 1);
      long next = System.nanoTime();
      int inTransaction = 0;
      while (!stop.get()) {
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        next += interval;
        try {
          int op = random.nextInt(100);
          if (op < 45) {
            long id = 1 + random.nextInt(settings.users());
            int times = txOps > 1 && random.nextInt(4) == 0 ? 2 : 1;
            for (int t = 0; t < times; t++) {
              login.setLong(1, id);
              if (login.executeUpdate() == 1) {
                done.add(() -> logins.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
              }
            }
          } else if (op < 65) {
            long id = 1 + random.nextInt(settings.items());
            if (onMonolith && random.nextInt(3) == 0) {
              hit.setLong(1, id);
              if (hit.executeUpdate() == 1) {
                done.add(() -> hits.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
              }
            } else {
              decrement.setLong(1, id);
              if (decrement.executeUpdate() == 1) {
                done.add(() -> decrements.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
              }
            }
          } else if (op < 75) {
            rename.setString(1, (onMonolith ? "name " : "pw ") + random.nextInt(1_000_000));
            rename.setLong(2, 1 + random.nextInt(settings.users()));
            rename.executeUpdate();
          } else if (op < 85) {
            long id = nextSignup[side].incrementAndGet();
            insert.setLong(1, id);
            insert.setString(2, "signup " + id);
            insert.setString(3, "s" + id + "@example.com");
            insert.setString(4, "p" + id);
            insert.executeUpdate();
            boolean keep = random.nextBoolean();
            done.add(() -> {
              signups.put(id, true);
              if (keep) {
                shared.get(side).add(id);
              } else {
                ephemeral.get(side).put(id, true);
              }
            });
          } else if (op < 95) {
            // a login on a signed-up user: this side's own, or one the other side made (once it is here)
            List<Long> pool = shared.get(random.nextBoolean() ? side : 1 - side);
            if (!pool.isEmpty()) {
              long id = pool.get(random.nextInt(pool.size()));
              login.setLong(1, id);
              if (login.executeUpdate() == 1) {
                done.add(() -> logins.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet());
              }
            }
          } else {
            Long id = ephemeral.get(side).keySet().stream().skip(random.nextInt(Math.max(1,
                ephemeral.get(side).size()))).findFirst().orElse(null);
            if (id != null && ephemeral.get(side).remove(id) != null) {
              delete.setLong(1, id);
              delete.executeUpdate();
              done.add(() -> signups.put(id, false));
            }
          }
          if (++inTransaction == txOps) {
            if (txOps > 1) {
              c.commit();
            }
            committed[side].addAndGet(inTransaction);
            inTransaction = 0;
            done.forEach(Runnable::run);
            done.clear();
          }
        } catch (SQLException e) {
          // an application whose statement timed out on a lock (or lost a deadlock) retries; nothing of its
          // transaction was committed
          if (!LOCK_TIMEOUTS.contains(e.getSQLState())) {
            throw e;
          }
          lockTimeouts[side].incrementAndGet();
          if (txOps > 1) {
            c.rollback();
          }
          inTransaction = 0;
          done.clear();
        }
      }
      if (inTransaction > 0) {
        c.commit();
        committed[side].addAndGet(inTransaction);
        done.forEach(Runnable::run);
      }
    } catch (SQLException e) {
      writerFailures.add("writer on the " + (onMonolith ? "monolith" : "service") + " failed: " + e);
    }
  }

  private static final String MONOLITH_USERS = "SELECT id, name, email, password, last_login, login_count FROM "
      + "users ORDER BY id";
  private static final String SERVICE_USERS = "SELECT id, full_name, mail, password, last_seen, login_count FROM "
      + "accounts ORDER BY id";
  private static final String MONOLITH_ITEMS = "SELECT id, sku, qty FROM inventory ORDER BY id";
  private static final String SERVICE_ITEMS = "SELECT id, sku, quantity FROM stock ORDER BY id";
  private static final String MONOLITH_LEDGER = "SELECT id, hits, note, touched FROM ledger ORDER BY id";
  private static final String SERVICE_LEDGER = "SELECT id, hits, note, touched FROM ledger_copy ORDER BY id";

  /** Waits until both sides hold the same rows in three polls a second apart. */
  private boolean awaitSettled(long timeoutNanos) throws Exception {
    long deadline = System.nanoTime() + timeoutNanos;
    int same = 0;
    long lastHash = 0;
    while (System.nanoTime() < deadline) {
      long m = (hash(monolith, MONOLITH_USERS) * 31 + hash(monolith, MONOLITH_ITEMS)) * 31
          + hash(monolith, MONOLITH_LEDGER);
      long s = (hash(service, SERVICE_USERS) * 31 + hash(service, SERVICE_ITEMS)) * 31 + hash(service, SERVICE_LEDGER);
      same = m == s && m == lastHash ? same + 1 : (m == s ? 1 : 0);
      lastHash = m;
      if (same >= 3) {
        return true;
      }
      Thread.sleep(1_000);
    }
    return false;
  }

  private static long hash(DataSource ds, String sql) throws SQLException {
    long h = 17;
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= columns; i++) {
          h = h * 1_000_003 + java.util.Objects.hashCode(rs.getString(i));
        }
      }
    }
    return h;
  }

  private static Map<Long, String[]> read(DataSource ds, String sql) throws SQLException {
    Map<Long, String[]> rows = new HashMap<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        String[] row = new String[columns];
        for (int i = 1; i <= columns; i++) {
          row[i - 1] = rs.getString(i);
        }
        rows.put(rs.getLong(1), row);
      }
    }
    return rows;
  }

  /** Everything that does not hold against the writers' committed operations. */
  private List<String> check() throws SQLException {
    List<String> problems = new ArrayList<>();
    Map<Long, String[]> monolithUsers = read(monolith, MONOLITH_USERS);
    Map<Long, String[]> serviceUsers = read(service, SERVICE_USERS);
    Map<Long, String[]> monolithItems = read(monolith, MONOLITH_ITEMS);
    Map<Long, String[]> serviceItems = read(service, SERVICE_ITEMS);
    compare("users", monolithUsers, serviceUsers, problems);
    compare("inventory", monolithItems, serviceItems, problems);
    Map<Long, String[]> monolithLedger = read(monolith, MONOLITH_LEDGER);
    Map<Long, String[]> serviceLedger = read(service, SERVICE_LEDGER);
    compare("ledger (one way)", monolithLedger, serviceLedger, problems);
    int wrongCounts = 0;
    for (long id = 1; id <= settings.users(); id++) {
      wrongCounts += expectCount("users", id, monolithUsers, serviceUsers, 5, logins, 0, problems);
    }
    for (Map.Entry<Long, Boolean> signup : signups.entrySet()) {
      long id = signup.getKey();
      if (signup.getValue()) {
        wrongCounts += expectCount("users", id, monolithUsers, serviceUsers, 5, logins, 0, problems);
      } else if (monolithUsers.containsKey(id) || serviceUsers.containsKey(id)) {
        problems.add("users " + id + " was deleted but is on the " + (monolithUsers.containsKey(id) ? "monolith"
            : "service"));
      }
    }
    for (long id = 1; id <= settings.items(); id++) {
      wrongCounts += expectCount("inventory", id, monolithItems, serviceItems, 2, decrements, 1_000_000, problems);
      wrongCounts += expectCount("ledger", id, monolithLedger, serviceLedger, 1, hits, 0, problems);
    }
    long expectedUsers = settings.users() + signups.values().stream().filter(b -> b).count();
    if (monolithUsers.size() != expectedUsers || serviceUsers.size() != expectedUsers) {
      problems.add("users: " + expectedUsers + " rows expected, monolith has " + monolithUsers.size() + ", service "
          + serviceUsers.size());
    }
    if (wrongCounts > 0) {
      problems.add(0, wrongCounts + " counter value(s) differ from the writers' committed operations");
    }
    return problems;
  }

  private static void compare(String table, Map<Long, String[]> monolith, Map<Long, String[]> service,
      List<String> problems) {
    int differ = 0;
    List<String> examples = new ArrayList<>();
    for (Map.Entry<Long, String[]> row : monolith.entrySet()) {
      String[] other = service.get(row.getKey());
      if (other == null || !java.util.Arrays.equals(row.getValue(), other)) {
        differ++;
        if (examples.size() < 5) {
          examples.add(String.join("|", row.getValue()) + " vs " + (other == null ? "absent" : String.join("|",
              other)));
        }
      }
    }
    for (Long id : service.keySet()) {
      if (!monolith.containsKey(id)) {
        differ++;
        if (examples.size() < 5) {
          examples.add("absent vs " + String.join("|", service.get(id)));
        }
      }
    }
    if (differ > 0) {
      problems.add(table + ": " + differ + " row(s) differ between the sides, e.g. " + examples);
    }
  }

  /** Checks one counter on both sides; 1 if it is wrong on either. */
  private static int expectCount(String table, long id, Map<Long, String[]> monolith, Map<Long, String[]> service,
      int column, Map<Long, AtomicInteger> operations, int base, List<String> problems) {
    AtomicInteger n = operations.get(id);
    int expected = base + (table.equals("inventory") ? -1 : 1) * (n == null ? 0 : n.get());
    String[] m = monolith.get(id);
    String[] s = service.get(id);
    String got = (m == null ? "absent" : m[column]) + " / " + (s == null ? "absent" : s[column]);
    if (m == null || s == null || Integer.parseInt(m[column]) != expected || Integer.parseInt(s[column]) != expected) {
      if (problems.size() < 40) {
        problems.add(table + " " + id + ": expected " + expected + ", monolith / service hold " + got);
      }
      return 1;
    }
    return 0;
  }

  /** Starts an engine instance (a role with Kafka) and waits until it runs. */
  private void start(String name, String role) throws Exception {
    Path file = config;
    if (role != null) {
      file = work.resolve("cutover-" + name + ".yaml");
      Files.writeString(file, yaml("-" + name, role));
    }
    List<String> command = new ArrayList<>(TestSupport.javaCommand(BidiCrashWorker.class, file.toString()));
    command.replaceAll(arg -> arg.equals("-Xmx256m") ? "-Xmx1g" : arg);
    Path err = work.resolve(name + ".err");
    Process process = new ProcessBuilder(command).directory(work.toFile())
        .redirectError(ProcessBuilder.Redirect.appendTo(err.toFile())).start();
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"READY".equals(line)) {
      process.destroyForcibly();
      throw new IllegalStateException(name + " did not start: " + line + "; " + tail(err));
    }
    engines.put(name, process);
  }

  private static String tail(Path file) {
    try {
      String text = Files.readString(file);
      return text.substring(Math.max(0, text.length() - 2_000));
    } catch (Exception e) {
      return "(no error output)";
    }
  }

  private void tearDown() {
    for (Process engine : engines.values()) {
      engine.destroyForcibly();
      try {
        engine.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    try {
      Cleanup.run(MigrationConfig.load(config), false);
    } catch (Exception ignored) {
      // best effort: slots hold WAL, so try; the databases are dropped next
    }
    for (Connection c : hosts) {
      try {
        c.close();
      } catch (SQLException ignored) {
        // closing the host
      }
    }
    if (settings.capture() != Capture.H2) {
      for (DataSource ds : List.of(monolith, service)) {
        try (Connection c = Postgres.server().getPostgresDatabase().getConnection();
            Statement st = c.createStatement()) {
          String name = ds instanceof org.postgresql.ds.PGSimpleDataSource pg ? pg.getDatabaseName() : null;
          if (name != null) {
            st.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
          }
        } catch (SQLException ignored) {
          // best effort
        }
      }
    }
  }
}
