package io.cutover.engine.config;

import io.cutover.engine.db.Dialect;
import io.cutover.engine.event.Side;
import io.cutover.engine.sync.ConflictPolicy;
import io.cutover.engine.sync.Rule;
import io.cutover.journal.SyncPolicy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * A migration's configuration, loaded from YAML and validated without touching any database.
 *
 * <pre>
 * journal:
 *   directory: ./cutover-journal        # relative to the configuration file
 *   sync: batch                          # none | batch | every_record
 *   threads: single                      # single (every stage on one thread) | per_stage
 * sides:
 *   monolith:
 *     url: jdbc:postgresql://127.0.0.1:5432/shop
 *     user: cutover
 *     password: ${env:SHOP_PASSWORD}     # or password_file: /run/secrets/shop; never inline
 *     capture: logical                   # logical (PostgreSQL) | trigger (H2, any JDBC database)
 *     slot: cutover_monolith             # optional (logical): replication slot; unique per PostgreSQL cluster
 *   services:
 *     payments:
 *       url: jdbc:postgresql://127.0.0.1:5432/payments
 *       user: cutover
 *       password_file: /run/secrets/payments
 * tables:
 *   - source: payment                    # the monolith's table
 *     service: payments
 *     target: payments                   # optional, default: the source's name
 *     columns: {id: payment_id, amount: amount}   # optional: which columns go over, renamed
 *     filter: {region: [eu, uk]}         # optional: which rows go over (a horizontal split)
 *     direction: both                    # both (default) | to_service
 *     conflicts:                         # optional; default last_writer_wins for everything
 *       rule: last_writer_wins           # the row's rule: last_writer_wins | monolith_wins | service_wins
 *                                        #   | manual | custom:NAME
 *       columns: {amount: monolith_wins, retries: counter}   # per column, also max | min | counter
 * state:
 *   directory: ./cutover-state           # sync's state store and the audit log (relative to this file)
 * validation:                            # optional: continuous validation of every table pair
 *   interval: 60s                        # between rounds (ms, s, m, h); off: only on demand
 *   consistency: eventual                # eventual (hold back rows in flight) | strict
 *   tolerance: 30s                       # eventual: how long a divergence must persist to be reported
 *   repair: none                         # none | monolith | service | newest: repair reported ones
 *   depth: 14                            # Merkle tree depth (2^depth leaves)
 *   full_scan: 1h                        # optional: incremental rounds (changed rows only) between full scans
 * backfill:                              # optional: copy the tables' existing rows online (DBLog watermarks),
 *   chunk: 1000                          #   resumable; done tables are skipped on the next start
 * api:                                   # optional: serve a side's generated REST API (OpenAPI 3.1)
 *   payments: {port: 3001, tables: [payments], versions: api-versions/payments}   # host 127.0.0.1
 * gateway:                               # optional: the HTTP gateway that moves traffic
 *   port: 8080                           # host: 127.0.0.1 by default
 *   upstreams: {monolith: 127.0.0.1:9000, payments: 127.0.0.1:9001}
 *   health: {path: /health, interval: 5s}  # optional active health checks
 *   routes:
 *     - {name: payments, prefix: /api/payments, service: payments, weight: 0, sticky: header:x-user-id,
 *        methods: [GET, POST], failover: true, rules: [{header: x-canary, value: "1", to: service, variant: canary}]}
 * kafka:                                 # optional: changes travel through Kafka (scale-out)
 *   bootstrap: 10.0.0.5:9092,10.0.0.6:9092
 *   topics: cutover.shop                 # prefix: <prefix>.<side>.<table>, state: <prefix>.state.<service>
 *   group: cutover-shop                  # the consumer group the engine instances share
 *   partitions: 6                        # of the change topics Cutover creates (existing ones are kept)
 *   role: all                            # all | capture (databases -> Kafka) | apply (Kafka -> databases)
 *   properties: {security.protocol: SSL} # optional: any Kafka client property, for every client
 * </pre>
 *
 * @param file the file it was loaded from.
 * @param journalDirectory the journal's directory.
 * @param sync the journal's sync policy.
 * @param monolith the monolith.
 * @param services the services by name, in file order.
 * @param tables the mapped tables, in file order.
 * @param stateDirectory where sync keeps its state store.
 * @param validation how tables are validated.
 * @param gateway the HTTP gateway, or null for none.
 * @param backfill the online backfill, or null for none.
 * @param apis the generated APIs to serve, by side ({@code monolith} or a service); empty for none.
 * @param kafka the Kafka transport, or null when changes go straight from capture to apply.
 * @param stageThreads how the pipeline's stages share threads ({@code journal.threads}).
 */
public record MigrationConfig(Path file, Path journalDirectory, SyncPolicy sync, SideConfig monolith,
    Map<String, SideConfig> services, List<TableConfig> tables, Path stateDirectory, ValidationConfig validation,
    GatewaySection gateway, BackfillSection backfill, Map<String, ApiSection> apis, KafkaSection kafka,
    io.cutover.engine.pipeline.StageThreads stageThreads) {

  /** What an engine instance does with Kafka. */
  public enum KafkaRole {
    /** Capture and apply in one process, through Kafka. */
    ALL,
    /** Capture the databases and publish to Kafka (one such instance per migration: replication slots and change
     *  tables have one reader). */
    CAPTURE,
    /** Consume from Kafka and apply (as many instances as there are services to spread). */
    APPLY
  }

  /**
   * The Kafka transport.
   *
   * @param bootstrap Kafka's bootstrap servers.
   * @param topics the topics' prefix.
   * @param group the consumer group.
   * @param partitions the partitions of change topics Cutover creates.
   * @param role what this instance does.
   * @param properties extra Kafka client properties.
   */
  public record KafkaSection(String bootstrap, String topics, String group, int partitions, KafkaRole role,
      Map<String, String> properties) {}

  /**
   * A side's generated REST API, served while the migration runs.
   *
   * @param host the address to bind.
   * @param port the port (0: any free one).
   * @param tables the tables to expose; empty for all.
   * @param versions where published API versions are kept, or null to keep them in memory.
   */
  public record ApiSection(String host, int port, List<String> tables, Path versions) {}

  /**
   * The online backfill {@code run} performs of every mapped monolith table not copied yet.
   *
   * @param chunk rows per chunk.
   */
  public record BackfillSection(int chunk) {}

  /**
   * The HTTP gateway.
   *
   * @param host the address to bind.
   * @param port the port.
   * @param upstreams upstream name ({@code monolith} or a service) to its address.
   * @param healthPath the active health check's path, or empty.
   * @param healthInterval how often it runs.
   * @param routes the routes.
   */
  public record GatewaySection(String host, int port, Map<String, java.net.InetSocketAddress> upstreams,
      String healthPath, java.time.Duration healthInterval, List<io.cutover.engine.route.Route> routes) {}

  /**
   * Continuous validation.
   *
   * @param interval time between rounds; null when validation runs only on demand.
   * @param strict true to report every divergence at once; false to hold back rows in flight.
   * @param tolerance how long a divergence must persist before it is reported (eventual level).
   * @param repair who wins automatic repairs: {@code monolith}, {@code service}, {@code newest}; empty for none.
   * @param depth the Merkle trees' depth.
   * @param fullScan the longest time between full scans, rounds in between reading only changed rows again; null
   *     for a full scan every round.
   */
  public record ValidationConfig(java.time.Duration interval, boolean strict, java.time.Duration tolerance,
      String repair, int depth, java.time.Duration fullScan) {
    /** Validation on demand only, eventual, 30 s tolerance, no repair, depth 14, full scans. */
    public static final ValidationConfig ON_DEMAND = new ValidationConfig(null, false, java.time.Duration
        .ofSeconds(30), "", 14, null);
  }

  /** How a side's changes are captured. */
  public enum CaptureMethod {
    /** PostgreSQL logical decoding (pgoutput). */
    LOGICAL,
    /** Change table and triggers. */
    TRIGGER
  }

  /**
   * One database.
   *
   * @param side which side it is.
   * @param url its JDBC URL.
   * @param user the user, or empty.
   * @param password the resolved password, or empty; never printed.
   * @param capture how its changes are captured.
   * @param slot the replication slot (logical capture), or empty for the default {@code cutover_<side>}.
   */
  public record SideConfig(Side side, String url, String user, String password, CaptureMethod capture,
      String slot) {
    @Override
    public String toString() {
      return side + " " + url + " user=" + user + " password=" + (password.isEmpty() ? "" : "***") + " capture="
          + capture + (slot.isEmpty() ? "" : " slot=" + slot);
    }
  }

  /**
   * One mapped table.
   *
   * @param source the monolith's table.
   * @param service the service it moves to.
   * @param target the service's table.
   * @param columns source column to target column; empty means every column under its own name.
   * @param filter source column to the values a row must hold; empty means every row.
   * @param bidirectional whether the service's changes go back to the monolith.
   * @param conflicts how conflicts are decided.
   */
  public record TableConfig(String source, String service, String target, Map<String, String> columns,
      Map<String, java.util.Set<String>> filter, boolean bidirectional, ConflictPolicy conflicts) {}

  /** A password in a JDBC URL: a {@code password=} parameter (PostgreSQL, H2) or {@code user:secret@host}. */
  private static final Pattern PASSWORD_IN_URL = Pattern.compile("(?i)([?&;]password\\s*=)|(//[^/?#@]*:[^/?#@]*@)");

  private static final Pattern ENV = Pattern.compile("\\$\\{env:([A-Za-z_][A-Za-z0-9_]*)}");

  /**
   * Loads and validates a configuration file.
   *
   * @param file the YAML file.
   * @return the configuration.
   * @throws ConfigException naming the file, the key and the reason.
   */
  public static MigrationConfig load(Path file) {
    return load(file, System::getenv);
  }

  /**
   * Loads and validates a configuration file with a given environment.
   *
   * @param file the YAML file.
   * @param environment resolves {@code ${env:NAME}}.
   * @return the configuration.
   * @throws ConfigException naming the file, the key and the reason.
   */
  public static MigrationConfig load(Path file, Function<String, String> environment) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new ConfigException(file, "(file)", "cannot be read: " + e.getMessage());
    }
    Object document;
    try {
      LoadSettings settings = LoadSettings.builder().setLabel(file.toString()).setAllowDuplicateKeys(false)
          .setMaxAliasesForCollections(20).setCodePointLimit(4 * 1024 * 1024).build();
      checkDepth(file, settings, text); // before composing, which recurses once per level (a stack overflow)
      document = new Load(settings).loadFromString(text);
    } catch (YamlEngineException e) {
      throw new ConfigException(file, "(syntax)", e.getMessage().replace('\n', ' '));
    }
    return new Reader(file, environment).read(document);
  }

  /** How deep a configuration may nest collections (a real one needs about six levels). */
  static final int MAX_DEPTH = 64;

  /** Walks the file's events (no recursion) and refuses collections nested deeper than {@link #MAX_DEPTH}. */
  private static void checkDepth(Path file, LoadSettings settings, String text) {
    int depth = 0;
    for (org.snakeyaml.engine.v2.events.Event event : new org.snakeyaml.engine.v2.api.lowlevel.Parse(settings)
        .parseString(text)) {
      switch (event.getEventId()) {
        case SequenceStart, MappingStart -> {
          if (++depth > MAX_DEPTH) {
            throw new ConfigException(file, "(syntax)", "collections nested deeper than " + MAX_DEPTH + " levels"
                + event.getStartMark().map(m -> " at line " + (m.getLine() + 1)).orElse(""));
          }
        }
        case SequenceEnd, MappingEnd -> depth--;
        default -> { }
      }
    }
  }

  /** Walks the YAML tree, naming the key path in every error. */
  private static final class Reader {
    private final Path file;
    private final Function<String, String> environment;

    Reader(Path file, Function<String, String> environment) {
      this.file = file;
      this.environment = environment;
    }

    private ConfigException error(String key, String reason) {
      return new ConfigException(file, key, reason);
    }

    MigrationConfig read(Object document) {
      Map<String, Object> root = map(document, "(document)", Set.of("journal", "sides", "tables", "state",
          "validation", "gateway", "backfill", "api", "kafka"));
      Map<String, Object> journal = root.containsKey("journal") ? map(root.get("journal"), "journal",
          Set.of("directory", "sync", "threads")) : Map.of();
      Path base = file.toAbsolutePath().getParent();
      Path journalDirectory = base.resolve(string(journal, "journal", "directory", "cutover-journal"));
      SyncPolicy sync;
      String syncText = string(journal, "journal", "sync", "batch");
      try {
        sync = SyncPolicy.valueOf(syncText.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw error("journal.sync", "'" + syncText + "' is not one of none, batch, every_record");
      }
      String threadsText = string(journal, "journal", "threads", "single");
      io.cutover.engine.pipeline.StageThreads stageThreads = switch (threadsText) {
        case "single" -> io.cutover.engine.pipeline.StageThreads.SINGLE;
        case "per_stage" -> io.cutover.engine.pipeline.StageThreads.PER_STAGE;
        default -> throw error("journal.threads", "'" + threadsText + "' is not one of single, per_stage");
      };
      Map<String, Object> sides = map(required(root, "(document)", "sides"), "sides", Set.of("monolith", "services"));
      SideConfig monolith = side(required(sides, "sides", "monolith"), "sides.monolith", Side.MONOLITH);
      Map<String, Object> serviceMap = map(required(sides, "sides", "services"), "sides.services", null);
      if (serviceMap.isEmpty()) {
        throw error("sides.services", "names no service");
      }
      Map<String, SideConfig> services = new LinkedHashMap<>();
      for (Map.Entry<String, Object> entry : serviceMap.entrySet()) {
        String key = "sides.services." + entry.getKey();
        Side side;
        try {
          side = Side.service(entry.getKey());
        } catch (IllegalArgumentException e) {
          throw error(key, e.getMessage());
        }
        services.put(entry.getKey(), side(entry.getValue(), key, side));
      }
      Object tablesNode = required(root, "(document)", "tables");
      if (!(tablesNode instanceof List<?> list) || list.isEmpty()) {
        throw error("tables", "must be a non-empty list of table mappings");
      }
      List<TableConfig> tables = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        tables.add(table(list.get(i), "tables[" + i + "]", services.keySet()));
      }
      Map<String, Object> state = root.containsKey("state") ? map(root.get("state"), "state", Set.of("directory"))
          : Map.of();
      Path stateDirectory = base.resolve(string(state, "state", "directory", "cutover-state"));
      ValidationConfig validation = root.containsKey("validation") ? validation(root.get("validation"))
          : ValidationConfig.ON_DEMAND;
      if (validation.repair().equals("service") && tables.stream().anyMatch(t -> !t.bidirectional())) {
        throw error("validation.repair", "service cannot win repairs of tables synced one way (direction: "
            + "to_service); use monolith or newest");
      }
      GatewaySection gateway = root.containsKey("gateway") ? gateway(root.get("gateway")) : null;
      BackfillSection backfill = null;
      if (root.containsKey("backfill")) {
        Map<String, Object> b = root.get("backfill") == null ? Map.of() : map(root.get("backfill"), "backfill",
            Set.of("chunk"));
        String chunk = string(b, "backfill", "chunk", "1000");
        try {
          int rows = Integer.parseInt(chunk);
          if (rows < 1 || rows > 1_000_000) {
            throw error("backfill.chunk", "must be 1 to 1000000 rows, not " + rows);
          }
          backfill = new BackfillSection(rows);
        } catch (NumberFormatException e) {
          throw error("backfill.chunk", "'" + chunk + "' is not a number of rows");
        }
      }
      Map<String, ApiSection> apis = new LinkedHashMap<>();
      if (root.containsKey("api")) {
        for (Map.Entry<String, Object> entry : map(root.get("api"), "api", null).entrySet()) {
          String key = "api." + entry.getKey();
          if (!entry.getKey().equals("monolith") && !services.containsKey(entry.getKey())) {
            throw error(key, "'" + entry.getKey() + "' is not monolith or one of the services " + services.keySet());
          }
          Map<String, Object> a = map(entry.getValue(), key, Set.of("host", "port", "tables", "versions"));
          int port = number(string(a, key, "port", null), key + ".port", 0, 65_535);
          List<String> exposed = new ArrayList<>();
          Object tablesList = a.get("tables");
          if (tablesList != null) {
            if (!(tablesList instanceof List<?> names)) {
              throw error(key + ".tables", "must be a list of table names");
            }
            names.forEach(n -> exposed.add(String.valueOf(n)));
          }
          String versionsDir = string(a, key, "versions", null);
          apis.put(entry.getKey(), new ApiSection(string(a, key, "host", "127.0.0.1"), port, List.copyOf(exposed),
              versionsDir == null ? null : base.resolve(versionsDir)));
        }
      }
      KafkaSection kafka = root.containsKey("kafka") ? kafka(root.get("kafka")) : null;
      return new MigrationConfig(file, journalDirectory, sync, monolith, Collections.unmodifiableMap(services),
          List.copyOf(tables), stateDirectory, validation, gateway, backfill, Collections.unmodifiableMap(apis),
          kafka, stageThreads);
    }

    private KafkaSection kafka(Object node) {
      Map<String, Object> k = map(node, "kafka", Set.of("bootstrap", "topics", "group", "partitions", "role",
          "properties"));
      String bootstrap = string(k, "kafka", "bootstrap", null);
      if (bootstrap == null || bootstrap.isBlank()) {
        throw error("kafka.bootstrap", "is required (host:port of at least one broker)");
      }
      for (String server : bootstrap.split(",")) {
        if (!server.trim().matches("[^:\\s]+:\\d{1,5}")) {
          throw error("kafka.bootstrap", "'" + server.trim() + "' is not host:port");
        }
      }
      String topics = string(k, "kafka", "topics", "cutover");
      String group = string(k, "kafka", "group", "cutover");
      for (Map.Entry<String, String> name : Map.of("kafka.topics", topics, "kafka.group", group).entrySet()) {
        if (!name.getValue().matches("[A-Za-z0-9._-]{1,150}")) {
          throw error(name.getKey(), "'" + name.getValue() + "' must be 1 to 150 of letters, digits, '.', '_', '-'");
        }
      }
      int partitions = number(string(k, "kafka", "partitions", "6"), "kafka.partitions", 1, 10_000);
      String roleText = string(k, "kafka", "role", "all");
      KafkaRole role;
      try {
        role = KafkaRole.valueOf(roleText.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw error("kafka.role", "'" + roleText + "' is not one of all, capture, apply");
      }
      Map<String, String> properties = new LinkedHashMap<>();
      if (k.containsKey("properties")) {
        for (Map.Entry<String, Object> p : map(k.get("properties"), "kafka.properties", null).entrySet()) {
          properties.put(p.getKey(), string(Map.of(p.getKey(), p.getValue() == null ? "" : p.getValue()),
              "kafka.properties", p.getKey(), ""));
        }
      }
      return new KafkaSection(bootstrap.replace(" ", ""), topics, group, partitions, role,
          Collections.unmodifiableMap(properties));
    }

    private GatewaySection gateway(Object node) {
      Map<String, Object> map = map(node, "gateway", Set.of("host", "port", "upstreams", "health", "routes"));
      String host = string(map, "gateway", "host", "127.0.0.1");
      int port = number(string(map, "gateway", "port", null), "gateway.port", 0, 65_535);
      Map<String, java.net.InetSocketAddress> upstreams = new LinkedHashMap<>();
      for (Map.Entry<String, Object> u : map(required(map, "gateway", "upstreams"), "gateway.upstreams", null)
          .entrySet()) {
        String key = "gateway.upstreams." + u.getKey();
        String address = String.valueOf(u.getValue());
        int colon = address.lastIndexOf(':');
        if (colon < 1) {
          throw error(key, "'" + address + "' is not HOST:PORT");
        }
        upstreams.put(u.getKey(), java.net.InetSocketAddress.createUnresolved(address.substring(0, colon),
            number(address.substring(colon + 1), key, 1, 65_535)));
      }
      if (!upstreams.containsKey("monolith")) {
        throw error("gateway.upstreams", "must name the monolith");
      }
      String healthPath = "";
      java.time.Duration interval = java.time.Duration.ofSeconds(5);
      if (map.containsKey("health")) {
        Map<String, Object> health = map(map.get("health"), "gateway.health", Set.of("path", "interval"));
        healthPath = string(health, "gateway.health", "path", "/health");
        if (!healthPath.startsWith("/")) {
          throw error("gateway.health.path", "must start with /");
        }
        interval = duration(string(health, "gateway.health", "interval", "5s"), "gateway.health.interval");
      }
      Object routesNode = required(map, "gateway", "routes");
      if (!(routesNode instanceof List<?> list)) {
        throw error("gateway.routes", "must be a list of routes");
      }
      List<io.cutover.engine.route.Route> routes = new ArrayList<>();
      for (int i = 0; i < list.size(); i++) {
        String key = "gateway.routes[" + i + "]";
        Map<String, Object> r = map(list.get(i), key, Set.of("name", "prefix", "service", "weight", "sticky",
            "methods", "failover", "rules"));
        String service = string(r, key, "service", null);
        if (service == null || !upstreams.containsKey(service)) {
          throw error(key + ".service", "'" + service + "' is not one of the upstreams " + upstreams.keySet());
        }
        List<String> methods = new ArrayList<>();
        if (r.get("methods") instanceof List<?> m) {
          m.forEach(x -> methods.add(String.valueOf(x)));
        }
        List<io.cutover.engine.route.Rule> rules = new ArrayList<>();
        if (r.get("rules") instanceof List<?> rl) {
          for (int j = 0; j < rl.size(); j++) {
            String rk = key + ".rules[" + j + "]";
            Map<String, Object> rule = map(rl.get(j), rk, Set.of("header", "cookie", "value", "to", "variant"));
            String to = string(rule, rk, "to", "service");
            if (!to.equals("service") && !to.equals("monolith")) {
              throw error(rk + ".to", "'" + to + "' is not one of service, monolith");
            }
            io.cutover.engine.route.Target target = to.equals("service") ? io.cutover.engine.route.Target.SERVICE
                : io.cutover.engine.route.Target.MONOLITH;
            String value = string(rule, rk, "value", null);
            String variant = string(rule, rk, "variant", to);
            if (value == null || (rule.containsKey("header") == rule.containsKey("cookie"))) {
              throw error(rk, "needs a value and exactly one of header, cookie");
            }
            rules.add(rule.containsKey("header")
                ? io.cutover.engine.route.Rule.header(string(rule, rk, "header", ""), value, target, variant)
                : io.cutover.engine.route.Rule.cookie(string(rule, rk, "cookie", ""), value, target, variant));
          }
        }
        try {
          routes.add(new io.cutover.engine.route.Route(string(r, key, "name", ""), string(r, key, "prefix", ""),
              Set.copyOf(methods), service, number(string(r, key, "weight", "0"), key + ".weight", 0, 10_000),
              io.cutover.engine.route.KeySource.parse(string(r, key, "sticky", "none")), rules,
              !"false".equals(string(r, key, "failover", "true"))));
        } catch (IllegalArgumentException e) {
          throw error(key, e.getMessage());
        }
      }
      try {
        new io.cutover.engine.route.RoutingTable(1, routes);
      } catch (IllegalArgumentException e) {
        throw error("gateway.routes", e.getMessage());
      }
      return new GatewaySection(host, port, Collections.unmodifiableMap(upstreams), healthPath, interval,
          List.copyOf(routes));
    }

    private int number(String text, String key, int min, int max) {
      if (text == null) {
        throw error(key, "is required");
      }
      try {
        int n = Integer.parseInt(text.strip());
        if (n >= min && n <= max) {
          return n;
        }
      } catch (NumberFormatException e) {
        // named below
      }
      throw error(key, "'" + text + "' is not a whole number from " + min + " to " + max);
    }

    private ValidationConfig validation(Object node) {
      Map<String, Object> map = map(node, "validation", Set.of("interval", "consistency", "tolerance", "repair",
          "depth", "full_scan"));
      String intervalText = string(map, "validation", "interval", "off");
      java.time.Duration interval = intervalText.equals("off") ? null : duration(intervalText, "validation.interval");
      if (interval != null && interval.isZero()) {
        throw error("validation.interval", "must be more than 0 (or off)");
      }
      String consistency = string(map, "validation", "consistency", "eventual");
      if (!consistency.equals("eventual") && !consistency.equals("strict")) {
        throw error("validation.consistency", "'" + consistency + "' is not one of eventual, strict");
      }
      java.time.Duration tolerance = duration(string(map, "validation", "tolerance", "30s"), "validation.tolerance");
      String repair = string(map, "validation", "repair", "none");
      if (!Set.of("none", "monolith", "service", "newest").contains(repair)) {
        throw error("validation.repair", "'" + repair + "' is not one of none, monolith, service, newest");
      }
      String depthText = string(map, "validation", "depth", "14");
      int depth;
      try {
        depth = Integer.parseInt(depthText);
      } catch (NumberFormatException e) {
        depth = -1;
      }
      if (depth < 1 || depth > 24) {
        throw error("validation.depth", "'" + depthText + "' is not a whole number from 1 to 24");
      }
      java.time.Duration fullScan = map.containsKey("full_scan")
          ? duration(string(map, "validation", "full_scan", ""), "validation.full_scan") : null;
      if (fullScan != null && fullScan.isZero()) {
        throw error("validation.full_scan", "must be more than 0");
      }
      return new ValidationConfig(interval, consistency.equals("strict"), tolerance,
          repair.equals("none") ? "" : repair, depth, fullScan);
    }

    private java.time.Duration duration(String text, String key) {
      Matcher m = Pattern.compile("(\\d{1,9})(ms|s|m|h)").matcher(text.trim());
      if (!m.matches()) {
        throw error(key, "'" + text + "' is not a duration such as 500ms, 30s, 5m or 1h");
      }
      long n = Long.parseLong(m.group(1));
      return switch (m.group(2)) {
        case "ms" -> java.time.Duration.ofMillis(n);
        case "s" -> java.time.Duration.ofSeconds(n);
        case "m" -> java.time.Duration.ofMinutes(n);
        default -> java.time.Duration.ofHours(n);
      };
    }

    private SideConfig side(Object node, String key, Side side) {
      Map<String, Object> map = map(node, key, Set.of("url", "user", "password", "password_file", "capture", "slot"));
      String url = string(map, key, "url", null);
      if (url == null) {
        throw error(key + ".url", "is required");
      }
      if (PASSWORD_IN_URL.matcher(url).find()) {
        // not echoed: the URL is the secret's carrier; printed, logged or planned, it would spread the password
        throw error(key + ".url", "must not carry a password (it would be printed wherever the URL is): use "
            + "password: ${env:NAME} or password_file");
      }
      if (!url.startsWith("jdbc:postgresql:") && !url.startsWith("jdbc:h2:")) {
        throw error(key + ".url", "'" + url + "' is not a PostgreSQL or H2 JDBC URL");
      }
      String password = "";
      if (map.containsKey("password") && map.containsKey("password_file")) {
        throw error(key, "give password or password_file, not both");
      }
      if (map.containsKey("password")) {
        String raw = string(map, key, "password", "");
        Matcher m = ENV.matcher(raw);
        if (!m.matches()) {
          throw error(key + ".password", "must not be written inline: use ${env:NAME} or password_file");
        }
        password = environment.apply(m.group(1));
        if (password == null) {
          throw error(key + ".password", "environment variable " + m.group(1) + " is not set");
        }
      } else if (map.containsKey("password_file")) {
        Path secret = file.toAbsolutePath().getParent().resolve(string(map, key, "password_file", ""));
        try {
          password = Files.readString(secret, StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
          throw error(key + ".password_file", "cannot read " + secret + ": " + e.getMessage());
        }
      }
      String defaultCapture = url.startsWith("jdbc:postgresql:") ? "logical" : "trigger";
      String captureText = string(map, key, "capture", defaultCapture);
      CaptureMethod capture;
      try {
        capture = CaptureMethod.valueOf(captureText.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw error(key + ".capture", "'" + captureText + "' is not one of logical, trigger");
      }
      if (capture == CaptureMethod.LOGICAL && !url.startsWith("jdbc:postgresql:")) {
        throw error(key + ".capture", "logical capture needs PostgreSQL; use trigger for " + url);
      }
      String slot = string(map, key, "slot", "");
      if (!slot.isEmpty() && !slot.matches("[a-z0-9_]{1,63}")) {
        throw error(key + ".slot", "'" + slot + "' is not a replication slot name (a-z, 0-9, _; at most 63)");
      }
      if (!slot.isEmpty() && capture != CaptureMethod.LOGICAL) {
        throw error(key + ".slot", "a slot is for logical capture only");
      }
      return new SideConfig(side, url, string(map, key, "user", ""), password, capture, slot);
    }

    private TableConfig table(Object node, String key, Set<String> services) {
      Map<String, Object> map = map(node, key, Set.of("source", "service", "target", "columns", "filter",
          "direction", "conflicts"));
      String source = name(string(map, key, "source", null), key + ".source");
      String service = string(map, key, "service", null);
      if (service == null) {
        throw error(key + ".service", "is required");
      }
      if (!services.contains(service)) {
        throw error(key + ".service", "'" + service + "' is not one of the services " + services);
      }
      String target = name(string(map, key, "target", source), key + ".target");
      Map<String, String> columns = new LinkedHashMap<>();
      if (map.containsKey("columns")) {
        Map<String, Object> columnMap = map(map.get("columns"), key + ".columns", null);
        for (Map.Entry<String, Object> column : columnMap.entrySet()) {
          String columnKey = key + ".columns." + column.getKey();
          columns.put(name(column.getKey(), columnKey), name(String.valueOf(column.getValue()), columnKey));
        }
      }
      Map<String, java.util.Set<String>> filter = new LinkedHashMap<>();
      if (map.containsKey("filter")) {
        for (Map.Entry<String, Object> condition : map(map.get("filter"), key + ".filter", null).entrySet()) {
          String conditionKey = key + ".filter." + condition.getKey();
          Object values = condition.getValue();
          java.util.Set<String> accepted = new java.util.LinkedHashSet<>();
          if (values instanceof List<?> list) {
            list.forEach(v -> accepted.add(String.valueOf(v)));
          } else if (values != null && !(values instanceof Map)) {
            accepted.add(String.valueOf(values));
          }
          if (accepted.isEmpty()) {
            throw error(conditionKey, "must list at least one value");
          }
          filter.put(name(condition.getKey(), conditionKey), java.util.Collections.unmodifiableSet(accepted));
        }
      }
      String direction = string(map, key, "direction", "both");
      if (!direction.equals("both") && !direction.equals("to_service")) {
        throw error(key + ".direction", "'" + direction + "' is not one of both, to_service");
      }
      ConflictPolicy conflicts = ConflictPolicy.LAST_WRITER_WINS;
      if (map.containsKey("conflicts")) {
        Side serviceSide = Side.service(service);
        Map<String, Object> c = map(map.get("conflicts"), key + ".conflicts", Set.of("rule", "columns"));
        try {
          conflicts = ConflictPolicy.of(Rule.parse(string(c, key + ".conflicts", "rule", "last_writer_wins"),
              serviceSide));
        } catch (IllegalArgumentException e) {
          throw error(key + ".conflicts.rule", e.getMessage());
        }
        if (c.containsKey("columns")) {
          for (Map.Entry<String, Object> column : map(c.get("columns"), key + ".conflicts.columns", null).entrySet()) {
            String columnKey = key + ".conflicts.columns." + column.getKey();
            try {
              conflicts = conflicts.column(name(column.getKey(), columnKey), Rule.parse(String.valueOf(
                  column.getValue()), serviceSide));
            } catch (IllegalArgumentException e) {
              throw error(columnKey, e.getMessage());
            }
          }
        }
      }
      return new TableConfig(source.toLowerCase(Locale.ROOT), service, target.toLowerCase(Locale.ROOT),
          Collections.unmodifiableMap(columns), Collections.unmodifiableMap(filter), direction.equals("both"),
          conflicts);
    }

    private String name(String value, String key) {
      if (value == null) {
        throw error(key, "is required");
      }
      try {
        return Dialect.POSTGRESQL.name(value).toLowerCase(Locale.ROOT);
      } catch (IllegalArgumentException e) {
        throw error(key, e.getMessage());
      }
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(Object node, String key, Set<String> allowed) {
      if (!(node instanceof Map<?, ?> raw)) {
        throw error(key, "must be a mapping of keys to values");
      }
      Map<String, Object> map = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : raw.entrySet()) {
        String name = String.valueOf(entry.getKey());
        if (allowed != null && !allowed.contains(name)) {
          throw error(key.equals("(document)") ? name : key + "." + name, "unknown key (expected one of "
              + new java.util.TreeSet<>(allowed) + ")");
        }
        map.put(name, entry.getValue());
      }
      return map;
    }

    private Object required(Map<String, Object> map, String key, String name) {
      Object value = map.get(name);
      if (value == null) {
        throw error(key.equals("(document)") ? name : key + "." + name, "is required");
      }
      return value;
    }

    private String string(Map<String, Object> map, String key, String name, String defaultValue) {
      Object value = map.get(name);
      if (value == null) {
        return defaultValue;
      }
      if (value instanceof Map || value instanceof List) {
        throw error(key + "." + name, "must be a single value");
      }
      return String.valueOf(value);
    }
  }
}
