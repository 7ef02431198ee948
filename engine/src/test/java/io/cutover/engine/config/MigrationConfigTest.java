package io.cutover.engine.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.config.MigrationConfig.CaptureMethod;
import io.cutover.journal.SyncPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationConfigTest {
  @TempDir Path dir;
  private String monolithUrl;
  private String serviceUrl;

  @BeforeEach
  void databases() throws SQLException {
    monolithUrl = "jdbc:h2:mem:cfg-mono-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    serviceUrl = "jdbc:h2:mem:cfg-svc-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    exec(monolithUrl, "", "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(50), email VARCHAR(80), "
        + "wake TIME, tags INT ARRAY)", "CREATE TABLE audit (msg VARCHAR(10))");
    exec(serviceUrl, "s3cret", "CREATE TABLE accounts (user_id BIGINT PRIMARY KEY, display_name VARCHAR(50))");
  }

  /** The first connection creates the in-memory database with user sa and this password. */
  private static void exec(String url, String password, String... sql) throws SQLException {
    try (Connection c = DriverManager.getConnection(url, "sa", password); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  private Path write(String yaml) throws Exception {
    Path file = dir.resolve("cutover.yaml");
    Files.writeString(file, yaml.replace("@MONOLITH_URL@", monolithUrl).replace("@SERVICE_URL@", serviceUrl));
    return file;
  }

  private static final String VALID = String.join("\n",
      "journal:",
      "  directory: journal",
      "  sync: every_record",
      "sides:",
      "  monolith:",
      "    url: @MONOLITH_URL@",
      "    user: sa",
      "    password: ${env:MONO_PASSWORD}",
      "  services:",
      "    accounts:",
      "      url: @SERVICE_URL@",
      "      user: sa",
      "      password_file: secret.txt",
      "tables:",
      "  - source: users",
      "    service: accounts",
      "    target: accounts",
      "    columns: {id: user_id, name: display_name}",
      "    filter: {name: [ada, grace], id: 7}",
      "");

  private MigrationConfig loadValid() throws Exception {
    Files.writeString(dir.resolve("secret.txt"), "s3cret\n");
    return MigrationConfig.load(write(VALID), Map.of("MONO_PASSWORD", "")::get);
  }

  @Test
  void shouldLoadACompleteConfigurationAndFindItSound() throws Exception {
    MigrationConfig config = loadValid();
    assertEquals(dir.resolve("journal").toAbsolutePath(), config.journalDirectory());
    assertEquals(SyncPolicy.EVERY_RECORD, config.sync());
    assertEquals(io.cutover.engine.pipeline.StageThreads.SINGLE, config.stageThreads(), "the default");
    assertEquals(io.cutover.engine.pipeline.StageThreads.PER_STAGE, MigrationConfig.load(write(VALID.replace(
        "  sync: every_record", "  sync: every_record\n  threads: per_stage")), Map.of("MONO_PASSWORD", "")::get)
        .stageThreads());
    assertEquals(CaptureMethod.TRIGGER, config.monolith().capture());
    assertEquals("s3cret", config.services().get("accounts").password());
    assertFalse(config.services().get("accounts").toString().contains("s3cret"), "passwords are never printed");
    assertEquals(Map.of("id", "user_id", "name", "display_name"), config.tables().get(0).columns());
    assertEquals(Map.of("name", java.util.Set.of("ada", "grace"), "id", java.util.Set.of("7")),
        config.tables().get(0).filter());
    assertEquals(List.of(), ConfigChecker.check(config));
    ConfigChecker.verify(config);
    // Without a column list every column goes over: H2's INFORMATION_SCHEMA.USERS must not be mistaken for ours.
    exec(serviceUrl, "s3cret", "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(50), email VARCHAR(80), "
        + "wake TIMESTAMP, tags VARCHAR(10))");
    Files.writeString(config.file(), Files.readString(config.file()).replace("    target: accounts\n    columns: "
        + "{id: user_id, name: display_name}\n", ""));
    MigrationConfig all = MigrationConfig.load(config.file(), Map.of("MONO_PASSWORD", "")::get);
    assertEquals(Map.of(), all.tables().get(0).columns());
    List<String> problems = ConfigChecker.check(all).stream().map(ConfigException::getMessage).toList();
    assertEquals(2, problems.size(), problems.toString());
    assertTrue(problems.get(0).contains("column users.wake has type TIME"), problems.toString());
  }

  private ConfigException loadError(String yaml) throws Exception {
    Files.writeString(dir.resolve("secret.txt"), "x");
    Path file = write(yaml);
    ConfigException e = assertThrows(ConfigException.class,
        () -> MigrationConfig.load(file, Map.of("MONO_PASSWORD", "pw")::get));
    assertTrue(e.getMessage().startsWith(file.toString() + ": "), "names the file: " + e.getMessage());
    return e;
  }

  @Test
  void aDeeplyNestedFileIsAClearErrorNotAStackOverflow() throws Exception {
    StringBuilder block = new StringBuilder();
    for (int i = 0; i < 3_000; i++) {
      block.append(" ".repeat(i)).append("k:\n");
    }
    for (String nested : List.of("[".repeat(100_000), block.toString(), "{a: ".repeat(50_000))) {
      Path file = dir.resolve("nested.yaml");
      Files.writeString(file, nested);
      ConfigException e = assertThrows(ConfigException.class, () -> MigrationConfig.load(file, Map.<String, String>of()::get));
      assertTrue(e.getMessage().contains("nested deeper than"), e.getMessage());
    }
  }

  @Test
  void shouldNameTheKeyAndTheReasonForEveryStaticMistake() throws Exception {
    assertEquals("sides.monolith.password",
        loadError(VALID.replace("${env:MONO_PASSWORD}", "hunter2")).key());
    assertTrue(loadError(VALID.replace("${env:MONO_PASSWORD}", "hunter2")).getMessage()
        .contains("must not be written inline"));
    for (String url : List.of("'jdbc:postgresql://db/shop?user=x&password=hunter2'",
        "'jdbc:postgresql://x:hunter2@db/shop'", "'jdbc:h2:mem:shop;USER=sa;PASSWORD=hunter2'")) {
      ConfigException carried = loadError(VALID.replace("url: @MONOLITH_URL@", "url: " + url));
      assertEquals("sides.monolith.url", carried.key(), url);
      assertTrue(carried.getMessage().contains("must not carry a password"), carried.getMessage());
      assertTrue(!carried.getMessage().contains("hunter2"), "the password is never echoed: " + carried.getMessage());
    }
    assertTrue(loadError(VALID.replace("MONO_PASSWORD", "UNSET_VAR")).getMessage()
        .contains("environment variable UNSET_VAR is not set"));
    assertEquals("tables[0].service", loadError(VALID.replace("service: accounts", "service: billing")).key());
    assertEquals("sides.monolith.capture", loadError(VALID.replace("    password: ${env:MONO_PASSWORD}", "    password: ${env:MONO_PASSWORD}\n    capture: logical"))
        .key());
    assertEquals("sides.monolith.capture", loadError(VALID.replace("    password: ${env:MONO_PASSWORD}", "    password: ${env:MONO_PASSWORD}\n    capture: cdc"))
        .key());
    assertEquals("sides.monolith.colour", loadError(VALID.replace("    password: ${env:MONO_PASSWORD}", "    password: ${env:MONO_PASSWORD}\n    colour: red"))
        .key());
    assertEquals("journal.sync", loadError(VALID.replace("every_record", "sometimes")).key());
    assertEquals("journal.threads", loadError(VALID.replace("  sync: every_record", "  sync: batch\n  threads: two"))
        .key());
    assertEquals("tables[0].target", loadError(VALID.replace("target: accounts", "target: 'bad name'")).key());
    assertEquals("sides.monolith.url", loadError(VALID.replace("url: @MONOLITH_URL@", "url: mysql://x")).key());
    assertEquals("tables", loadError(VALID.substring(0, VALID.indexOf("tables:")) + "tables: []\n").key());
    assertEquals("sides", loadError("tables: []\n").key());
    assertEquals("tables[0].filter.name", loadError(VALID.replace("[ada, grace]", "[]")).key());
    assertEquals("(syntax)", loadError(VALID + "sides: {}\n").key(), "duplicate keys are refused");
    assertEquals("(syntax)", loadError("sides: [unclosed\n").key());
    assertEquals("sides.services.accounts", loadError(VALID.replace("      password_file: secret.txt",
        "      password_file: secret.txt\n      password: ${env:MONO_PASSWORD}")).key());
    assertEquals("sides.services.accounts.password_file", loadError(VALID.replace("secret.txt", "missing.txt")).key());
    assertEquals("(file)", assertThrows(ConfigException.class,
        () -> MigrationConfig.load(dir.resolve("absent.yaml"))).key());
    String table = "    filter: {name: [ada, grace], id: 7}";
    assertEquals("tables[0].direction", loadError(VALID.replace(table, table + "\n    direction: sideways")).key());
    ConfigException rule = loadError(VALID.replace(table, table + "\n    conflicts: {rule: newest}"));
    assertEquals("tables[0].conflicts.rule", rule.key());
    assertTrue(rule.getMessage().contains("last_writer_wins"), rule.getMessage());
    assertEquals("tables[0].conflicts.rule", loadError(VALID.replace(table, table
        + "\n    conflicts: {rule: counter}")).key(), "counter cannot decide a whole row");
    assertEquals("tables[0].conflicts.columns.stock", loadError(VALID.replace(table, table
        + "\n    conflicts: {columns: {stock: sum}}")).key());
    assertEquals("sides.monolith.slot", loadError(VALID.replace("    user: sa\n    password: ${env:MONO_PASSWORD}",
        "    user: sa\n    password: ${env:MONO_PASSWORD}\n    slot: mono")).key(), "a slot needs logical capture");
    assertEquals("state", loadError(VALID + "state: nowhere\n").key());
    assertEquals("validation.interval", loadError(VALID + "validation: {interval: soon}\n").key());
    assertTrue(loadError(VALID + "validation: {interval: soon}\n").getMessage().contains("such as 500ms, 30s"));
    assertEquals("validation.interval", loadError(VALID + "validation: {interval: 0s}\n").key());
    assertEquals("validation.tolerance", loadError(VALID + "validation: {tolerance: -1s}\n").key());
    assertEquals("validation.consistency", loadError(VALID + "validation: {consistency: loose}\n").key());
    assertEquals("validation.repair", loadError(VALID + "validation: {repair: whoever}\n").key());
    assertEquals("validation.depth", loadError(VALID + "validation: {depth: 30}\n").key());
    assertEquals("validation.depth", loadError(VALID + "validation: {depth: deep}\n").key());
    assertEquals("validation.speed", loadError(VALID + "validation: {speed: 1}\n").key());
    assertEquals("validation.full_scan", loadError(VALID + "validation: {full_scan: 0m}\n").key());
    String gw = "gateway:\n  port: 8080\n  upstreams: {monolith: '127.0.0.1:9000', accounts: '127.0.0.1:9001'}\n"
        + "  routes:\n    - {name: users, prefix: /api/users, service: accounts, weight: 100, sticky: 'cookie:sid'}\n";
    assertEquals("gateway.upstreams", loadError(VALID + gw.replace("monolith: '127.0.0.1:9000', ", "")).key());
    assertEquals("gateway.upstreams.accounts", loadError(VALID + gw.replace("127.0.0.1:9001", "nowhere")).key());
    assertEquals("gateway.port", loadError(VALID + gw.replace("8080", "99999")).key());
    assertEquals("gateway.routes[0].service", loadError(VALID + gw.replace("service: accounts",
        "service: billing")).key());
    assertEquals("gateway.routes[0].weight", loadError(VALID + gw.replace("weight: 100", "weight: 20000")).key());
    assertEquals("gateway.routes[0]", loadError(VALID + gw.replace("cookie:sid", "body:x")).key());
    assertEquals("gateway.routes[0].rules[0]", loadError(VALID + gw.replace("'cookie:sid'}",
        "'cookie:sid', rules: [{value: '1'}]}")).key());
    assertEquals("gateway.routes[0].rules[0].to", loadError(VALID + gw.replace("'cookie:sid'}",
        "'cookie:sid', rules: [{header: x, value: '1', to: elsewhere}]}")).key());
    assertEquals("gateway.health.path", loadError(VALID + gw + "  health: {path: health}\n").key());
    assertEquals("validation.repair", loadError(VALID.replace(table, table + "\n    direction: to_service")
        + "validation: {repair: service}\n").key(), "the service cannot win one-way tables");
    String kafka = "kafka: {bootstrap: '10.0.0.5:9092,10.0.0.6:9092', topics: cutover.shop, role: apply}\n";
    assertEquals("kafka.bootstrap", loadError(VALID + "kafka: {topics: x}\n").key());
    assertEquals("kafka.bootstrap", loadError(VALID + kafka.replace("10.0.0.6:9092", "10.0.0.6")).key());
    assertEquals("kafka.role", loadError(VALID + kafka.replace("apply", "everything")).key());
    assertEquals("kafka.topics", loadError(VALID + kafka.replace("cutover.shop", "'a topic'")).key());
    assertEquals("kafka.partitions", loadError(VALID + kafka.replace("}", ", partitions: 0}")).key());
    assertEquals("kafka.brokers", loadError(VALID + kafka.replace("}", ", brokers: 3}")).key());
    assertEquals("kafka.properties.acks", loadError(VALID + kafka.replace("}", ", properties: {acks: [1]}}")).key());
  }

  @Test
  void shouldReadTheKafkaTransport() throws Exception {
    Files.writeString(dir.resolve("secret.txt"), "x");
    MigrationConfig config = MigrationConfig.load(write(VALID + "kafka:\n  bootstrap: 10.0.0.5:9092, 10.0.0.6:9092\n"
        + "  topics: cutover.shop\n  group: shop\n  partitions: 12\n  role: capture\n"
        + "  properties: {security.protocol: SSL, linger.ms: 5}\n"), Map.of("MONO_PASSWORD", "pw")::get);
    MigrationConfig.KafkaSection k = config.kafka();
    assertEquals("10.0.0.5:9092,10.0.0.6:9092", k.bootstrap());
    assertEquals("cutover.shop", k.topics());
    assertEquals("shop", k.group());
    assertEquals(12, k.partitions());
    assertEquals(MigrationConfig.KafkaRole.CAPTURE, k.role());
    assertEquals(Map.of("security.protocol", "SSL", "linger.ms", "5"), k.properties());
    MigrationConfig defaults = MigrationConfig.load(write(VALID + "kafka: {bootstrap: 'k:9092'}\n"),
        Map.of("MONO_PASSWORD", "pw")::get);
    assertEquals(new MigrationConfig.KafkaSection("k:9092", "cutover", "cutover", 6, MigrationConfig.KafkaRole.ALL,
        Map.of()), defaults.kafka());
    assertEquals(null, MigrationConfig.load(write(VALID), Map.of("MONO_PASSWORD", "pw")::get).kafka());
  }

  @Test
  void shouldReadDirectionConflictPoliciesAndTheStateDirectory() throws Exception {
    Files.writeString(dir.resolve("secret.txt"), "x");
    String table = "    filter: {name: [ada, grace], id: 7}";
    MigrationConfig config = MigrationConfig.load(write(VALID.replace(table, table + "\n    direction: to_service"
        + "\n    conflicts: {rule: service_wins, columns: {name: max, logins: counter, note: 'custom:Longest'}}")
        + "state: {directory: st}\n"), Map.of("MONO_PASSWORD", "")::get);
    MigrationConfig.TableConfig t = config.tables().get(0);
    assertFalse(t.bidirectional());
    assertEquals(io.cutover.engine.sync.Rule.priority(io.cutover.engine.event.Side.service("accounts")),
        t.conflicts().row());
    assertEquals(io.cutover.engine.sync.Rule.COUNTER, t.conflicts().rule("logins"));
    assertEquals(io.cutover.engine.sync.Rule.MAX, t.conflicts().rule("name"));
    assertEquals(io.cutover.engine.sync.Rule.custom("Longest"), t.conflicts().rule("note"));
    assertEquals(dir.resolve("st").toAbsolutePath(), config.stateDirectory());
    MigrationConfig defaults = loadValid();
    assertTrue(defaults.tables().get(0).bidirectional());
    assertEquals(io.cutover.engine.sync.ConflictPolicy.LAST_WRITER_WINS, defaults.tables().get(0).conflicts());
    assertEquals(dir.resolve("cutover-state").toAbsolutePath(), defaults.stateDirectory());
    assertEquals(MigrationConfig.ValidationConfig.ON_DEMAND, defaults.validation());
    MigrationConfig validated = MigrationConfig.load(write(VALID + "validation: {interval: 5m, consistency: strict, "
        + "tolerance: 1500ms, repair: newest, depth: 10, full_scan: 1h}\n"), Map.of("MONO_PASSWORD", "")::get);
    assertEquals(new MigrationConfig.ValidationConfig(java.time.Duration.ofMinutes(5), true,
        java.time.Duration.ofMillis(1500), "newest", 10, java.time.Duration.ofHours(1)), validated.validation());
    assertEquals(java.time.Duration.ofHours(2), MigrationConfig.load(write(VALID + "validation: {interval: 2h, "
        + "tolerance: 3s}\n"), Map.of("MONO_PASSWORD", "")::get).validation().interval());
    MigrationConfig routed = MigrationConfig.load(write(VALID + "gateway:\n  port: 8080\n  upstreams: "
        + "{monolith: '127.0.0.1:9000', accounts: '127.0.0.1:9001'}\n  health: {path: /up, interval: 2s}\n"
        + "  routes:\n    - {name: users, prefix: /api/users, service: accounts, weight: 250, sticky: 'cookie:sid', "
        + "methods: [GET], failover: false, rules: [{cookie: beta, value: 'yes', to: service, variant: beta}, "
        + "{header: x-old, value: '1', to: monolith}]}\n"), Map.of("MONO_PASSWORD", "")::get);
    MigrationConfig.GatewaySection g = routed.gateway();
    assertEquals("127.0.0.1", g.host());
    assertEquals(8080, g.port());
    assertEquals(9001, g.upstreams().get("accounts").getPort());
    assertEquals("/up", g.healthPath());
    assertEquals(java.time.Duration.ofSeconds(2), g.healthInterval());
    io.cutover.engine.route.Route route = g.routes().get(0);
    assertEquals(250, route.weightBps());
    assertEquals(Set.of("GET"), route.methods());
    assertFalse(route.failover());
    assertEquals(2, route.rules().size());
    assertEquals("monolith", route.rules().get(1).variant());
    assertEquals(null, loadValid().gateway());
  }

  @Test
  void shouldReportEveryDatabaseProblemBeforeWritingAnything() throws Exception {
    Files.writeString(dir.resolve("secret.txt"), "s3cret");
    String yaml = VALID.replace("    filter: {name: [ada, grace], id: 7}\n", "").replace(
        "    columns: {id: user_id, name: display_name}",
        "    columns: {id: user_id, name: display_name, email: mail, wake: wake, nope: x}\n"
            + "  - source: audit\n    service: accounts\n"
            + "  - source: ghosts\n    service: accounts\n"
            + "  - source: users\n    service: accounts\n    target: accounts\n    columns: {name: display_name}\n"
            + "    filter: {colour: red}\n"
            + "api:\n  accounts: {port: 0, tables: [accounts, phantoms]}\n"
            + "kafka: {bootstrap: '127.0.0.1:1', properties: {default.api.timeout.ms: 1500, request.timeout.ms: 1000}}");
    MigrationConfig config = MigrationConfig.load(write(yaml), Map.of("MONO_PASSWORD", "")::get);
    List<String> problems = ConfigChecker.check(config).stream().map(ConfigException::getMessage).toList();
    String all = String.join("\n", problems);
    assertTrue(all.contains("tables[0].columns.email: table accounts of service accounts has no column mail"), all);
    assertTrue(all.contains("tables[0].columns.wake: column users.wake has type TIME, which Cutover cannot map"),
        all);
    assertTrue(all.contains("tables[0].columns.nope: table users of the monolith has no column nope"), all);
    assertTrue(all.contains("tables[1].source: table audit has no primary key"), all);
    assertTrue(all.contains("tables[2].source: table ghosts does not exist"), all);
    assertTrue(all.contains("tables[2].target: table ghosts does not exist"), all);
    assertTrue(all.contains("tables[3].columns: the mapping leaves out primary-key column id of users"), all);
    assertTrue(all.contains("tables[3].filter.colour: table users of the monolith has no column colour"), all);
    assertTrue(all.contains("api.accounts.tables[1]: table phantoms does not exist"), all);
    assertTrue(!all.contains("api.accounts.tables[0]"), all);
    assertTrue(all.contains("kafka.bootstrap: Kafka at 127.0.0.1:1 does not answer"), all);
    ConfigException first = assertThrows(ConfigException.class, () -> ConfigChecker.verify(config));
    assertTrue(first.getMessage().contains("problems in all:"), first.getMessage());
    try (Connection c = DriverManager.getConnection(monolithUrl, "sa", ""); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT COUNT(*) FROM information_schema.tables WHERE table_name LIKE "
             + "'CUTOVER%'")) {
      rs.next();
      assertEquals(0, rs.getInt(1), "checking wrote nothing");
    }
  }

  @Test
  void shouldReportAnUnreachableDatabase() throws Exception {
    Files.writeString(dir.resolve("secret.txt"), "s3cret");
    MigrationConfig config = MigrationConfig.load(write(VALID.replace("url: @SERVICE_URL@",
        "url: jdbc:postgresql://127.0.0.1:1/payments")), Map.of("MONO_PASSWORD", "")::get);
    List<ConfigException> problems = ConfigChecker.check(config);
    assertEquals("sides.services.accounts.url", problems.get(0).key());
    assertTrue(problems.get(0).getMessage().contains("cannot connect to jdbc:postgresql://127.0.0.1:1/payments"),
        problems.get(0).getMessage());
    assertEquals(CaptureMethod.LOGICAL, config.services().get("accounts").capture(),
        "PostgreSQL sides default to logical decoding");
  }
}
