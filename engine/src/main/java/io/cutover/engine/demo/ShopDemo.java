package io.cutover.engine.demo;

import io.cutover.engine.analysis.Analysis;
import io.cutover.engine.analysis.AnalysisWriter;
import io.cutover.engine.analysis.BoundaryAnalyzer;
import io.cutover.engine.analysis.Hints;
import io.cutover.engine.analysis.Schema;
import io.cutover.engine.analysis.Transaction;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.backfill.Backfill;
import io.cutover.engine.backfill.BackfillProgress;
import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.sync.BidirectionalSync;
import io.cutover.engine.sync.Conflict;
import io.cutover.engine.sync.ConflictPolicy;
import io.cutover.engine.sync.Rule;
import io.cutover.engine.sync.SyncStats;
import io.cutover.engine.validate.AuditLog;
import io.cutover.engine.validate.Authority;
import io.cutover.engine.validate.ChangeClock;
import io.cutover.engine.validate.Consistency;
import io.cutover.engine.validate.ContinuousValidator;
import io.cutover.engine.validate.Discrepancy;
import io.cutover.engine.validate.Repair;
import io.cutover.engine.validate.Repairer;
import io.cutover.engine.validate.Validator;
import io.cutover.journal.JournalConfig;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;

/**
 * The main job on the embedded default: a small shop on H2 whose products move to an {@code inventory} service
 * and whose customers move to an {@code accounts} service, while the shop keeps taking orders and logins on the
 * monolith and the services restock, rename and log users in on their side. Everything is captured, journaled,
 * synced both ways with conflicts resolved by policy, then checked: both sides equal row for row, every stock
 * movement and every login counted exactly once, nothing parked.
 */
public final class ShopDemo {
  private static final int CUSTOMERS = 200;
  private static final int PRODUCTS = 40;
  private static final int START_STOCK = 10_000;

  private final PrintWriter out;
  private final Duration duration;
  private final AtomicLong ordered = new AtomicLong();
  private final AtomicLong restocked = new AtomicLong();
  private final AtomicLong logins = new AtomicLong();
  private final AtomicLong monolithWrites = new AtomicLong();
  private final AtomicLong serviceWrites = new AtomicLong();
  private long monolithWritesDuringBackfill;

  /**
   * What the demo found.
   *
   * @param ok whether every check held.
   * @param rowsSynced changes applied across, both directions.
   * @param conflicts conflicts detected.
   * @param discrepancies rows that differ between the sides after the run.
   * @param lines the summary, one line each.
   */
  public record Result(boolean ok, long rowsSynced, long conflicts, long discrepancies, List<String> lines) {}

  /**
   * Creates the demo.
   *
   * @param out where progress and the summary go.
   * @param duration how long the writers run.
   */
  public ShopDemo(PrintWriter out, Duration duration) {
    this.out = out;
    this.duration = duration;
  }

  private static JdbcDataSource h2(String name) {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:" + name + "-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    ds.setUser("sa");
    return ds;
  }

  private static void exec(DataSource ds, String... sql) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  /**
   * Runs the demo.
   *
   * @return what it found.
   * @throws Exception if a part fails outright.
   */
  public Result run() throws Exception {
    long started = System.nanoTime();
    JdbcDataSource monolith = h2("shop");
    JdbcDataSource inventory = h2("inventory");
    JdbcDataSource accounts = h2("accounts");
    step("1/10", "monolith: a shop on embedded H2 (" + CUSTOMERS + " customers, " + PRODUCTS + " products, orders)");
    exec(monolith,
        "CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(120) NOT NULL, name VARCHAR(80), "
            + "last_login TIMESTAMP, login_count INT NOT NULL)",
        "CREATE TABLE products (sku VARCHAR(20) PRIMARY KEY, title VARCHAR(80), price DECIMAL(10,2), "
            + "stock INT NOT NULL)",
        "CREATE TABLE orders (id BIGINT AUTO_INCREMENT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers, "
            + "sku VARCHAR(20) NOT NULL REFERENCES products, qty INT NOT NULL, placed_at TIMESTAMP)",
        "CREATE TABLE payments (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES orders, amount DECIMAL(10,2))",
        "CREATE TABLE countries (code VARCHAR(2) PRIMARY KEY, name VARCHAR(40))",
        "CREATE TABLE customer_addresses (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers, "
            + "country VARCHAR(2) REFERENCES countries, street VARCHAR(80))",
        "CREATE TABLE warehouses (id INT PRIMARY KEY, name VARCHAR(40), country VARCHAR(2) REFERENCES countries)",
        "CREATE TABLE stock_moves (id BIGINT PRIMARY KEY, sku VARCHAR(20) NOT NULL REFERENCES products, "
            + "warehouse_id INT REFERENCES warehouses, qty INT)",
        "INSERT INTO customers SELECT X, 'user' || X || '@shop.test', 'Customer ' || X, NULL, 0 "
            + "FROM SYSTEM_RANGE(1, " + CUSTOMERS + ")",
        "INSERT INTO products SELECT 'SKU-' || X, 'Product ' || X, 9.99 + X, " + START_STOCK
            + " FROM SYSTEM_RANGE(1, " + PRODUCTS + ")");
    Path work = Files.createTempDirectory("cutover-demo");
    step("2/10", "analysis: which services would keep this shop's transactions local (schema + its transaction mix)");
    Analysis analysis = BoundaryAnalyzer.analyze(Schema.read(monolith), List.of(
        new Transaction("place_order", Set.of("customers", "products"), Set.of("orders", "payments"), 1000),
        new Transaction("take_stock", Set.of(), Set.of("products"), 1000),
        new Transaction("login", Set.of(), Set.of("customers"), 800),
        new Transaction("restock", Set.of("warehouses"), Set.of("products", "stock_moves"), 300),
        new Transaction("signup", Set.of("countries"), Set.of("customers", "customer_addresses"), 200)),
        Hints.NONE, 1);
    AnalysisWriter.write(analysis, work.resolve("analysis"), "jdbc:h2:mem:shop", "sa");
    for (Analysis.ProposedService service : analysis.services()) {
      out.println("      proposed: " + service.name() + " " + service.tables());
    }
    analysis.referenceTables().forEach(r -> out.println("      shared reference data: " + r.table()));
    boolean proposalSplits = analysis.serviceOf("products") != null && analysis.serviceOf("customers") != null
        && !analysis.serviceOf("products").equals(analysis.serviceOf("customers"));
    step("3/10", "services: inventory takes products (stock: counter, rest: last writer wins); accounts takes "
        + "customers as users (login_count: counter; name: service wins)");
    exec(inventory, "CREATE TABLE products (sku VARCHAR(20) PRIMARY KEY, title VARCHAR(80), price DECIMAL(10,2), "
        + "stock INT NOT NULL)");
    exec(accounts, "CREATE TABLE users (user_id BIGINT PRIMARY KEY, email VARCHAR(120) NOT NULL, "
        + "display_name VARCHAR(80), last_login TIMESTAMP, login_count INT NOT NULL)");
    List<AutoCloseable> open = new ArrayList<>();
    try {
      Backfill backfill = Backfill.builder(Side.MONOLITH, monolith).tables("products", "customers").chunkSize(25)
          .build();
      backfill.install(); // its watermark table is captured with the monolith's tables
      TriggerCapture monolithCapture = TriggerCapture.builder(Side.MONOLITH, monolith).tables("customers", "products",
          Backfill.WATERMARK_TABLE).pollInterval(Duration.ofMillis(2)).build();
      TriggerCapture inventoryCapture = TriggerCapture.builder(Side.service("inventory"), inventory)
          .tables("products").pollInterval(Duration.ofMillis(2)).build();
      TriggerCapture accountsCapture = TriggerCapture.builder(Side.service("accounts"), accounts).tables("users")
          .pollInterval(Duration.ofMillis(2)).build();
      for (TriggerCapture capture : List.of(monolithCapture, inventoryCapture, accountsCapture)) {
        capture.install();
      }
      BidirectionalSync inventorySync = BidirectionalSync.builder("inventory", monolith, inventory,
              work.resolve("state"))
          .table(TableMapping.identity("products"), ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER))
          .syncState(false).build();
      BidirectionalSync accountsSync = BidirectionalSync.builder("accounts", monolith, accounts, work.resolve("state"))
          .table(TableMapping.renamed("customers", "users").withColumns(Map.of("id", "user_id", "email", "email",
                  "name", "display_name", "last_login", "last_login", "login_count", "login_count")),
              ConflictPolicy.LAST_WRITER_WINS.column("login_count", Rule.COUNTER)
                  .column("name", Rule.priority(Side.service("accounts"))))
          .syncState(false).build();
      open.add(inventorySync);
      open.add(accountsSync);
      ChangeClock clock = new ChangeClock();
      Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(work.resolve("journal")))
          .retryBackoff(Duration.ofMillis(5), Duration.ofMillis(200)).build())
          .apply(new ChangeHandler[] {inventorySync, accountsSync}).checksum(clock).start();
      open.add(pipeline);
      monolithCapture.start(backfill.watermarked(pipeline));
      open.add(monolithCapture);
      for (TriggerCapture capture : List.of(inventoryCapture, accountsCapture)) {
        capture.start(pipeline);
        open.add(capture);
      }
      step("4/10", "backfill, online: products and customers copied into the change stream in key-ordered chunks "
          + "between watermarks (DBLog) while the shop keeps taking orders and logins on the monolith");
      long[] backfilled = {0};
      runWriters(monolith, inventory, accounts, false, () -> {
        for (BackfillProgress p : backfill.run()) {
          out.println("      " + p.describe());
          backfilled[0] += p.rowsDone();
        }
        awaitRows(inventory, "SELECT COUNT(*) FROM products", PRODUCTS);
        awaitRows(accounts, "SELECT COUNT(*) FROM users", CUSTOMERS);
        return null;
      });
      step("5/10", "API: inventory's REST API generated from its tables (OpenAPI 3.1, PostgREST-style queries) and "
          + "served; a product created and repriced through it syncs to the monolith like any write");
      ApiTour.Result api = ApiTour.run(inventory, monolith, out);
      open.add(api.server());
      step("6/10", "sync both ways for " + duration.toSeconds() + " s while the shop and both services write "
          + "(orders, restocks, renames, logins on both sides)");
      runWriters(monolith, inventory, accounts, true, null);
      step("7/10", "settling: waiting until both sides of every table agree");
      awaitQuiet(pipeline, monolith, inventory, accounts);
      step("8/10", "validating: Merkle trees over every row of every moved table on both sides, then stock and "
          + "logins against the model");
      TableMapping products = TableMapping.identity("products");
      TableMapping users = TableMapping.renamed("customers", "users").withColumns(Map.of("id", "user_id", "email",
          "email", "name", "display_name", "last_login", "last_login", "login_count", "login_count"));
      AuditLog audit = AuditLog.open(work.resolve("audit"));
      open.add(audit);
      ContinuousValidator inventoryCheck = ContinuousValidator.builder(Validator.builder("inventory", monolith,
          inventory).build()).table(products).consistency(Consistency.STRICT).audit(audit).build();
      ContinuousValidator accountsCheck = ContinuousValidator.builder(Validator.builder("accounts", monolith,
          accounts).build()).table(users).consistency(Consistency.STRICT).audit(audit).build();
      open.add(inventoryCheck);
      open.add(accountsCheck);
      List<Discrepancy> afterSync = new ArrayList<>(inventoryCheck.runOnce("demo"));
      afterSync.addAll(accountsCheck.runOnce("demo"));
      afterSync.forEach(d -> out.println("      DIFFERS: " + d.describe()));
      long discrepancies = afterSync.size()
          + compare(monolith, inventory, "SELECT sku, title, price, stock FROM products ORDER BY sku",
          "SELECT sku, title, price, stock FROM products ORDER BY sku")
          + compare(monolith, accounts, "SELECT id, email, name, last_login, login_count FROM customers ORDER BY id",
          "SELECT user_id, email, display_name, last_login, login_count FROM users ORDER BY user_id");
      long comparedRows = inventoryCheck.stats().rowsCompared() + accountsCheck.stats().rowsCompared();
      step("9/10", "drift behind Cutover's back: someone patches a price in inventory and deletes a user in accounts "
          + "by hand; validation finds both, repairs them from the monolith through the journal, validates again");
      behindTheBack(inventory, "UPDATE products SET price = 0.01 WHERE sku = 'SKU-7'");
      behindTheBack(accounts, "DELETE FROM users WHERE user_id = 42");
      List<Discrepancy> found = new ArrayList<>(inventoryCheck.runOnce("demo"));
      found.addAll(accountsCheck.runOnce("demo"));
      found.forEach(d -> out.println("      found: " + d.describe()));
      Repairer inventoryRepair = new Repairer(pipeline, Side.service("inventory"), clock, audit).table(products, true);
      Repairer accountsRepair = new Repairer(pipeline, Side.service("accounts"), clock, audit).table(users, true);
      List<Repair> repairs = new ArrayList<>(inventoryRepair.repair(inventoryCheck.outstanding(), Authority.MONOLITH,
          "demo"));
      repairs.addAll(accountsRepair.repair(accountsCheck.outstanding(), Authority.MONOLITH, "demo"));
      repairs.forEach(r -> out.println("      repair: " + r.describe()));
      awaitQuiet(pipeline, monolith, inventory, accounts);
      long afterRepair = inventoryCheck.runOnce("demo").size() + accountsCheck.runOnce("demo").size();
      step("10/10", "traffic: shoppers browse products through the gateway while a rollout moves them to inventory "
          + "0 -> 50 -> 100%; a bad build fails half its answers and the rollout rolls back by itself, then the "
          + "fixed build goes all the way");
      TrafficShift.Result traffic = TrafficShift.run(monolith, api.server(), api.failing(), PRODUCTS, out);
      long audited = audit.read(0, Long.MAX_VALUE).size();
      long stock = single(monolith, "SELECT SUM(stock) FROM products");
      long expectedStock = (long) PRODUCTS * START_STOCK - ordered.get() + restocked.get();
      long loginTotal = single(monolith, "SELECT SUM(login_count) FROM customers");
      SyncStats inv = inventorySync.stats();
      SyncStats acc = accountsSync.stats();
      long conflicts = inv.conflicts() + acc.conflicts();
      long parked = inv.parked() + acc.parked();
      long synced = inv.toService() + inv.toMonolith() + acc.toService() + acc.toMonolith();
      List<String> lines = new ArrayList<>();
      lines.add("services proposed           " + analysis.services().size() + " (" + String.join(", ",
          analysis.services().stream().map(Analysis.ProposedService::name).toList()) + "), reference data "
          + analysis.referenceTables().stream().map(Analysis.ReferenceTable::table).toList() + "; products and "
          + "customers " + (proposalSplits ? "apart, as moved here" : "NOT apart"));
      lines.add("rows backfilled             " + backfilled[0] + " (online, " + monolithWritesDuringBackfill
          + " monolith writes meanwhile)");
      lines.add("application writes          monolith " + monolithWrites.get() + ", services " + serviceWrites.get());
      lines.add("changes synced              " + synced + " (to services " + (inv.toService() + acc.toService())
          + ", to monolith " + (inv.toMonolith() + acc.toMonolith()) + ")");
      lines.add("conflicts                   " + conflicts + " " + byKind(inv, acc) + ", resolved by policy "
          + (inv.conflictsByOutcome().get(Conflict.Outcome.RESOLVED) + acc.conflictsByOutcome()
          .get(Conflict.Outcome.RESOLVED)) + ", parked " + parked);
      lines.add("p95 sync latency            to services " + millis(Math.max(inv.p95ToServiceMicros(),
          acc.p95ToServiceMicros())) + ", to monolith " + millis(Math.max(inv.p95ToMonolithMicros(),
          acc.p95ToMonolithMicros())) + " (commit to applied)");
      lines.add("discrepancies               " + discrepancies + " after sync (Merkle validation of "
          + comparedRows + " rows, cross-checked row by row)");
      lines.add("drift repaired              " + found.size() + " found, " + repairs.size() + " repaired through the "
          + "journal, " + afterRepair + " left; audit log: " + audited + " entries");
      lines.add("traffic through the gateway " + traffic.requests() + " requests: monolith " + traffic.toMonolith()
          + ", inventory " + traffic.toService() + ", dropped " + traffic.dropped() + "; rollout 1 "
          + traffic.first().name().toLowerCase(java.util.Locale.ROOT) + ", rollout 2 "
          + traffic.second().name().toLowerCase(java.util.Locale.ROOT) + " at " + traffic.finalWeight() / 100 + "%");
      lines.add("stock                       " + stock + " (model: " + expectedStock + " = start - " + ordered.get()
          + " ordered + " + restocked.get() + " restocked)");
      lines.add("logins counted              " + loginTotal + " (model: " + logins.get() + ")");
      lines.add("API generated               " + api.summary());
      boolean trafficOk = traffic.dropped() == 0 && traffic.first() == io.cutover.engine.route.Rollout.State.ROLLED_BACK
          && traffic.second() == io.cutover.engine.route.Rollout.State.DONE && traffic.finalWeight() == 10_000;
      boolean ok = proposalSplits && api.ok() && trafficOk && discrepancies == 0 && found.size() == 2 && repairs.size() == 2 && afterRepair == 0
          && stock == expectedStock && loginTotal == logins.get() && parked == 0;
      lines.add("result                      " + (ok ? "OK" : "FAILED") + " in "
          + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) + " s");
      out.println();
      out.println("cutover demo summary");
      lines.forEach(line -> out.println("  " + line));
      out.flush();
      return new Result(ok, synced, conflicts, discrepancies, lines);
    } finally {
      for (int i = open.size() - 1; i >= 0; i--) {
        open.get(i).close();
      }
      delete(work);
    }
  }

  private void step(String number, String text) {
    out.println("[" + number + "] " + text);
    out.flush();
  }

  private static String millis(long micros) {
    return String.format(java.util.Locale.ROOT, "%.1f ms", micros / 1000.0);
  }

  private static String byKind(SyncStats a, SyncStats b) {
    StringBuilder text = new StringBuilder("(");
    for (Conflict.Kind kind : Conflict.Kind.values()) {
      long count = a.conflictsByKind().get(kind) + b.conflictsByKind().get(kind);
      if (count > 0) {
        text.append(text.length() > 1 ? ", " : "").append(kind.name().toLowerCase(java.util.Locale.ROOT))
            .append(' ').append(count);
      }
    }
    return text.append(')').toString();
  }

  /** Waits until a count reaches a number (the service has every backfilled row applied). */
  private static void awaitRows(DataSource ds, String count, long expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (single(ds, count) < expected) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the backfill's rows did not arrive: " + count + " = " + single(ds, count)
            + ", expected " + expected);
      }
      Thread.sleep(10);
    }
  }

  /**
   * Runs the writers: the monolith's always, the services' when asked, for the demo's duration or while some work
   * runs.
   */
  private void runWriters(DataSource monolith, DataSource inventory, DataSource accounts, boolean services,
      java.util.concurrent.Callable<Void> during) throws Exception {
    long monolithBefore = monolithWrites.get();
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    List<Future<?>> writers = new ArrayList<>();
    writers.add(pool.submit(() -> loop(monolith, running, 1, (c, r) -> {
      String sku = "SKU-" + (1 + r.nextInt(PRODUCTS));
      int qty = 1 + r.nextInt(3);
      c.setAutoCommit(false);
      try (PreparedStatement order = c.prepareStatement("INSERT INTO orders (customer_id, sku, qty, placed_at) "
          + "VALUES (?, ?, ?, CURRENT_TIMESTAMP)");
           PreparedStatement take = c.prepareStatement("UPDATE products SET stock = stock - ? WHERE sku = ?")) {
        order.setLong(1, 1 + r.nextInt(CUSTOMERS));
        order.setString(2, sku);
        order.setInt(3, qty);
        order.executeUpdate();
        take.setInt(1, qty);
        take.setString(2, sku);
        take.executeUpdate();
        c.commit();
      } finally {
        c.setAutoCommit(true);
      }
      ordered.addAndGet(qty);
      monolithWrites.incrementAndGet();
      if (r.nextInt(20) == 0) {
        try (PreparedStatement rename = c.prepareStatement("UPDATE products SET title = ? WHERE sku = ?")) {
          rename.setString(1, "Product " + sku + " (shop)");
          rename.setString(2, sku);
          rename.executeUpdate();
          monolithWrites.incrementAndGet();
        }
      }
    })));
    writers.add(pool.submit(() -> loop(monolith, running, 2, (c, r) -> {
      try (PreparedStatement login = c.prepareStatement("UPDATE customers SET last_login = CURRENT_TIMESTAMP, "
          + "login_count = login_count + 1 WHERE id = ?")) {
        login.setLong(1, 1 + r.nextInt(CUSTOMERS));
        login.executeUpdate();
      }
      logins.incrementAndGet();
      monolithWrites.incrementAndGet();
    })));
    if (services) {
      serviceWriters(writers, pool, running, inventory, accounts);
    }
    try {
      if (during == null) {
        Thread.sleep(duration.toMillis());
      } else {
        during.call();
      }
    } finally {
      running.set(false);
      for (Future<?> writer : writers) {
        writer.get();
      }
      pool.shutdown();
    }
    if (!services) {
      monolithWritesDuringBackfill = monolithWrites.get() - monolithBefore;
    }
  }

  private void serviceWriters(List<Future<?>> writers, ExecutorService pool, AtomicBoolean running,
      DataSource inventory, DataSource accounts) {
    writers.add(pool.submit(() -> loop(inventory, running, 3, (c, r) -> {
      String sku = "SKU-" + (1 + r.nextInt(PRODUCTS));
      int qty = 1 + r.nextInt(5);
      try (PreparedStatement restock = c.prepareStatement("UPDATE products SET stock = stock + ? WHERE sku = ?")) {
        restock.setInt(1, qty);
        restock.setString(2, sku);
        restock.executeUpdate();
      }
      restocked.addAndGet(qty);
      serviceWrites.incrementAndGet();
      if (r.nextInt(20) == 0) {
        try (PreparedStatement rename = c.prepareStatement("UPDATE products SET title = ? WHERE sku = ?")) {
          rename.setString(1, "Product " + sku + " (warehouse)");
          rename.setString(2, sku);
          rename.executeUpdate();
          serviceWrites.incrementAndGet();
        }
      }
    })));
    writers.add(pool.submit(() -> loop(accounts, running, 4, (c, r) -> {
      long user = 1 + r.nextInt(CUSTOMERS);
      boolean rename = r.nextInt(4) == 0;
      try (PreparedStatement ps = c.prepareStatement(rename
          ? "UPDATE users SET display_name = ? WHERE user_id = ?"
          : "UPDATE users SET last_login = CURRENT_TIMESTAMP, login_count = login_count + 1 WHERE user_id = ?")) {
        if (rename) {
          ps.setString(1, "Customer " + user + " (renamed)");
          ps.setLong(2, user);
        } else {
          ps.setLong(1, user);
          logins.incrementAndGet();
        }
        ps.executeUpdate();
      }
      serviceWrites.incrementAndGet();
    })));
  }

  /** One writer's step. */
  private interface Step {
    void run(Connection c, Random random) throws SQLException;
  }

  private static Void loop(DataSource ds, AtomicBoolean running, long seed, Step step) throws SQLException,
      InterruptedException {
    Random random = new Random(seed);
    try (Connection c = ds.getConnection()) {
      while (running.get()) {
        step.run(c, random);
        Thread.sleep(1);
      }
    }
    return null;
  }

  private static void awaitQuiet(Pipeline pipeline, DataSource... sides) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    int quiet = 0;
    while (quiet < 3) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("sync did not settle within 60 s: " + pipeline.stats());
      }
      boolean drained = true;
      for (DataSource side : sides) {
        drained &= single(side, "SELECT COUNT(*) FROM cutover_changes") == 0;
      }
      quiet = drained && pipeline.awaitIdle(Duration.ofSeconds(5)) ? quiet + 1 : 0;
      Thread.sleep(50);
    }
  }

  /** Writes on a session the capture ignores, as a hand-made fix around Cutover would. */
  private static void behindTheBack(DataSource ds, String sql) throws SQLException {
    try (java.sql.Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
      io.cutover.engine.db.ApplySessions.mark(c, "someone_by_hand");
      st.execute(sql);
    }
  }

  private static long compare(DataSource a, DataSource b, String sqlA, String sqlB) throws SQLException {
    List<String> left = rows(a, sqlA);
    List<String> right = rows(b, sqlB);
    long differences = Math.abs(left.size() - right.size());
    for (int i = 0; i < Math.min(left.size(), right.size()); i++) {
      if (!left.get(i).equals(right.get(i))) {
        differences++;
      }
    }
    return differences;
  }

  private static List<String> rows(DataSource ds, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      int columns = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= columns; i++) {
          row.append(i > 1 ? "|" : "").append(rs.getString(i));
        }
        rows.add(row.toString());
      }
    }
    return rows;
  }

  private static long single(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void delete(Path dir) throws IOException {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
