package io.cutover.admin.cli;

import com.google.protobuf.util.JsonFormat;
import io.cutover.engine.config.ConfigChecker;
import io.cutover.engine.demo.ShopDemo;
import io.cutover.engine.config.ConfigException;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.ChangeEventProtos;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.migration.Migration;
import io.cutover.engine.pipeline.PipelineStats;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.JournalException;
import io.cutover.journal.JournalReader;
import io.cutover.journal.SyncPolicy;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code cutover} command line. Exit codes: 0 success, 1 runtime failure, 2 usage or configuration error.
 */
@Command(name = "cutover", mixinStandardHelpOptions = true, version = "cutover 0.1.0",
    description = "Moves data from a monolith database to service databases with zero downtime and zero loss.",
    subcommands = {CutoverCli.Demo.class, CutoverCli.Check.class, CutoverCli.Run.class, CutoverCli.Replay.class,
        CutoverCli.Validate.class, CutoverCli.Analyze.class, CutoverCli.Apigen.class, CutoverCli.Admin.class,
        CutoverCli.Cleanup.class})
public final class CutoverCli implements Callable<Integer> {
  /** Exit code: success. */
  public static final int OK = 0;
  /** Exit code: runtime failure. */
  public static final int FAILURE = 1;
  /** Exit code: usage or configuration error. */
  public static final int USAGE = 2;
  /** Exit code of {@code validate}: discrepancies found (and not repaired). */
  public static final int DISCREPANCIES = 3;

  @Spec
  CommandLine.Model.CommandSpec spec;

  /**
   * Runs the command line and exits with its code.
   *
   * @param args the arguments.
   */
  public static void main(String[] args) {
    System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
  }

  /**
   * Runs the command line.
   *
   * @param args the arguments.
   * @param out where results go.
   * @param err where errors go.
   * @return the exit code.
   */
  public static int run(String[] args, PrintWriter out, PrintWriter err) {
    return commandLine(out, err).execute(args);
  }

  static CommandLine commandLine(PrintWriter out, PrintWriter err) {
    CommandLine commandLine = new CommandLine(new CutoverCli());
    commandLine.setOut(out);
    commandLine.setErr(err);
    commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
      if (e instanceof ConfigException) {
        err.println(e.getMessage());
        return USAGE;
      }
      err.println("cutover " + cmd.getCommandName() + " failed: " + e.getMessage());
      return FAILURE;
    });
    return commandLine;
  }

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return USAGE;
  }

  /** SIGTERM and Ctrl-C count the latch down, so a long-running verb drains and exits 0 on the first one. */
  static void onStopSignals(CountDownLatch stop) {
    for (String name : new String[] {"TERM", "INT"}) {
      try {
        sun.misc.Signal.handle(new sun.misc.Signal(name), signal -> stop.countDown());
      } catch (IllegalArgumentException unsupported) {
        // no such signal on this platform: a shutdown hook still runs
      }
    }
  }

  /** {@code cutover demo [--seconds N]}. */
  @Command(name = "demo", mixinStandardHelpOptions = true,
      description = "Runs the main job on the embedded default (H2): a shop whose products and customers move to "
          + "two services while both sides keep writing; synced both ways, conflicts resolved, then validated. "
          + "Exit 0 only if every check held.")
  static final class Demo implements Callable<Integer> {
    @Option(names = "--seconds", defaultValue = "10", description = "how long the writers run (default ${DEFAULT-VALUE})")
    int seconds;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (seconds < 1 || seconds > 3600) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--seconds must be between 1 and 3600");
      }
      ShopDemo.Result result = new ShopDemo(spec.commandLine().getOut(), Duration.ofSeconds(seconds)).run();
      return result.ok() ? OK : FAILURE;
    }
  }

  /** {@code cutover cleanup --config FILE [--dry-run]}. */
  @Command(name = "cleanup", mixinStandardHelpOptions = true,
      description = "Removes everything the migration created in its databases (replication slots, publications, "
          + "replication origins, capture triggers, change tables, position tables) once it is finished or "
          + "abandoned. Stop the engine first.")
  static final class Cleanup implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "the migration's YAML configuration")
    Path config;

    @Option(names = "--dry-run", description = "list what would be removed, remove nothing")
    boolean dryRun;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      java.util.List<String> found = io.cutover.engine.migration.Cleanup.run(MigrationConfig.load(config), dryRun);
      for (String object : found) {
        out.println((dryRun ? "would remove " : "removed ") + object);
      }
      out.println(found.isEmpty() ? "cutover: nothing of this migration left in its databases"
          : "cutover: " + found.size() + " object(s) " + (dryRun ? "to remove (dry run)" : "removed")
              + "; the journal and state directories are files and stay");
      return OK;
    }
  }

  /** {@code cutover validate --config FILE [--service S] [--table T] [--repair WHO [--dry-run]] [--limit N]}. */
  @Command(name = "validate", mixinStandardHelpOptions = true,
      description = "Compares the monolith and the services table by table (Merkle trees over every row, read "
          + "with cursors in constant memory) and lists every discrepancy: missing on either side, or which columns "
          + "differ with both values. With --repair, repairs them through the journal (starts the engine: stop "
          + "`cutover run` first) or, with --dry-run, lists the repairs. Runs are recorded in the audit log. "
          + "Exit 0: consistent (or repaired); 3: discrepancies found.")
  static final class Validate implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "the migration's YAML configuration")
    Path config;

    @Option(names = "--service", description = "only this service's tables")
    String service;

    @Option(names = "--table", description = "only this monolith table")
    String table;

    @Option(names = "--repair", description = "repair with this side winning: monolith, service or newest")
    String repair;

    @Option(names = "--dry-run", description = "with --repair: list the repairs, change nothing")
    boolean dryRun;

    @Option(names = "--limit", defaultValue = "100", description = "discrepancies listed per table (all are counted;"
        + " default ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--json", description = "one JSON object per table pair (the admin API's TableReport), then "
        + "nothing else")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      MigrationConfig loaded = MigrationConfig.load(config);
      if (limit < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be 0 or more");
      }
      if (dryRun && repair == null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--dry-run goes with --repair");
      }
      io.cutover.engine.validate.Authority authority;
      try {
        authority = repair == null ? null : io.cutover.engine.validate.Authority.parse(repair);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--repair: " + e.getMessage());
      }
      java.util.List<MigrationConfig.TableConfig> tables = loaded.tables().stream()
          .filter(t -> service == null || t.service().equals(service))
          .filter(t -> table == null || t.source().equalsIgnoreCase(table)).toList();
      if (tables.isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "no mapped table matches"
            + (service == null ? "" : " --service " + service) + (table == null ? "" : " --table " + table));
      }
      ConfigChecker.verify(loaded);
      java.util.Map<String, java.util.List<io.cutover.engine.validate.Discrepancy>> found =
          new java.util.LinkedHashMap<>();
      long total = 0;
      int tablesDiffering = 0;
      java.util.Map<io.cutover.engine.validate.Discrepancy.Kind, Long> byKind = new java.util.EnumMap<>(
          io.cutover.engine.validate.Discrepancy.Kind.class);
      try (io.cutover.engine.validate.AuditLog audit = authority != null && !dryRun ? null
          : io.cutover.engine.validate.AuditLog.open(loaded.stateDirectory().resolve("audit"))) {
        for (MigrationConfig.TableConfig t : tables) {
          MigrationConfig.SideConfig side = loaded.services().get(t.service());
          try (io.cutover.engine.validate.Validator validator = io.cutover.engine.validate.Validator.builder(
              t.service(), io.cutover.engine.db.DataSources.of(loaded.monolith().url(), loaded.monolith().user(),
                  loaded.monolith().password()), io.cutover.engine.db.DataSources.of(side.url(), side.user(),
                  side.password())).depth(loaded.validation().depth()).reportLimit(Math.max(limit, 10_000))
              .progress(ProgressPrinter.forConsole(spec.commandLine().getErr())).build()) {
            io.cutover.engine.validate.ValidationReport report = validator.validate(Migration.mapping(t));
            if (json) {
              out.println(JsonFormat.printer().omittingInsignificantWhitespace().print(
                  io.cutover.admin.Reports.tableReport(t.service(), report, limit)));
            } else {
              out.println(report.summary());
              int listed = 0;
              for (io.cutover.engine.validate.Discrepancy d : report.discrepancies()) {
                if (listed++ < limit) {
                  out.println("  " + d.describe());
                }
              }
              if (report.discrepancyCount() > Math.min(limit, report.discrepancies().size())) {
                out.printf("  ... %d more (the list stops at --limit %d)%n", report.discrepancyCount()
                    - Math.min(limit, report.discrepancies().size()), limit);
              }
            }
            total += report.discrepancyCount();
            if (!report.consistent()) {
              tablesDiffering++;
              report.countsByKind().forEach((kind, count) -> byKind.merge(kind, count, Long::sum));
            }
            found.computeIfAbsent(t.service(), k -> new java.util.ArrayList<>()).addAll(report.discrepancies());
            if (audit != null) {
              audit.append(new io.cutover.engine.validate.AuditEntry(report.startedMicros(),
                  io.cutover.engine.validate.AuditEntry.Kind.VALIDATION, t.service(), t.source(), "cutover validate",
                  report.summary()));
            }
          }
        }
      }
      if (total == 0) {
        if (!json) {
          out.println("cutover: consistent");
        }
        return OK;
      }
      if (authority == null) {
        if (!json) {
          out.printf("cutover: %d discrepancies in %d of %d tables, %s%n", total, tablesDiffering, tables.size(),
              io.cutover.engine.validate.ValidationReport.kinds(byKind));
        }
        return DISCREPANCIES;
      }
      if (authority == io.cutover.engine.validate.Authority.NEWEST) {
        out.println("cutover: a one-shot run has no change history, so newest keeps the monolith's version; the "
            + "engine's continuous validation (validation.repair: newest) decides by each side's last change");
      }
      if (dryRun) {
        for (java.util.Map.Entry<String, java.util.List<io.cutover.engine.validate.Discrepancy>> e
            : found.entrySet()) {
          for (io.cutover.engine.validate.Repair r : planner(loaded, e.getKey()).plan(e.getValue(), authority)) {
            out.println("would repair " + r.describe());
          }
        }
        out.printf("cutover: %d discrepancies; repairs listed (dry run), nothing changed%n", total);
        return DISCREPANCIES;
      }
      int repaired = 0;
      try (Migration migration = Migration.start(loaded)) {
        for (java.util.Map.Entry<String, java.util.List<io.cutover.engine.validate.Discrepancy>> e
            : found.entrySet()) {
          for (io.cutover.engine.validate.Repair r : migration.repairers().get(e.getKey()).repair(e.getValue(),
              authority, "cutover validate --repair " + repair)) {
            out.println("repaired " + r.describe());
            repaired++;
          }
        }
        migration.pipeline().awaitIdle(Duration.ofMinutes(5));
      }
      out.printf("cutover: %d discrepancies, %d repaired through the journal%n", total, repaired);
      return OK;
    }

    /** A repairer for planning only (it never publishes). */
    private static io.cutover.engine.validate.Repairer planner(MigrationConfig config, String service) {
      io.cutover.engine.validate.Repairer planner = new io.cutover.engine.validate.Repairer(
          null, config.services().get(service).side(), null, null);
      for (MigrationConfig.TableConfig t : config.tables()) {
        if (t.service().equals(service)) {
          planner.table(Migration.mapping(t), t.bidirectional());
        }
      }
      return planner;
    }
  }

  /** {@code cutover analyze --jdbc URL [--user U] [--access-log FILE] [--pg-stat-statements] [hints] --out DIR}. */
  @Command(name = "analyze", mixinStandardHelpOptions = true,
      description = "Proposes services from the monolith's schema (tables, keys, indexes over JDBC) and, optionally, "
          + "how the application uses it; writes plan.yaml (a configuration `run` accepts), report.md, graph.dot "
          + "and analysis.json to --out. Read-only.")
  static final class Analyze implements Callable<Integer> {
    @Option(names = {"--jdbc", "--url"}, required = true, description = "the monolith's JDBC URL (PostgreSQL or H2)")
    String url;

    @Option(names = "--user", defaultValue = "", description = "the database user")
    String user;

    @Option(names = "--access-log", description = "transactions in JSON lines: "
        + "{\"tx\": \"place_order\", \"reads\": [...], \"writes\": [...], \"count\": 1200}")
    Path accessLog;

    @Option(names = "--pg-stat-statements", description = "also read PostgreSQL's pg_stat_statements (statements, "
        + "not transactions)")
    boolean pgStatStatements;

    @Option(names = "--together", description = "tables that must share a service, comma-separated (repeatable)")
    java.util.List<String> together = new java.util.ArrayList<>();

    @Option(names = "--apart", description = "two tables that must not share a service, comma-separated "
        + "(repeatable)")
    java.util.List<String> apart = new java.util.ArrayList<>();

    @Option(names = "--services", defaultValue = "0", description = "how many services (default: as the data says)")
    int services;

    @Option(names = "--max-tables", defaultValue = "0", description = "the most tables per service (default: no limit)")
    int maxTables;

    @Option(names = "--seed", defaultValue = "1", description = "makes the result reproducible (default 1)")
    long seed;

    @Option(names = "--out", required = true, description = "the output directory")
    Path out;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter print = spec.commandLine().getOut();
      io.cutover.engine.analysis.Hints hints;
      try {
        hints = new io.cutover.engine.analysis.Hints(together.stream().map(Analyze::tables).toList(),
            apart.stream().map(Analyze::tables).toList(), services, maxTables);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      javax.sql.DataSource ds;
      try {
        ds = io.cutover.engine.db.DataSources.of(url, user, System.getenv().getOrDefault("CUTOVER_DB_PASSWORD", ""));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--url: " + e.getMessage());
      }
      io.cutover.engine.analysis.Schema schema = io.cutover.engine.analysis.Schema.read(ds);
      if (schema.tables().isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--url: no tables in " + url);
      }
      java.util.List<io.cutover.engine.analysis.Transaction> transactions = new java.util.ArrayList<>();
      if (accessLog != null) {
        try {
          transactions.addAll(io.cutover.engine.analysis.AccessLog.read(accessLog));
        } catch (java.io.IOException | IllegalArgumentException e) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--access-log: " + e.getMessage());
        }
      }
      if (pgStatStatements) {
        transactions.addAll(io.cutover.engine.analysis.AccessLog.fromPgStatStatements(ds));
      }
      io.cutover.engine.analysis.Analysis analysis;
      try {
        analysis = io.cutover.engine.analysis.BoundaryAnalyzer.analyze(schema, transactions, hints, seed);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
      }
      io.cutover.engine.analysis.AnalysisWriter.write(analysis, out, url, user);
      print.printf("cutover: %d tables -> %d services, %d shared reference tables, %d crossing foreign keys, %s "
          + "distributed, %d cycles (%d ms)%n", schema.tables().size(), analysis.services().size(),
          analysis.referenceTables().size(), analysis.crossingForeignKeys().size(), transactions.isEmpty()
              ? "no access log, so unknown" : String.format(java.util.Locale.ROOT, "%.1f%%",
              100 * analysis.distributedShare()), analysis.cycles().size(), analysis.elapsed().toMillis());
      for (io.cutover.engine.analysis.Analysis.ProposedService s : analysis.services()) {
        print.printf("  %-20s %s%n", s.name(), String.join(", ", s.tables()));
      }
      print.printf("cutover: wrote plan.yaml, report.md, graph.dot, analysis.json to %s%n", out);
      return OK;
    }

    private static java.util.Set<String> tables(String list) {
      java.util.Set<String> out = new java.util.TreeSet<>();
      for (String t : list.split(",")) {
        if (!t.isBlank()) {
          out.add(t.strip().toLowerCase(java.util.Locale.ROOT));
        }
      }
      return out;
    }
  }

  /** {@code cutover apigen --jdbc URL [--tables a,b] --out FILE [--serve PORT]}. */
  @Command(name = "apigen", mixinStandardHelpOptions = true,
      description = "Generates a service's REST API from its tables: writes the OpenAPI 3.1 document (JSON, or YAML "
          + "when FILE ends in .yaml) and, with --serve, serves the endpoints until stopped (SIGTERM or Ctrl-C). "
          + "The password comes from the environment variable CUTOVER_DB_PASSWORD.")
  static final class Apigen implements Callable<Integer> {
    @Option(names = {"--jdbc", "--url"}, required = true, description = "the service's JDBC URL (PostgreSQL or H2)")
    String url;

    @Option(names = "--user", defaultValue = "", description = "the database user")
    String user;

    @Option(names = "--tables", split = ",", description = "the tables to expose, comma-separated (default: all)")
    java.util.List<String> tables = new java.util.ArrayList<>();

    @Option(names = "--service", defaultValue = "service", description = "the service's name (default "
        + "${DEFAULT-VALUE})")
    String service;

    @Option(names = "--out", description = "write the document here (.json or .yaml)")
    Path out;

    @Option(names = "--versions", description = "keep published versions in this directory, so a schema change "
        + "becomes /v2 while /v1 keeps its contract (default: in memory, always /v1)")
    Path versions;

    @Option(names = "--serve", defaultValue = "-1", description = "serve the API on this port (0: any free port)")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "with --serve: the address to bind "
        + "(default ${DEFAULT-VALUE})")
    String host;

    /** Counted down to stop serving. */
    final CountDownLatch stop = new CountDownLatch(1);

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      PrintWriter print = spec.commandLine().getOut();
      if (out == null && port < 0) {
        throw new CommandLine.ParameterException(spec.commandLine(), "give --out FILE, --serve PORT or both");
      }
      if (port > 65_535) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--serve: " + port + " is not a port");
      }
      javax.sql.DataSource ds;
      try {
        ds = io.cutover.engine.db.DataSources.of(url, user, System.getenv().getOrDefault("CUTOVER_DB_PASSWORD", ""));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--jdbc: " + e.getMessage());
      }
      io.cutover.engine.apigen.ApiVersions history = versions == null
          ? io.cutover.engine.apigen.ApiVersions.inMemory() : io.cutover.engine.apigen.ApiVersions.open(versions);
      long started = System.nanoTime();
      io.cutover.engine.apigen.ApiModel model;
      try {
        model = history.admit(io.cutover.engine.apigen.ApiGenerator.model(ds, service, tables));
      } catch (IllegalArgumentException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--tables: " + e.getMessage());
      }
      if (model.resources().isEmpty()) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--jdbc: no tables to expose in " + url);
      }
      if (out != null) {
        String name = out.getFileName().toString();
        String text = name.endsWith(".yaml") || name.endsWith(".yml")
            ? io.cutover.engine.apigen.OpenApiDocument.yaml(model) : io.cutover.engine.apigen.OpenApiDocument.json(model);
        Path parent = out.toAbsolutePath().getParent();
        java.nio.file.Files.createDirectories(parent);
        Path temporary = parent.resolve(name + ".tmp");
        java.nio.file.Files.writeString(temporary, text);
        java.nio.file.Files.move(temporary, out, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        print.printf("cutover: OpenAPI 3.1 document of %s v%d (%s), %d resources, written to %s in %d ms%n", service,
            model.version(), io.cutover.engine.apigen.OpenApiDocument.specVersion(model), model.resources().size(),
            out, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
      }
      if (port < 0) {
        return OK;
      }
      io.cutover.engine.apigen.ApiServerConfig config = io.cutover.engine.apigen.ApiServerConfig.loopback(port);
      config = new io.cutover.engine.apigen.ApiServerConfig(host, port, config.maxBodyBytes(), config.maxHeaderBytes(),
          config.defaultPage(), config.maxPage(), config.poolSize(), config.maxQueued(), config.queryTimeout());
      try (io.cutover.engine.apigen.ApiServer server = io.cutover.engine.apigen.ApiServer.start(config, ds, service,
          tables, history, java.util.List.of())) {
        print.printf("cutover: serving %s v%d on http://%s:%d/v%d/ (document /openapi.json, /health, /metrics); "
            + "stop with SIGTERM or Ctrl-C%n", service, server.current().version(), host, server.port(),
            server.current().version());
        onStopSignals(stop);
        stop.await();
      }
      print.println("cutover: API stopped");
      return OK;
    }
  }

  /** {@code cutover admin --target HOST:PORT ACTION [options]}: the admin API from the command line. */
  @Command(name = "admin", mixinStandardHelpOptions = true,
      description = "Calls a running engine's gRPC admin API and prints the answer as JSON. Actions: status, "
          + "conflicts, resolve, pause, resume, replay, validate, repair, audit, routes, weight, rules, rollback, "
          + "rollout, stop-rollout, analyze, apigen. The bearer token, if any, comes from "
          + "CUTOVER_ADMIN_TOKEN.")
  static final class Admin implements Callable<Integer> {
    @Option(names = "--target", defaultValue = "127.0.0.1:7070", description = "HOST:PORT (default ${DEFAULT-VALUE})")
    String target;

    @CommandLine.Parameters(index = "0", description = "status | conflicts | resolve | pause | resume | replay | "
        + "validate | "
        + "repair | audit | routes | weight | rules | rollback | rollout | stop-rollout | analyze | apigen")
    String action;

    @Option(names = "--rule", description = "rules: KIND:NAME=VALUE:TARGET[:VARIANT], e.g. header:x-canary=1:service:"
        + "canary (repeatable, in order; none clears the route's rules)")
    java.util.List<String> rules = new java.util.ArrayList<>();

    @Option(names = "--services", defaultValue = "0", description = "analyze: how many services (default: as the "
        + "data says)")
    int services;

    @Option(names = "--pg-stat-statements", description = "analyze: also read the monolith's pg_stat_statements")
    boolean pgStatStatements;

    @Option(names = "--side", defaultValue = "", description = "apigen: monolith or a service")
    String side;

    @Option(names = "--tables", split = ",", description = "apigen: the tables (default: all)")
    java.util.List<String> tables = new java.util.ArrayList<>();

    @Option(names = "--format", defaultValue = "json", description = "apigen: json or yaml (default ${DEFAULT-VALUE})")
    String format;

    @Option(names = "--tls-ca", description = "trust this CA certificate (PEM) and talk TLS to the admin API")
    Path tlsCa;

    @Option(names = "--route", defaultValue = "", description = "weight, rollback, rollout, stop-rollout: the route")
    String route;

    @Option(names = "--bps", defaultValue = "0", description = "weight: basis points to the service (0-10000)")
    int bps;

    @Option(names = "--steps", defaultValue = "", description = "rollout: WEIGHT_BPS:HOLD steps, e.g. "
        + "500:10m,5000:30m,10000:0s")
    String steps;

    @Option(names = "--max-error-rate", defaultValue = "0", description = "rollout: roll back above this error share "
        + "(default 0.01)")
    double maxErrorRate;

    @Option(names = "--max-p99-ms", defaultValue = "0", description = "rollout: roll back above this p99 (default 1000)")
    long maxP99Millis;

    @Option(names = "--service", defaultValue = "", description = "the service")
    String service;

    @Option(names = "--consumer", defaultValue = "", description = "replay: the journal consumer (status lists them)")
    String consumer;

    @Option(names = "--after", defaultValue = "-1", description = "replay: the last journal index not to re-deliver "
        + "(default: everything the journal keeps)")
    long after;

    @Option(names = "--table", defaultValue = "", description = "the monolith's table")
    String table;

    @Option(names = "--parked", description = "conflicts: only parked ones")
    boolean parked;

    @Option(names = "--conflict", defaultValue = "0", description = "resolve: the conflict id")
    long conflict;

    @Option(names = "--winner", defaultValue = "", description = "resolve: monolith or the service's name")
    String winner;

    @Option(names = "--authority", defaultValue = "", description = "repair: monolith, service or newest")
    String authority;

    @Option(names = "--dry-run", description = "repair: list, change nothing")
    boolean dryRun;

    @Option(names = "--limit", defaultValue = "0", description = "conflicts, validate, audit: at most this many")
    int limit;

    @Spec
    CommandLine.Model.CommandSpec spec;

    private io.cutover.admin.v1.StartRolloutRequest rollout() {
      io.cutover.admin.v1.StartRolloutRequest.Builder request = io.cutover.admin.v1.StartRolloutRequest.newBuilder()
          .setRoute(route).setMaxErrorRate(maxErrorRate).setMaxP99Micros(maxP99Millis * 1_000);
      for (String step : steps.split(",")) {
        if (step.isBlank()) {
          continue;
        }
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d{1,5}):(\\d{1,9})(ms|s|m|h)")
            .matcher(step.strip());
        if (!m.matches()) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--steps: '" + step + "' is not "
              + "WEIGHT_BPS:HOLD such as 500:10m");
        }
        long n = Long.parseLong(m.group(2));
        long millis = switch (m.group(3)) {
          case "ms" -> n;
          case "s" -> n * 1_000;
          case "m" -> n * 60_000;
          default -> n * 3_600_000;
        };
        request.addSteps(io.cutover.admin.v1.RolloutStep.newBuilder().setWeightBps(Integer.parseInt(m.group(1)))
            .setHoldMillis(millis));
      }
      return request.build();
    }

    private io.cutover.admin.v1.SetRulesRequest rules() {
      io.cutover.admin.v1.SetRulesRequest.Builder request = io.cutover.admin.v1.SetRulesRequest.newBuilder()
          .setRoute(route);
      for (String rule : rules) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(header|cookie):([^=:]+)=([^:]+):(service|"
            + "monolith)(?::(.+))?").matcher(rule.strip());
        if (!m.matches()) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--rule: '" + rule + "' is not "
              + "KIND:NAME=VALUE:TARGET[:VARIANT] such as header:x-canary=1:service:canary");
        }
        request.addRules(io.cutover.admin.v1.RuleInfo.newBuilder().setKind(m.group(1)).setName(m.group(2))
            .setValue(m.group(3)).setTarget(m.group(4)).setVariant(m.group(5) == null ? "" : m.group(5)));
      }
      return request.build();
    }

    @Override
    public Integer call() throws Exception {
      int colon = target.lastIndexOf(':');
      int port;
      try {
        port = Integer.parseInt(target.substring(colon + 1));
      } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--target: expected HOST:PORT, got " + target);
      }
      io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder builder = io.grpc.netty.shaded.io.grpc.netty
          .NettyChannelBuilder.forAddress(colon > 0 ? target.substring(0, colon) : "127.0.0.1", port);
      if (tlsCa == null) {
        builder.usePlaintext();
      } else {
        try {
          builder.sslContext(io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient()
              .trustManager(tlsCa.toFile()).build());
        } catch (javax.net.ssl.SSLException | IllegalArgumentException e) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--tls-ca: " + e.getMessage());
        }
      }
      io.grpc.ManagedChannel channel = builder.build();
      try {
        io.cutover.admin.v1.CutoverAdminGrpc.CutoverAdminBlockingStub stub = io.cutover.admin.v1.CutoverAdminGrpc
            .newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES);
        String token = System.getenv("CUTOVER_ADMIN_TOKEN");
        if (token != null && !token.isEmpty()) {
          io.grpc.Metadata headers = new io.grpc.Metadata();
          headers.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
              "Bearer " + token);
          stub = stub.withInterceptors(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        com.google.protobuf.Message answer = switch (action) {
          case "status" -> stub.getStatus(io.cutover.admin.v1.GetStatusRequest.getDefaultInstance());
          case "conflicts" -> stub.listConflicts(io.cutover.admin.v1.ListConflictsRequest.newBuilder()
              .setService(service).setParkedOnly(parked).setLimit(limit).build());
          case "resolve" -> stub.resolveConflict(io.cutover.admin.v1.ResolveConflictRequest.newBuilder()
              .setConflictId(conflict).setWinner(winner).build());
          case "pause" -> stub.pauseTable(io.cutover.admin.v1.TableRequest.newBuilder().setService(service)
              .setTable(table).build());
          case "resume" -> stub.resumeTable(io.cutover.admin.v1.TableRequest.newBuilder().setService(service)
              .setTable(table).build());
          case "replay" -> stub.replay(io.cutover.admin.v1.ReplayRequest.newBuilder().setConsumer(consumer)
              .setAfterIndex(after).build());
          case "validate" -> stub.validate(io.cutover.admin.v1.ValidateRequest.newBuilder().setService(service)
              .setTable(table).setLimit(limit).build());
          case "repair" -> stub.repair(io.cutover.admin.v1.RepairRequest.newBuilder().setService(service)
              .setTable(table).setAuthority(authority).setDryRun(dryRun).build());
          case "audit" -> stub.readAudit(io.cutover.admin.v1.ReadAuditRequest.newBuilder().setLimit(limit).build());
          case "routes" -> stub.getRoutes(io.cutover.admin.v1.GetRoutesRequest.getDefaultInstance());
          case "weight" -> stub.setWeight(io.cutover.admin.v1.SetWeightRequest.newBuilder().setRoute(route)
              .setWeightBps(Math.max(0, bps)).build());
          case "rollback" -> stub.rollback(io.cutover.admin.v1.RouteRequest.newBuilder().setRoute(route).build());
          case "stop-rollout" -> stub.stopRollout(io.cutover.admin.v1.RouteRequest.newBuilder().setRoute(route).build());
          case "rollout" -> stub.startRollout(rollout());
          case "rules" -> stub.setRules(rules());
          case "analyze" -> stub.analyze(io.cutover.admin.v1.AnalyzeRequest.newBuilder().setServices(Math.max(0,
              services)).setPgStatStatements(pgStatStatements).build());
          case "apigen" -> stub.generateApi(io.cutover.admin.v1.GenerateApiRequest.newBuilder().setSide(side)
              .addAllTables(tables).setFormat(format).build());
          default -> throw new CommandLine.ParameterException(spec.commandLine(), "action: '" + action
              + "' is not one of status, conflicts, resolve, pause, resume, replay, validate, repair, audit, routes, "
              + "weight, "
              + "rules, rollback, rollout, stop-rollout, analyze, apigen");
        };
        if (answer instanceof io.cutover.admin.v1.GenerateApiResponse api) {
          spec.commandLine().getOut().print(api.getDocument()); // the document itself, ready for a file
          spec.commandLine().getOut().flush();
          return OK;
        }
        spec.commandLine().getOut().println(JsonFormat.printer().print(answer));
        if (answer instanceof io.cutover.admin.v1.ValidateResponse v && !v.getConsistent()) {
          return DISCREPANCIES;
        }
        return OK;
      } catch (io.grpc.StatusRuntimeException e) {
        spec.commandLine().getErr().println("cutover admin " + action + ": " + e.getStatus().getCode() + ": "
            + e.getStatus().getDescription());
        return e.getStatus().getCode() == io.grpc.Status.Code.INVALID_ARGUMENT ? USAGE : FAILURE;
      } finally {
        channel.shutdownNow();
      }
    }
  }

  /** {@code cutover check --config FILE}. */
  @Command(name = "check", mixinStandardHelpOptions = true,
      description = "Validates a configuration file against the databases, read-only.")
  static final class Check implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "the migration's YAML configuration")
    Path config;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      MigrationConfig loaded = MigrationConfig.load(config);
      ConfigChecker.verify(loaded);
      spec.commandLine().getOut().printf("%s: OK: %d table(s) from the monolith to %d service(s)%n", config,
          loaded.tables().size(), loaded.services().size());
      return OK;
    }
  }

  /** {@code cutover run --config FILE}. */
  @Command(name = "run", mixinStandardHelpOptions = true,
      description = "Syncs the monolith into the services until stopped (SIGTERM or Ctrl-C drains and exits).")
  static final class Run implements Callable<Integer> {
    @Option(names = "--config", required = true, description = "the migration's YAML configuration")
    Path config;

    @Option(names = "--status-every", defaultValue = "10", description = "seconds between status lines")
    int statusSeconds;

    @Option(names = "--admin-port", defaultValue = "-1",
        description = "serve the gRPC admin API on 127.0.0.1:PORT (0: any free port; default: off); the bearer "
            + "token, if any, comes from the environment variable CUTOVER_ADMIN_TOKEN")
    int adminPort;

    @Option(names = "--metrics-port", defaultValue = "-1",
        description = "serve Prometheus text at http://127.0.0.1:PORT/metrics (0: any free port; default: off)")
    int metricsPort;

    @Option(names = "--admin-tls-cert", description = "serve the admin API over TLS with this certificate chain (PEM)")
    Path adminTlsCert;

    @Option(names = "--admin-tls-key", description = "... and this private key (PKCS#8 PEM)")
    Path adminTlsKey;

    @Option(names = "--admin-host", defaultValue = "127.0.0.1", description = "the address the admin API binds "
        + "(default 127.0.0.1); beyond loopback it needs CUTOVER_ADMIN_TOKEN, or --insecure-admin")
    String adminHost;

    @Option(names = "--metrics-host", defaultValue = "127.0.0.1",
        description = "the address the metrics endpoint binds (default 127.0.0.1)")
    String metricsHost;

    @Option(names = "--insecure-admin", description = "serve the admin API beyond loopback without a token: anyone "
        + "who reaches the port can pause sync, resolve conflicts and shift traffic")
    boolean insecureAdmin;

    /** Counted down to stop (the shutdown hook does it on SIGTERM). */
    final CountDownLatch stop = new CountDownLatch(1);

    @Spec
    CommandLine.Model.CommandSpec spec;

    /** Whether an address to bind is loopback; a name that does not resolve is a usage error naming the option. */
    private boolean loopback(String host, String option) {
      try {
        return java.net.InetAddress.getByName(host).isLoopbackAddress();
      } catch (java.net.UnknownHostException e) {
        throw new CommandLine.ParameterException(spec.commandLine(), option + " " + host + ": no such address");
      }
    }

    @Override
    public Integer call() throws Exception {
      PrintWriter out = spec.commandLine().getOut();
      if (adminPort < -1 || adminPort > 65_535 || metricsPort < -1 || metricsPort > 65_535) {
        throw new CommandLine.ParameterException(spec.commandLine(), "--admin-port and --metrics-port must be 0..65535");
      }
      String token = System.getenv("CUTOVER_ADMIN_TOKEN");
      boolean adminLoopback = loopback(adminHost, "--admin-host");
      loopback(metricsHost, "--metrics-host");
      if (adminPort >= 0 && !adminLoopback && (token == null || token.isEmpty())) {
        if (!insecureAdmin) {
          throw new CommandLine.ParameterException(spec.commandLine(), "--admin-host " + adminHost + " is beyond "
              + "loopback and CUTOVER_ADMIN_TOKEN is not set: anyone who reaches the port could pause sync, resolve "
              + "conflicts and shift traffic. Set the token (and --admin-tls-cert/--admin-tls-key), or pass "
              + "--insecure-admin to accept that");
        }
        spec.commandLine().getErr().printf("cutover: WARNING: the admin API on %s:%d has no token: anyone who "
            + "reaches it controls this migration (--insecure-admin)%n", adminHost, adminPort);
      } else if (adminPort >= 0 && !adminLoopback && adminTlsCert == null) {
        spec.commandLine().getErr().printf("cutover: WARNING: the admin API on %s is beyond loopback without TLS: "
            + "its token crosses the network in clear text (--admin-tls-cert/--admin-tls-key)%n", adminHost);
      }
      Migration migration = Migration.start(MigrationConfig.load(config));
      io.cutover.admin.AdminServer admin = null;
      if (adminPort >= 0) {
        io.cutover.admin.AdminConfig adminConfig = new io.cutover.admin.AdminConfig(adminHost, adminPort, "",
            io.cutover.admin.AdminConfig.DEFAULT_MAX_INBOUND_MESSAGE_BYTES);
        if (token != null && !token.isEmpty()) {
          adminConfig = adminConfig.withBearerToken(token);
        }
        if (adminTlsCert != null || adminTlsKey != null) {
          try {
            adminConfig = adminConfig.withTls(adminTlsCert, adminTlsKey);
          } catch (IllegalArgumentException e) {
            migration.close();
            throw new CommandLine.ParameterException(spec.commandLine(), "--admin-tls-cert/--admin-tls-key: "
                + e.getMessage());
          }
        }
        admin = io.cutover.admin.AdminServer.start(adminConfig, migration);
        out.printf("cutover: admin API on %s:%d%s%n", adminHost, admin.port(), adminConfig.tls() ? " (TLS)" : "");
      }
      io.cutover.admin.MetricsServer metrics = null;
      if (metricsPort >= 0) {
        metrics = io.cutover.admin.MetricsServer.start(metricsHost, metricsPort, migration.pipeline(),
            migration.syncs()).validations(migration.validations());
        if (migration.router() != null) {
          metrics.routing(migration.router(), migration.routeStats());
        }
        out.printf("cutover: metrics on http://%s:%d/metrics%n", metricsHost, metrics.port());
      }
      CountDownLatch stopped = new CountDownLatch(1);
      Thread hook = new Thread(() -> {
        stop.countDown();
        try {
          stopped.await(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "cutover-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      // SIGTERM and Ctrl-C stop the loop below, which drains and returns 0; the hook covers anything else.
      onStopSignals(stop);
      out.printf("cutover: syncing %d table(s); journal %s; stop with SIGTERM or Ctrl-C%n",
          migration.config().tables().size(), migration.config().journalDirectory());
      if (migration.gateway() != null) {
        out.printf("cutover: gateway on %s:%d%n", migration.config().gateway().host(), migration.gateway().port());
      }
      migration.apis().forEach((side, api) -> out.printf("cutover: API of %s on http://%s:%d/v%d/ (OpenAPI at "
          + "/openapi.json)%n", side, migration.config().apis().get(side).host(), api.port(), api.current().version()));
      ProgressPrinter progress = ProgressPrinter.forConsole(spec.commandLine().getErr());
      java.util.Set<String> backfilled = new java.util.HashSet<>();
      try {
        while (!stop.await(statusSeconds, TimeUnit.SECONDS)) {
          if (migration.backfill() != null) {
            for (io.cutover.engine.backfill.BackfillProgress p : migration.backfill().progress().values()) {
              if (backfilled.add(p.table() + "@" + p.rowsDone())) {
                progress.backfill(p);
              }
            }
            if (migration.backfillFailure() != null && backfilled.add("failure")) {
              out.println("cutover: backfill stopped: " + migration.backfillFailure().getMessage()
                  + " (sync goes on; the next start resumes the copy)");
            }
          }
          Throwable failed = migration.pipeline().failure();
          if (failed != null) {
            spec.commandLine().getErr().println("cutover: the pipeline stopped on a failure its retries do not "
                + "cover: " + failed + "; exiting so that a restart hands the journaled changes over again");
            return FAILURE;
          }
          PipelineStats stats = migration.pipeline().stats();
          // changes read from the databases; with Kafka, what the apply side consumed is shown apart
          long captured = migration.captures().stream().filter(c -> !(c instanceof io.cutover.engine.kafka
              .KafkaCapture)).mapToLong(c -> c.published()).sum();
          long consumed = migration.captures().stream().filter(c -> c instanceof io.cutover.engine.kafka
              .KafkaCapture).mapToLong(c -> c.published()).sum();
          long conflicts = migration.syncs().values().stream().mapToLong(s -> s.stats().conflicts()).sum();
          long parked = migration.syncs().values().stream().mapToLong(s -> s.stats().parked()).sum();
          long outstanding = migration.validations().values().stream().mapToLong(v -> v.stats().outstanding())
              .sum();
          long behind = migration.validations().values().stream().mapToLong(v -> v.stats().behindMillis()).max()
              .orElse(0);
          out.printf("cutover: captured %d%s, journaled %d, in flight %d, conflicts %d (parked %d), "
              + "discrepancies %d%s%n",
              captured, migration.config().kafka() == null ? "" : ", consumed from Kafka " + consumed,
              stats.durable(), stats.inFlight(), conflicts, parked, outstanding, behind == 0 ? ""
                  : String.format(java.util.Locale.ROOT, " (validation waits: the pipeline is %.1f s behind, more "
                      + "than the lag tolerance)", behind / 1000.0));
        }
      } finally {
        if (admin != null) {
          admin.close();
        }
        if (metrics != null) {
          metrics.close();
        }
        migration.close();
        out.println("cutover: stopped after draining the pipeline");
        stopped.countDown();
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running: it is waiting for us
        }
      }
      return OK;
    }
  }

  /** {@code cutover replay --journal DIR [--from INDEX] [--json]}. */
  @Command(name = "replay", mixinStandardHelpOptions = true,
      description = "Prints the changes in a journal, oldest first (read-only).")
  static final class Replay implements Callable<Integer> {
    @Option(names = "--journal", required = true, description = "the journal's directory")
    Path journal;

    @Option(names = "--from", defaultValue = "-1", description = "print changes after this journal index")
    long from;

    @Option(names = "--json", description = "one JSON object per line (the cutover.v1.ChangeEvent schema)")
    boolean json;

    @Option(names = "--rewind", description = "instead of printing: move this consumer's checkpoint back to --from, "
        + "so the next `run` hands it every change after that index again (engine stopped). A handler that keeps "
        + "its position in its target (sync, apply) still skips what the target holds: a restored target gets "
        + "back what it lost, nothing is applied twice")
    String rewind;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      if (!Files.isDirectory(journal)) {
        throw new ConfigException(journal, "--journal", "no journal directory here");
      }
      PrintWriter out = spec.commandLine().getOut();
      if (rewind != null) {
        try (Journal open = Journal.open(JournalConfig.builder(journal).syncPolicy(SyncPolicy.NONE).pretouch(false)
            .build())) {
          java.util.Map<String, Long> consumers = open.consumers();
          if (!consumers.containsKey(rewind)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--rewind: no consumer '" + rewind
                + "' in " + journal + " (consumers: " + String.join(", ", new java.util.TreeSet<>(consumers.keySet()))
                + ")");
          }
          long at = consumers.get(rewind);
          if (from > at) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--from: " + from + " is after consumer '"
                + rewind + "''s checkpoint " + at + "; a rewind only moves back");
          }
          if (from < Journal.NO_INDEX) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--from: " + from + " is not an index");
          }
          open.checkpoint(rewind).rewind(from);
          out.printf("cutover: consumer %s rewound from %d to %d; the next start hands it the changes after %d "
              + "again%n", rewind, at, from, from);
        } catch (JournalException e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
        return OK;
      }
      JsonFormat.Printer printer = JsonFormat.printer().omittingInsignificantWhitespace();
      long[] count = {0};
      try (Journal open = Journal.open(JournalConfig.builder(journal).syncPolicy(SyncPolicy.NONE).pretouch(false)
          .build()); JournalReader reader = open.readAfter(from)) {
        while (reader.next((index, buffer, offset, length) -> {
          ChangeEvent event = EventCodec.decode(buffer, offset, length);
          if (json) {
            try {
              out.println("{\"journalIndex\":" + index + ",\"event\":"
                  + printer.print(ChangeEventProtos.toProto(event)) + "}");
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              throw new IllegalStateException(e);
            }
          } else {
            out.printf("%d\t%s\t%s\t%s\tkey=%s\thlc=%d%n", index, event.side(), event.table(), event.operation(),
                event.key().columns(), event.hlc());
          }
          count[0]++;
        })) {
          // prints as it reads
        }
      } catch (JournalException e) {
        throw new IllegalStateException(e.getMessage(), e);
      }
      if (!json) {
        out.printf("%d change(s)%n", count[0]);
      }
      return OK;
    }
  }
}
