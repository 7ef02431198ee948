package io.cutover.admin.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

@Timeout(120)
class CutoverCliTest {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  static Result cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = CutoverCli.run(args, new PrintWriter(out, true), new PrintWriter(err, true));
    return new Result(code, out.toString(), err.toString());
  }

  private Path config(String monolithUrl, String serviceUrl, String serviceColumn) throws Exception {
    return config(monolithUrl, serviceUrl, serviceColumn, "");
  }

  private Path config(String monolithUrl, String serviceUrl, String serviceColumn, String extra) throws Exception {
    Path file = dir.resolve("cutover.yaml");
    Files.writeString(file, String.join("\n",
        "journal: {directory: journal}",
        "sides:",
        "  monolith: {url: '" + monolithUrl + "', user: sa}",
        "  services:",
        "    accounts: {url: '" + serviceUrl + "', user: sa}",
        "tables:",
        "  - {source: users, service: accounts, target: accounts, columns: {id: id, name: " + serviceColumn + "}}",
        extra));
    return file;
  }

  private static void exec(String url, String sql) throws Exception {
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  @Test
  void shouldRunTheDemoAndExitZeroOnlyWhenEveryCheckHeld() {
    Result demo = cli("demo", "--seconds", "2");
    assertEquals(0, demo.code(), demo.out() + demo.err());
    assertTrue(demo.out().contains("discrepancies               0"), demo.out());
    assertTrue(demo.out().matches("(?s).*conflicts\\s+[1-9][0-9]* \\(update_update.*"), "real conflicts: " + demo.out());
    assertTrue(demo.out().contains("result                      OK"), demo.out());
    assertEquals(2, cli("demo", "--seconds", "0").code());
  }

  @Test
  void shouldCheckAConfigurationAndExitTwoNamingTheKeyWhenItIsWrong() throws Exception {
    String mono = "jdbc:h2:mem:cli-m-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:cli-s-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(mono, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    exec(svc, "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    Result ok = cli("check", "--config", config(mono, svc, "name").toString());
    assertEquals(0, ok.code(), ok.err());
    assertTrue(ok.out().contains("OK: 1 table(s) from the monolith to 1 service(s)"), ok.out());
    Result wrong = cli("check", "--config", config(mono, svc, "nickname").toString());
    assertEquals(2, wrong.code());
    assertTrue(wrong.err().contains("tables[0].columns.name: table accounts of service accounts has no column "
        + "nickname"), wrong.err());
  }

  @Test
  void shouldPrintUsageForNoVerbAnUnknownVerbAndHelp() {
    Result none = cli();
    assertEquals(2, none.code());
    assertTrue(none.out().contains("check") && none.out().contains("replay"), none.out());
    assertEquals(2, cli("frobnicate").code());
    assertEquals(2, cli("check").code(), "missing --config");
    Result help = cli("replay", "--help");
    assertEquals(0, help.code());
    assertTrue(help.out().contains("--journal"), help.out());
    assertEquals(2, cli("replay", "--journal", dir.resolve("none").toString()).code());
  }

  @Test
  void shouldReplayAJournalAsTextAndAsJson() throws Exception {
    Path journal = dir.resolve("journal");
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(journal)).ringSize(64).build())
        .start()) {
      for (int i = 1; i <= 3; i++) {
        pipeline.publish(ChangeEvent.builder(Side.MONOLITH, "orders", Operation.INSERT)
            .key(Row.of("id", Value.of(i))).after(Row.of("id", Value.of(i), "note", Value.of("n" + i))).build())
            .get(10, TimeUnit.SECONDS);
      }
    }
    Result text = cli("replay", "--journal", journal.toString());
    assertEquals(0, text.code(), text.err());
    assertTrue(text.out().contains("monolith\torders\tINSERT\tkey={id=1}"), text.out());
    assertTrue(text.out().contains("3 change(s)"), text.out());
    Result json = cli("replay", "--journal", journal.toString(), "--json");
    String[] lines = json.out().strip().split("\n");
    assertEquals(3, lines.length);
    assertTrue(lines[2].contains("\"table\":\"orders\"") && lines[2].contains("\"stringValue\":\"n3\""), lines[2]);
    long secondIndex = Long.parseLong(lines[1].substring(lines[1].indexOf(':') + 1, lines[1].indexOf(',')));
    Result after = cli("replay", "--journal", journal.toString(), "--from", Long.toString(secondIndex));
    assertTrue(after.out().contains("1 change(s)"), after.out());
  }

  /** Counts what it is handed, keeping no position of its own: its journal checkpoint decides what it sees. */
  private static final class Counter implements io.cutover.engine.pipeline.ChangeHandler {
    final java.util.List<Long> seen = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public String name() {
      return "counter";
    }

    @Override
    public void onChange(io.cutover.engine.pipeline.ChangeRecord record) {
      seen.add(record.journalIndex());
    }
  }

  @Test
  void shouldRewindAConsumerSoTheNextStartHandsItTheChangesAgain() throws Exception {
    Path journal = dir.resolve("journal");
    Counter first = new Counter();
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(journal)).ringSize(64).build())
        .apply(first).start()) {
      for (int i = 1; i <= 3; i++) {
        pipeline.publish(ChangeEvent.builder(Side.MONOLITH, "orders", Operation.INSERT)
            .key(Row.of("id", Value.of(i))).after(Row.of("id", Value.of(i))).build()).get(10, TimeUnit.SECONDS);
      }
      pipeline.awaitIdle(java.time.Duration.ofSeconds(10));
    }
    assertEquals(3, first.seen.size());
    Result unknown = cli("replay", "--journal", journal.toString(), "--rewind", "nope");
    assertEquals(2, unknown.code());
    java.util.regex.Matcher consumer = java.util.regex.Pattern.compile("consumers: .*?([\\w.-]*counter)")
        .matcher(unknown.err());
    assertTrue(consumer.find(), unknown.err());
    Result later = cli("replay", "--journal", journal.toString(), "--rewind", consumer.group(1), "--from",
        Long.toString(first.seen.get(2) + 5));
    assertEquals(2, later.code(), "a rewind only moves back: " + later.err());
    Result rewound = cli("replay", "--journal", journal.toString(), "--rewind", consumer.group(1), "--from",
        Long.toString(first.seen.get(0)));
    assertEquals(0, rewound.code(), rewound.err());
    assertTrue(rewound.out().contains("rewound from " + first.seen.get(2)), rewound.out());
    Counter second = new Counter();
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(journal)).ringSize(64).build())
        .apply(second).start()) {
      pipeline.awaitIdle(java.time.Duration.ofSeconds(10));
    }
    assertEquals(first.seen.subList(1, 3), second.seen, "the changes after the index, handed over again");
  }

  @Test
  void anAdminApiBeyondLoopbackNeedsATokenOrTheOperatorsWordThatItIsInsecure() throws Exception {
    String mono = "jdbc:h2:mem:cli-ins-m-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:cli-ins-s-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(mono, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    exec(svc, "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    Path file = config(mono, svc, "name");
    Result refused = cli("run", "--config", file.toString(), "--admin-port", "0", "--admin-host", "0.0.0.0");
    assertEquals(2, refused.code(), refused.out() + refused.err());
    assertTrue(refused.err().contains("CUTOVER_ADMIN_TOKEN is not set") && refused.err().contains("--insecure-admin"),
        refused.err());
    assertTrue(!Files.exists(dir.resolve("journal")), "nothing was started");
    assertEquals(2, cli("run", "--config", file.toString(), "--admin-host", "no-such-host.invalid").code());

    StringWriter out = new StringWriter();
    StringWriter errors = new StringWriter();
    CommandLine commandLine = CutoverCli.commandLine(new PrintWriter(out, true), new PrintWriter(errors, true));
    CutoverCli.Run run = (CutoverCli.Run) commandLine.getSubcommands().get("run").getCommand();
    CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() -> commandLine.execute("run", "--config",
        file.toString(), "--admin-port", "0", "--admin-host", "0.0.0.0", "--insecure-admin", "--metrics-port", "0",
        "--metrics-host", "localhost"));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!out.toString().contains("syncing") && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(errors.toString().contains("WARNING: the admin API on 0.0.0.0:0 has no token"), errors.toString());
    assertTrue(out.toString().contains("admin API on 0.0.0.0:"), out.toString());
    assertTrue(out.toString().contains("metrics on http://localhost:"), out.toString());
    run.stop.countDown();
    assertEquals(0, code.get(60, TimeUnit.SECONDS), errors.toString());
  }

  @Test
  void shouldRunUntilStoppedAndDrainOnStop() throws Exception {
    String mono = "jdbc:h2:mem:cli-rm-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:cli-rs-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(mono, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    exec(svc, "CREATE TABLE accounts (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    exec(mono, "INSERT INTO users SELECT X, 'old ' || X FROM SYSTEM_RANGE(100, 111)");
    StringWriter out = new StringWriter();
    StringWriter errors = new StringWriter();
    CommandLine commandLine = CutoverCli.commandLine(new PrintWriter(out, true), new PrintWriter(errors, true));
    CutoverCli.Run run = (CutoverCli.Run) commandLine.getSubcommands().get("run").getCommand();
    Path file = config(mono, svc, "name", "validation: {interval: 200ms, consistency: strict}\n"
        + "backfill: {chunk: 5}\n");
    CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() ->
        commandLine.execute("run", "--config", file.toString(), "--status-every", "1", "--admin-port", "0",
            "--metrics-port", "0"));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!out.toString().contains("syncing") && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    exec(mono, "INSERT INTO users VALUES (7, 'ada')");
    String synced = "";
    while (!synced.equals("ada") && System.nanoTime() < deadline) {
      Thread.sleep(20);
      try (Connection c = DriverManager.getConnection(svc, "sa", ""); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT name FROM accounts WHERE id = 7")) {
        synced = rs.next() ? rs.getString(1) : "";
      }
    }
    assertEquals("ada", synced);
    while (!errors.toString().contains("cutover: backfill users: 12 / ") && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertTrue(errors.toString().contains(", done"), "backfill progress, plain lines off a terminal: " + errors);
    java.util.regex.Matcher port = java.util.regex.Pattern.compile("admin API on 127\\.0\\.0\\.1:(\\d+)")
        .matcher(out.toString());
    assertTrue(port.find(), out.toString());
    io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1",
        Integer.parseInt(port.group(1))).usePlaintext().build();
    try {
      io.cutover.admin.v1.Status status = io.cutover.admin.v1.CutoverAdminGrpc.newBlockingStub(channel)
          .getStatus(io.cutover.admin.v1.GetStatusRequest.getDefaultInstance());
      assertEquals("accounts", status.getSyncs(0).getService());
      assertTrue(status.getSyncs(0).getToService() >= 1, status.toString());
      io.cutover.admin.v1.TableSyncStatus users = status.getSyncs(0).getTables(0);
      assertEquals("users", users.getTable(), status.toString());
      assertTrue(users.getToService() >= 1 && users.getLastAppliedMicros() > 0, users.toString());
      assertTrue(users.getP95Micros() > 0, users.toString());
      assertTrue(status.getValidations(0).getOutstandingByTableMap().containsKey("users"), status.toString());
      assertTrue(!status.hasRoutes(), "no gateway configured, no routes in the status");
    } finally {
      channel.shutdownNow();
    }
    java.util.regex.Matcher metricsPort = java.util.regex.Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)")
        .matcher(out.toString());
    assertTrue(metricsPort.find(), out.toString());
    String page = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + metricsPort.group(1) + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    assertTrue(page.contains("cutover_sync_changes_total{service=\"accounts\",direction=\"to_service\"}"), page);
    assertTrue(page.contains("cutover_sync_table_changes_total{service=\"accounts\",table=\"users\","
        + "direction=\"to_service\"} 1"), page);
    assertTrue(page.contains("cutover_sync_table_lag_seconds{service=\"accounts\",table=\"users\"}"), page);
    while (!page.matches("(?s).*cutover_validation_rounds_total\\{service=\"accounts\"} [1-9].*")
        && System.nanoTime() < deadline) {
      Thread.sleep(50);
      page = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + metricsPort.group(1) + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
    }
    assertTrue(page.contains("cutover_validation_outstanding{service=\"accounts\"} 0"), page);
    assertTrue(page.matches("(?s).*cutover_validation_rounds_total\\{service=\"accounts\"} [1-9].*"), page);
    String target = "127.0.0.1:" + port.group(1);
    Result status = cli("admin", "--target", target, "status");
    assertEquals(0, status.code(), status.err());
    assertTrue(status.out().contains("\"service\": \"accounts\""), status.out());
    Result validate = cli("admin", "--target", target, "validate", "--service", "accounts");
    assertEquals(0, validate.code(), validate.out() + validate.err());
    assertTrue(validate.out().contains("\"consistent\": true"), validate.out());
    Result paused = cli("admin", "--target", target, "pause", "--service", "accounts", "--table", "users");
    assertEquals(0, paused.code(), paused.err());
    assertTrue(cli("admin", "--target", target, "resume", "--service", "accounts", "--table", "users").code() == 0);
    assertEquals(0, cli("admin", "--target", target, "conflicts", "--parked").code());
    Result replayed = cli("admin", "--target", target, "replay", "--consumer", "checksum");
    assertEquals(0, replayed.code(), replayed.err());
    assertTrue(replayed.out().contains("\"replayed\""), replayed.out());
    Result refused = cli("admin", "--target", target, "replay", "--consumer", "sync-accounts", "--after", "-1");
    assertEquals(2, refused.code());
    assertTrue(refused.err().contains("INVALID_ARGUMENT: consumer: handler 'sync-accounts' refuses replays"),
        refused.err());
    assertEquals(0, cli("admin", "--target", target, "audit", "--limit", "5").code());
    assertEquals(0, cli("admin", "--target", target, "repair", "--service", "accounts", "--authority", "monolith",
        "--dry-run").code());
    Result badAuthority = cli("admin", "--target", target, "repair", "--service", "accounts", "--authority", "x");
    assertEquals(2, badAuthority.code());
    assertTrue(badAuthority.err().contains("INVALID_ARGUMENT: authority:"), badAuthority.err());
    assertEquals(1, cli("admin", "--target", target, "resolve", "--conflict", "7", "--winner", "monolith").code(),
        "no such parked conflict: NOT_FOUND");
    assertEquals(2, cli("admin", "--target", target, "frobnicate").code());
    Result noGateway = cli("admin", "--target", target, "routes");
    assertEquals(1, noGateway.code());
    assertTrue(noGateway.err().contains("FAILED_PRECONDITION: this engine runs no gateway"), noGateway.err());
    assertEquals(2, cli("admin", "--target", target, "rollout", "--route", "x", "--steps", "fifty").code());
    assertEquals(1, cli("admin", "--target", target, "rollout", "--route", "x", "--steps", "500:1s,10000:0s").code());
    assertEquals(1, cli("admin", "--target", target, "weight", "--route", "x", "--bps", "5").code());
    assertEquals(2, cli("admin", "--target", "nowhere", "status").code());
    run.stop.countDown();
    assertEquals(0, code.get(30, TimeUnit.SECONDS));
    assertTrue(out.toString().contains("stopped after draining the pipeline"), out.toString());

    Result dry = cli("cleanup", "--config", file.toString(), "--dry-run");
    assertEquals(0, dry.code(), dry.err());
    assertTrue(dry.out().contains("would remove monolith: trigger cutover_capture_users"), dry.out());
    assertTrue(dry.out().contains("would remove accounts: table cutover_changes"), dry.out());
    Result cleanup = cli("cleanup", "--config", file.toString());
    assertTrue(cleanup.out().contains("removed monolith: trigger cutover_capture_users"), cleanup.out());
    assertTrue(cli("cleanup", "--config", file.toString(), "--dry-run").out().contains("nothing of this migration"));
  }

  private static java.util.List<String> query(String url, String sql) throws Exception {
    java.util.List<String> out = new java.util.ArrayList<>();
    try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery(sql)) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  @Test
  void shouldValidateListDiscrepanciesPlanAndRepairThroughTheJournal() throws Exception {
    String mono = "jdbc:h2:mem:cli-vm-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:cli-vs-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(mono, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    exec(svc, "CREATE TABLE accounts (id BIGINT PRIMARY KEY, nick VARCHAR(20))");
    for (int i = 1; i <= 20; i++) {
      exec(mono, "INSERT INTO users VALUES (" + i + ", 'u" + i + "')");
      exec(svc, "INSERT INTO accounts VALUES (" + i + ", 'u" + i + "')");
    }
    String file = config(mono, svc, "nick").toString();
    Result clean = cli("validate", "--config", file);
    assertEquals(0, clean.code(), clean.out() + clean.err());
    assertTrue(clean.out().contains("users -> accounts.accounts: 20 monolith rows, 20 service rows, consistent"),
        clean.out());
    assertTrue(clean.err().contains("cutover: validating users: 20 / 20 rows (monolith / service), read"),
        "progress goes to the error stream, plain lines off a terminal: " + clean.err());

    exec(svc, "UPDATE accounts SET nick = '' WHERE id = 3");
    exec(svc, "DELETE FROM accounts WHERE id = 4");
    exec(mono, "DELETE FROM users WHERE id = 5");
    Result found = cli("validate", "--config", file, "--limit", "2");
    assertEquals(CutoverCli.DISCREPANCIES, found.code(), found.out() + found.err());
    assertTrue(found.out().contains("3 discrepancies (missing_on_monolith 1, missing_on_service 1, columns_differ 1)"),
        "the table's line counts them by kind: " + found.out());
    assertTrue(found.out().contains("... 1 more (the list stops at --limit 2)"), found.out());
    assertTrue(found.out().strip().endsWith("cutover: 3 discrepancies in 1 of 1 tables, missing_on_monolith 1, "
        + "missing_on_service 1, columns_differ 1"), "a summary line a script can check: " + found.out());
    Result json = cli("validate", "--config", file, "--json");
    assertEquals(CutoverCli.DISCREPANCIES, json.code());
    assertTrue(json.out().strip().startsWith("{\"service\":\"accounts\",\"table\":\"users\""), json.out());
    assertTrue(json.out().contains("\"discrepancyCount\":\"3\""), json.out());
    assertTrue(json.out().contains("\"countsByKind\":{\"missing_on_monolith\":\"1\",\"missing_on_service\":\"1\","
        + "\"columns_differ\":\"1\"}"), json.out());
    assertEquals(1, json.out().strip().lines().count(), "one JSON object per table pair, nothing else");

    Result plan = cli("validate", "--config", file, "--repair", "monolith", "--dry-run");
    assertEquals(CutoverCli.DISCREPANCIES, plan.code(), plan.out() + plan.err());
    assertTrue(plan.out().contains("would repair users {id=3}: copy the monolith's row to the service (COLUMNS_DIFFER)"),
        plan.out());
    assertTrue(plan.out().contains("would repair users {id=5}: delete from the service (MISSING_ON_MONOLITH)"),
        plan.out());
    assertEquals(java.util.List.of(""), query(svc, "SELECT nick FROM accounts WHERE id = 3"), "a dry run changes nothing");

    Result repaired = cli("validate", "--config", file, "--repair", "monolith");
    assertEquals(0, repaired.code(), repaired.out() + repaired.err());
    assertTrue(repaired.out().contains("3 discrepancies, 3 repaired through the journal"), repaired.out());
    assertEquals(0, cli("validate", "--config", file).code(), "consistent after the repair");
    assertEquals(java.util.List.of("u3"), query(svc, "SELECT nick FROM accounts WHERE id = 3"));
    Result replay = cli("replay", "--journal", dir.resolve("journal").toString());
    assertTrue(replay.out().contains("3 change(s)"), "the repairs are journaled changes: " + replay.out());

    assertEquals(2, cli("validate", "--config", file, "--repair", "nobody").code());
    assertEquals(2, cli("validate", "--config", file, "--dry-run").code());
    assertEquals(2, cli("validate", "--config", file, "--table", "nope").code());
  }

  @Test
  void shouldAnalyzeASchemaIntoAPlanThatLoads() throws Exception {
    String mono = "jdbc:h2:mem:cli-an-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(mono, "CREATE TABLE currencies (code VARCHAR(3) PRIMARY KEY)");
    exec(mono, "CREATE TABLE customers (id BIGINT PRIMARY KEY, currency VARCHAR(3) REFERENCES currencies)");
    exec(mono, "CREATE TABLE customer_addresses (id BIGINT PRIMARY KEY, customer_id BIGINT REFERENCES customers)");
    exec(mono, "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT REFERENCES customers, "
        + "currency VARCHAR(3) REFERENCES currencies)");
    exec(mono, "CREATE TABLE order_items (id BIGINT PRIMARY KEY, order_id BIGINT REFERENCES orders)");
    exec(mono, "CREATE TABLE products (sku VARCHAR(9) PRIMARY KEY, currency VARCHAR(3) REFERENCES currencies)");
    exec(mono, "CREATE TABLE stock (sku VARCHAR(9) PRIMARY KEY REFERENCES products, qty INT)");
    Path log = dir.resolve("access.jsonl");
    Files.writeString(log, String.join("\n",
        "{\"tx\": \"order\", \"reads\": [\"customers\"], \"writes\": [\"orders\", \"order_items\"], \"count\": 500}",
        "{\"tx\": \"restock\", \"writes\": [\"stock\", \"products\"], \"count\": 100}",
        "{\"tx\": \"signup\", \"writes\": [\"customers\", \"customer_addresses\"], \"count\": 100}"));
    Path out = dir.resolve("analysis");
    Result result = cli("analyze", "--url", mono, "--user", "sa", "--access-log", log.toString(), "--out",
        out.toString());
    assertEquals(0, result.code(), result.out() + result.err());
    assertTrue(result.out().contains("7 tables -> 3 services, 1 shared reference tables"), result.out());
    io.cutover.engine.config.MigrationConfig plan = io.cutover.engine.config.MigrationConfig.load(
        out.resolve("plan.yaml"));
    assertEquals(3, plan.services().size());
    assertTrue(Files.readString(out.resolve("report.md")).contains("currencies"));

    Result hinted = cli("analyze", "--url", mono, "--user", "sa", "--access-log", log.toString(), "--services", "2",
        "--together", "orders,stock", "--out", dir.resolve("hinted").toString());
    assertEquals(0, hinted.code(), hinted.out() + hinted.err());
    assertTrue(hinted.out().contains("-> 2 services"), hinted.out());

    Result badHint = cli("analyze", "--url", mono, "--user", "sa", "--apart", "orders", "--out", out.toString());
    assertEquals(2, badHint.code());
    assertTrue(badHint.err().contains("an apart hint names two different tables"), badHint.err());
    Result unknown = cli("analyze", "--url", mono, "--user", "sa", "--together", "orders,nope", "--out",
        out.toString());
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("hint names table nope"), unknown.err());
    Path bad = dir.resolve("bad.jsonl");
    Files.writeString(bad, "{\"tx\": 1}\n");
    Result badLog = cli("analyze", "--url", mono, "--user", "sa", "--access-log", bad.toString(), "--out",
        out.toString());
    assertEquals(2, badLog.code());
    assertTrue(badLog.err().contains("line 1: 'tx' must be a non-empty string"), badLog.err());
    assertEquals(2, cli("analyze", "--url", "mysql://x", "--out", out.toString()).code());
  }

  @Test
  void shouldGenerateTheApiDocumentAndServeItUntilStopped() throws Exception {
    String svc = "jdbc:h2:mem:cli-api-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(svc, "CREATE TABLE orders (id BIGINT PRIMARY KEY, status VARCHAR(12) NOT NULL)");
    exec(svc, "CREATE TABLE order_items (order_id BIGINT REFERENCES orders, line INT, sku VARCHAR(9), "
        + "PRIMARY KEY (order_id, line))");
    exec(svc, "CREATE TABLE notes (id BIGINT PRIMARY KEY)");
    Path yaml = dir.resolve("api/openapi.yaml");
    Result generated = cli("apigen", "--jdbc", svc, "--user", "sa", "--tables", "orders,order_items", "--service",
        "orders", "--out", yaml.toString(), "--versions", dir.resolve("versions").toString());
    assertEquals(0, generated.code(), generated.out() + generated.err());
    assertTrue(generated.out().contains("orders v1"), generated.out());
    String document = Files.readString(yaml);
    assertTrue(document.startsWith("openapi: 3.1.0"), document);
    assertTrue(document.contains("/order_items/{order_id},{line}:"));
    assertTrue(!document.contains("/notes"), "only the tables asked for");
    exec(svc, "ALTER TABLE orders ADD COLUMN total DECIMAL(9,2)");
    Path json = dir.resolve("api/openapi.json");
    Result second = cli("apigen", "--jdbc", svc, "--user", "sa", "--tables", "orders,order_items", "--service",
        "orders", "--out", json.toString(), "--versions", dir.resolve("versions").toString());
    assertTrue(second.out().contains("orders v2"), "the schema changed: " + second.out());
    assertTrue(Files.readString(json).contains("\"openapi\" : \"3.1.0\""));

    assertEquals(2, cli("apigen", "--jdbc", svc, "--user", "sa").code(), "nothing asked");
    Result unknown = cli("apigen", "--jdbc", svc, "--user", "sa", "--tables", "nope", "--out", json.toString());
    assertEquals(2, unknown.code());
    assertTrue(unknown.err().contains("table 'nope' is not in schema"), unknown.err());
    assertEquals(2, cli("apigen", "--jdbc", "mysql://x", "--out", json.toString()).code());

    StringWriter out = new StringWriter();
    CommandLine commandLine = CutoverCli.commandLine(new PrintWriter(out, true), new PrintWriter(new StringWriter()));
    CutoverCli.Apigen apigen = (CutoverCli.Apigen) commandLine.getSubcommands().get("apigen").getCommand();
    CompletableFuture<Integer> code = CompletableFuture.supplyAsync(() ->
        commandLine.execute("apigen", "--jdbc", svc, "--user", "sa", "--serve", "0"));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!out.toString().contains("serving") && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    java.util.regex.Matcher port = java.util.regex.Pattern.compile("on http://127\\.0\\.0\\.1:(\\d+)/v1/")
        .matcher(out.toString());
    assertTrue(port.find(), out.toString());
    java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> created = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(
        "http://127.0.0.1:" + port.group(1) + "/v1/orders")).header("Content-Type", "application/json")
        .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{\"id\":1,\"status\":\"new\"}")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertEquals(201, created.statusCode(), created.body());
    try (Connection c = DriverManager.getConnection(svc, "sa", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT status FROM orders WHERE id = 1")) {
      assertTrue(rs.next());
      assertEquals("new", rs.getString(1), "the API wrote the database");
    }
    apigen.stop.countDown();
    assertEquals(0, code.get(30, TimeUnit.SECONDS));
    assertTrue(out.toString().contains("API stopped"));
  }
}
