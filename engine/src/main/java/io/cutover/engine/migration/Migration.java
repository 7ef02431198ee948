package io.cutover.engine.migration;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.ChangeCapture;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.config.ConfigChecker;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.config.MigrationConfig.SideConfig;
import io.cutover.engine.config.MigrationConfig.TableConfig;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.event.Side;
import io.cutover.engine.migration.internal.KafkaWiring;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.sync.BidirectionalSync;
import io.cutover.engine.validate.AuditLog;
import io.cutover.engine.validate.Authority;
import io.cutover.engine.validate.ChangeClock;
import io.cutover.engine.validate.Consistency;
import io.cutover.engine.validate.ContinuousValidator;
import io.cutover.engine.validate.Repairer;
import io.cutover.engine.validate.Validator;
import io.cutover.engine.sync.Conflict;
import io.cutover.journal.JournalConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;

/**
 * A migration assembled from a {@link MigrationConfig}: the configuration is checked against the databases first
 * (nothing is written if it is wrong), then capture is installed on the monolith and on every service with a
 * table synced both ways, one {@link BidirectionalSync} per service is built from the table mappings and conflict
 * policies, the pipeline starts (replaying what an earlier run left unapplied), and capture starts. With a
 * {@code kafka} section the two halves meet in Kafka instead: capture publishes to topics (role capture or all),
 * and apply instances share a consumer group that hands each whole services, taking a service over from its state
 * changelog whenever it is assigned (role apply or all). Thread-safe to close from any thread.
 */
public final class Migration implements AutoCloseable {
  /** The first watermark row of validation's marks (one row per service, in the configuration's order). */
  static final int MARK_ROWS = 1000;
  private final MigrationConfig config;
  private final List<ChangeCapture> captures;
  private final Pipeline pipeline;
  /** With Kafka: the pipeline from the databases' captures to Kafka (null otherwise, or when only applying). */
  private Pipeline capturePipeline;
  /** With Kafka: what this instance consumes (null otherwise, or when only capturing). */
  private io.cutover.engine.kafka.KafkaCapture kafkaCapture;
  private io.cutover.engine.kafka.KafkaPublisher kafkaPublisher;
  private final Map<String, BidirectionalSync> syncs;
  private final java.util.concurrent.ScheduledExecutorService ticker;
  private final ChangeClock clock;
  private final AuditLog audit;
  private final Map<String, ContinuousValidator> validations = new LinkedHashMap<>();
  private final Map<String, Repairer> repairers = new LinkedHashMap<>();
  private final io.cutover.engine.route.Router router;
  private final io.cutover.engine.route.RouteStats routeStats = new io.cutover.engine.route.RouteStats();
  private final io.cutover.engine.gateway.Gateway gateway;
  private final Map<String, io.cutover.engine.route.Rollout> rollouts = new java.util.concurrent.ConcurrentHashMap<>();
  private io.cutover.engine.backfill.Backfill backfill;
  private final Map<String, io.cutover.engine.apigen.ApiServer> apis = new LinkedHashMap<>();
  private Thread backfillThread;
  private volatile Exception backfillFailure;

  private Migration(MigrationConfig config, List<ChangeCapture> captures, Pipeline pipeline,
      Map<String, BidirectionalSync> syncs, ChangeClock clock, Map<String, List<TableConfig>> tablesByService,
      Map<String, io.cutover.engine.validate.PipelineMarks> marks) {
    this.config = config;
    this.captures = captures;
    this.pipeline = pipeline;
    this.syncs = syncs;
    this.clock = clock;
    this.audit = AuditLog.open(config.stateDirectory().resolve("audit"));
    MigrationConfig.ValidationConfig v = config.validation();
    for (Map.Entry<String, List<TableConfig>> service : tablesByService.entrySet()) {
      SideConfig side = config.services().get(service.getKey());
      Repairer repairer = new Repairer(pipeline, side.side(), clock, audit);
      ContinuousValidator.Builder validation = ContinuousValidator.builder(Validator.builder(service.getKey(),
              DataSources.of(config.monolith().url(), config.monolith().user(), config.monolith().password()),
              DataSources.of(side.url(), side.user(), side.password())).depth(v.depth()).build())
          .consistency(v.strict() ? Consistency.STRICT : Consistency.EVENTUAL).tolerance(v.tolerance())
          .clock(clock).marks(marks.get(service.getKey())).audit(audit);
      for (TableConfig table : service.getValue()) {
        TableMapping mapping = mapping(table);
        repairer.table(mapping, table.bidirectional());
        validation.table(mapping);
      }
      if (!v.repair().isEmpty()) {
        validation.autoRepair(repairer, Authority.parse(v.repair()));
      }
      if (v.interval() != null) {
        validation.interval(v.interval());
      }
      if (v.fullScan() != null) {
        validation.fullScanEvery(v.fullScan());
      }
      ContinuousValidator built = validation.build();
      validations.put(service.getKey(), v.interval() != null ? built.start() : built);
      repairers.put(service.getKey(), repairer);
    }
    MigrationConfig.GatewaySection g = config.gateway();
    if (g == null) {
      router = null;
      gateway = null;
    } else {
      router = new io.cutover.engine.route.Router(new io.cutover.engine.route.RoutingTable(1, g.routes()));
      io.cutover.engine.gateway.GatewayConfig gc = new io.cutover.engine.gateway.GatewayConfig(g.host(), g.port(),
          g.upstreams(), 8 * 1024, 1024 * 1024, java.time.Duration.ofSeconds(1), java.time.Duration.ofSeconds(30), 5,
          java.time.Duration.ofSeconds(30), g.healthPath(), g.healthInterval());
      try {
        gateway = io.cutover.engine.gateway.Gateway.start(gc, router, routeStats);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting the gateway", e);
      }
    }
    this.ticker = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "cutover-tick");
      thread.setDaemon(true);
      return thread;
    });
    ticker.scheduleWithFixedDelay(this::tickWhilePaused, 1, 1, java.util.concurrent.TimeUnit.SECONDS);
  }

  /** While a table is paused by schema drift, a tick a second lets it resume once the schemas agree. */
  private void tickWhilePaused() {
    try {
      for (BidirectionalSync sync : syncs.values()) {
        if (!sync.paused().isEmpty()) {
          pipeline.publish(BidirectionalSync.tick());
          return;
        }
      }
    } catch (IOException | RuntimeException e) {
      // stopping, or the state store is busy: the next tick tries again
    }
  }

  /**
   * Checks the configuration, installs capture and starts syncing.
   *
   * @param config a loaded configuration.
   * @return the running migration.
   * @throws io.cutover.engine.config.ConfigException if the configuration does not fit the databases.
   * @throws SQLException if installing capture fails.
   */
  public static Migration start(MigrationConfig config) throws SQLException {
    ConfigChecker.verify(config);
    MigrationConfig.KafkaSection kafka = config.kafka();
    boolean capturing = kafka == null || kafka.role() != MigrationConfig.KafkaRole.APPLY;
    boolean applying = kafka == null || kafka.role() != MigrationConfig.KafkaRole.CAPTURE;
    List<ChangeCapture> captures = new ArrayList<>();
    String[] monolithTables = config.tables().stream().map(TableConfig::source).distinct().toArray(String[]::new);
    io.cutover.engine.backfill.Backfill backfill = null;
    if (config.backfill() != null && capturing) {
      backfill = io.cutover.engine.backfill.Backfill.builder(io.cutover.engine.event.Side.MONOLITH,
          DataSources.of(config.monolith().url(), config.monolith().user(), config.monolith().password()))
          .tables(monolithTables).chunkSize(config.backfill().chunk()).build();
      backfill.install(); // its watermark table is captured with the monolith's tables
      monolithTables = java.util.Arrays.copyOf(monolithTables, monolithTables.length + 1);
      monolithTables[monolithTables.length - 1] = io.cutover.engine.backfill.Backfill.WATERMARK_TABLE;
    }
    // Eventual validation waits for marks written into each captured side's stream to pass the pipeline.
    boolean marking = kafka == null && !config.validation().strict();
    if (marking && backfill == null) {
      monolithTables = java.util.Arrays.copyOf(monolithTables, monolithTables.length + 1);
      monolithTables[monolithTables.length - 1] = io.cutover.engine.backfill.Backfill.WATERMARK_TABLE;
    }
    if (capturing) {
      captures.add(capture(config.monolith(), monolithTables, config.tables().stream()
          .filter(TableConfig::bidirectional).map(TableConfig::source).collect(java.util.stream.Collectors.toSet())));
    }
    Map<String, BidirectionalSync.Builder> builders = new LinkedHashMap<>();
    Map<String, List<TableConfig>> tablesByService = new LinkedHashMap<>();
    for (TableConfig table : config.tables()) {
      TableMapping mapping = mapping(table);
      tablesByService.computeIfAbsent(table.service(), k -> new ArrayList<>()).add(table);
      SideConfig service = config.services().get(table.service());
      builders.computeIfAbsent(table.service(), name -> {
        BidirectionalSync.Builder builder = BidirectionalSync.builder(name,
            DataSources.of(config.monolith().url(), config.monolith().user(), config.monolith().password()),
            DataSources.of(service.url(), service.user(), service.password()), config.stateDirectory())
            .syncState(config.sync() != io.cutover.journal.SyncPolicy.NONE);
        if (kafka != null) {
          builder.changelog(KafkaWiring.changelog(kafka, name));
        }
        return builder;
      }).table(mapping, table.conflicts(), table.bidirectional());
    }
    for (Map.Entry<String, SideConfig> service : config.services().entrySet()) {
      String[] tables = config.tables().stream()
          .filter(t -> t.service().equals(service.getKey()) && t.bidirectional())
          .map(TableConfig::target).distinct().toArray(String[]::new);
      if (tables.length > 0 && capturing) {
        if (marking) {
          tables = java.util.Arrays.copyOf(tables, tables.length + 1);
          tables[tables.length - 1] = io.cutover.engine.backfill.Backfill.WATERMARK_TABLE;
        }
        captures.add(capture(service.getValue(), tables));
      }
    }
    ChangeClock clock = config.validation().fullScan() != null ? ChangeClock.trackingKeys(1_000_000)
        : new ChangeClock();
    Map<String, io.cutover.engine.validate.PipelineMarks> marks = new LinkedHashMap<>();
    if (marking) {
      int row = MARK_ROWS;
      for (Map.Entry<String, SideConfig> service : config.services().entrySet()) {
        if (tablesByService.containsKey(service.getKey())) {
          List<javax.sql.DataSource> sides = new ArrayList<>();
          sides.add(DataSources.of(config.monolith().url(), config.monolith().user(), config.monolith().password()));
          if (config.tables().stream().anyMatch(t -> t.service().equals(service.getKey()) && t.bidirectional())) {
            sides.add(DataSources.of(service.getValue().url(), service.getValue().user(),
                service.getValue().password()));
          }
          for (javax.sql.DataSource side : sides) {
            try (java.sql.Connection c = side.getConnection()) {
              io.cutover.engine.backfill.Backfill.installWatermark(c, row);
            }
          }
          marks.put(service.getKey(), new io.cutover.engine.validate.PipelineMarks(clock,
              io.cutover.engine.backfill.Backfill.WATERMARK_TABLE, row, sides));
        }
        row++;
      }
    }
    Map<String, String> units = kafka == null ? Map.of() : KafkaWiring.topics(config);
    if (kafka != null) {
      io.cutover.engine.kafka.KafkaTopics.ensure(kafka.bootstrap(), kafka.properties(), units.keySet(),
          kafka.partitions(), new java.util.TreeSet<>(config.services().keySet().stream()
              .filter(tablesByService::containsKey).map(name -> stateTopic(kafka, name)).toList()));
    }
    for (ChangeCapture capture : captures) {
      capture.install();
    }
    Map<String, BidirectionalSync> syncs = new LinkedHashMap<>();
    if (applying) {
      builders.forEach((name, builder) -> syncs.put(name, builder.build()));
    }
    Pipeline capturePipeline = null;
    io.cutover.engine.kafka.KafkaPublisher publisher = null;
    Pipeline pipeline;
    io.cutover.engine.kafka.KafkaCapture fromKafka = null;
    if (kafka == null) {
      pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.builder(config.journalDirectory())
              .syncPolicy(config.sync()).build()).stageThreads(config.stageThreads()).build())
          .apply(syncs.values().toArray(new ChangeHandler[0]))
          .checksum(clock)
          .start();
    } else {
      if (capturing) {
        publisher = new io.cutover.engine.kafka.KafkaPublisher("kafka-publisher", kafka.bootstrap(),
            kafka.topics(), KafkaWiring.database(config.monolith().url()), kafka.properties());
        capturePipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.builder(config.journalDirectory()
                .resolve("capture")).syncPolicy(config.sync()).build()).stageThreads(config.stageThreads()).build())
            .apply(publisher)
            .start();
        // A source confirms a change (slot LSN, change table rows) only once Kafka acknowledged it.
        capturePipeline = Pipeline.acknowledgedWhenHandled(capturePipeline);
      }
      if (!applying) {
        pipeline = capturePipeline; // what status, metrics and the admin API show of a capture instance
      } else {
        // What this instance consumed but had not applied is in Kafka again after the committed offsets: the
        // apply journal starts empty on every start.
        Path applyJournal = config.journalDirectory().resolve("apply");
        try {
          KafkaWiring.deleteTree(applyJournal);
        } catch (IOException e) {
          throw new IllegalStateException("cannot clear the apply journal " + applyJournal + ": " + e.getMessage(),
              e);
        }
        pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.builder(applyJournal)
                .syncPolicy(config.sync()).build()).stageThreads(config.stageThreads()).build())
            .apply(syncs.values().toArray(new ChangeHandler[0]))
            .checksum(clock)
            .start();
        fromKafka = KafkaWiring.consumer(kafka, units, syncs);
      }
    }
    Pipeline into = capturePipeline != null ? capturePipeline : pipeline;
    for (int i = 0; i < captures.size(); i++) {
      captures.get(i).start(i == 0 && backfill != null ? backfill.watermarked(into) : into);
    }
    if (fromKafka != null) {
      fromKafka.start(pipeline);
      captures.add(fromKafka);
    }
    Migration migration = new Migration(config, captures, pipeline, syncs, clock, applying ? tablesByService
        : Map.of(), marks);
    migration.capturePipeline = capturePipeline;
    migration.kafkaCapture = fromKafka;
    migration.kafkaPublisher = publisher;
    if (backfill != null) {
      migration.startBackfill(backfill);
    }
    try {
      migration.startApis();
    } catch (SQLException | RuntimeException e) {
      migration.close();
      throw e;
    }
    return migration;
  }

  /**
   * The state changelog topic of a service's sync.
   *
   * @param kafka the Kafka section.
   * @param service the service.
   * @return {@code <prefix>.state.<service>}.
   */
  public static String stateTopic(MigrationConfig.KafkaSection kafka, String service) {
    return KafkaWiring.stateTopic(kafka, service);
  }

  /** Serves each configured side's generated REST API. */
  private void startApis() throws SQLException {
    for (Map.Entry<String, MigrationConfig.ApiSection> api : config.apis().entrySet()) {
      MigrationConfig.ApiSection a = api.getValue();
      SideConfig side = api.getKey().equals("monolith") ? config.monolith() : config.services().get(api.getKey());
      io.cutover.engine.apigen.ApiServerConfig defaults = io.cutover.engine.apigen.ApiServerConfig.loopback(a.port());
      try {
        apis.put(api.getKey(), io.cutover.engine.apigen.ApiServer.start(new io.cutover.engine.apigen.ApiServerConfig(
            a.host(), a.port(), defaults.maxBodyBytes(), defaults.maxHeaderBytes(), defaults.defaultPage(),
            defaults.maxPage(), defaults.poolSize(), defaults.maxQueued(), defaults.queryTimeout()),
            DataSources.of(side.url(), side.user(), side.password()), api.getKey(), a.tables(),
            a.versions() == null ? io.cutover.engine.apigen.ApiVersions.inMemory()
                : io.cutover.engine.apigen.ApiVersions.open(a.versions()), List.of()));
      } catch (java.io.IOException e) {
        throw new IllegalStateException("the API of " + api.getKey() + " cannot keep its versions in "
            + a.versions() + ": " + e.getMessage(), e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting the API of " + api.getKey(), e);
      }
    }
  }

  /**
   * The generated REST APIs being served, by side.
   *
   * @return the servers (empty when the configuration has none).
   */
  public Map<String, io.cutover.engine.apigen.ApiServer> apis() {
    return java.util.Collections.unmodifiableMap(apis);
  }

  private void startBackfill(io.cutover.engine.backfill.Backfill copy) {
    backfill = copy;
    backfillThread = new Thread(() -> {
      try {
        copy.run();
      } catch (InterruptedException e) {
        // stopping: the chunks done are recorded, the next start resumes
      } catch (Exception e) {
        backfillFailure = e;
        org.slf4j.LoggerFactory.getLogger(Migration.class).error("backfill failed; sync goes on, and the next start "
            + "resumes the copy after the last chunk recorded", e);
      }
    }, "cutover-backfill");
    backfillThread.setDaemon(true);
    backfillThread.start();
  }

  /**
   * The online backfill the configuration asked for, running or done.
   *
   * @return the backfill (its {@code progress()} per table), or null when the configuration has none.
   */
  public io.cutover.engine.backfill.Backfill backfill() {
    return backfill;
  }

  /**
   * Why the backfill stopped early, if it did.
   *
   * @return the failure, or null.
   */
  public Exception backfillFailure() {
    return backfillFailure;
  }

  /**
   * Waits for the backfill to end.
   *
   * @param timeout how long to wait.
   * @return true when there is none or it ended (done or failed).
   * @throws InterruptedException if interrupted.
   */
  public boolean awaitBackfill(java.time.Duration timeout) throws InterruptedException {
    if (backfillThread == null) {
      return true;
    }
    backfillThread.join(Math.max(1, timeout.toMillis()));
    return !backfillThread.isAlive();
  }

  /**
   * The mapping a table's configuration describes.
   *
   * @param table the table's configuration.
   * @return the mapping.
   */
  public static TableMapping mapping(TableConfig table) {
    TableMapping mapping = TableMapping.renamed(table.source(), table.target());
    if (!table.columns().isEmpty()) {
      mapping = mapping.withColumns(table.columns());
    }
    if (!table.filter().isEmpty()) {
      mapping = mapping.withFilter(table.filter());
    }
    return mapping;
  }

  static ChangeCapture capture(SideConfig side, String[] tables) {
    return capture(side, tables, Set.of(tables));
  }

  /** A side's capture; with logical decoding, {@code bothWays} (tables synced both ways) get REPLICA IDENTITY FULL. */
  static ChangeCapture capture(SideConfig side, String[] tables, Set<String> bothWays) {
    if (side.capture() == MigrationConfig.CaptureMethod.LOGICAL) {
      Properties credentials = new Properties();
      if (!side.user().isEmpty()) {
        credentials.setProperty("user", side.user());
      }
      if (!side.password().isEmpty()) {
        credentials.setProperty("password", side.password());
      }
      PostgresLogicalCapture.Builder builder = PostgresLogicalCapture.builder(side.side(), side.url(), credentials)
          .tables(tables).replicaIdentityFull(bothWays);
      if (!side.slot().isEmpty()) {
        builder.slot(side.slot()).publication(side.slot());
      }
      return builder.build();
    }
    return TriggerCapture.builder(side.side(), DataSources.of(side.url(), side.user(), side.password()))
        .tables(tables).build();
  }

  /**
   * The pipeline (for status and statistics).
   *
   * @return the pipeline.
   */
  public Pipeline pipeline() {
    return pipeline;
  }

  /**
   * The captures: the monolith's first, then the services' that sync back.
   *
   * @return the captures.
   */
  public List<ChangeCapture> captures() {
    return captures;
  }

  /**
   * The sync of each service, by name.
   *
   * @return the syncs.
   */
  public Map<String, BidirectionalSync> syncs() {
    return syncs;
  }

  /**
   * Resolves a parked conflict: both sides get the winner's latest version of the row. The decision travels
   * through the journal, so it survives a crash.
   *
   * @param conflictId the parked conflict.
   * @param winner the side whose version is kept.
   * @return true if the conflict was parked in one of the services' syncs (and is now resolved).
   * @throws IOException if a state store cannot be read.
   * @throws InterruptedException if interrupted while waiting for the journal.
   */
  public boolean resolve(long conflictId, Side winner) throws IOException, InterruptedException {
    for (BidirectionalSync sync : syncs.values()) {
      for (Conflict parked : sync.parked()) {
        if (parked.id() == conflictId) {
          try {
            pipeline.publish(BidirectionalSync.resolution(conflictId, winner)).get();
          } catch (ExecutionException e) {
            throw new IOException("could not journal the resolution of conflict " + conflictId, e.getCause());
          }
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Re-delivers journaled changes to one consumer of the running migration (see {@link Pipeline#replay}): a
   * handler of the pipeline, or with Kafka of the capture pipeline (the publisher, to fill a topic again).
   *
   * @param consumer the handler's name.
   * @param afterIndex the last index not to re-deliver.
   * @return completes with the number re-delivered.
   * @throws IllegalArgumentException naming the consumer or the index that is wrong.
   */
  public java.util.concurrent.CompletableFuture<Long> replay(String consumer, long afterIndex) {
    if (capturePipeline != null && capturePipeline != pipeline
        && capturePipeline.stats().stages().stream().anyMatch(s -> consumer.equals(s.handler()))) {
      return capturePipeline.replay(consumer, afterIndex);
    }
    return pipeline.replay(consumer, afterIndex);
  }

  /**
   * Each service's validation (continuous when the configuration sets an interval; otherwise run on demand with
   * {@link ContinuousValidator#runOnce}), by service name.
   *
   * @return the validations.
   */
  public Map<String, ContinuousValidator> validations() {
    return validations;
  }

  /**
   * Each service's repairer, by service name (repairs travel through this migration's pipeline).
   *
   * @return the repairers.
   */
  public Map<String, Repairer> repairers() {
    return repairers;
  }

  /**
   * The audit log of validation runs, discrepancies and repairs.
   *
   * @return the log.
   */
  public AuditLog audit() {
    return audit;
  }

  /**
   * The router, when the configuration has a gateway.
   *
   * @return the router, or null.
   */
  public io.cutover.engine.route.Router router() {
    return router;
  }

  /**
   * What each side of each route answered through the gateway.
   *
   * @return the statistics.
   */
  public io.cutover.engine.route.RouteStats routeStats() {
    return routeStats;
  }

  /**
   * The gateway, when configured.
   *
   * @return the gateway, or null.
   */
  public io.cutover.engine.gateway.Gateway gateway() {
    return gateway;
  }

  /**
   * Starts a rollout of a route (replacing a finished one), ticking every 200 ms.
   *
   * @param route the route.
   * @param steps the schedule.
   * @param thresholds when to roll back.
   * @return the rollout.
   * @throws IllegalStateException if there is no gateway, or a rollout of that route is running.
   * @throws IllegalArgumentException naming the route or step that is wrong.
   */
  public synchronized io.cutover.engine.route.Rollout startRollout(String route,
      List<io.cutover.engine.route.Rollout.Step> steps, io.cutover.engine.route.Rollout.Thresholds thresholds) {
    if (router == null) {
      throw new IllegalStateException("this migration has no gateway (add a gateway section to the configuration)");
    }
    io.cutover.engine.route.Rollout running = rollouts.get(route);
    io.cutover.engine.route.Rollout.State now = running == null ? null : running.state(); // read once
    if (now == io.cutover.engine.route.Rollout.State.RUNNING || now == io.cutover.engine.route.Rollout.State.PENDING) {
      throw new IllegalStateException("a rollout of " + route + " is running; stop it first");
    }
    io.cutover.engine.route.Rollout rollout = new io.cutover.engine.route.Rollout(router, route, steps, thresholds,
        routeStats).start(ticker, java.time.Duration.ofMillis(200));
    rollouts.put(route, rollout);
    return rollout;
  }

  /**
   * The rollouts started, by route.
   *
   * @return the rollouts.
   */
  public Map<String, io.cutover.engine.route.Rollout> rollouts() {
    return rollouts;
  }

  /**
   * The checksum stage's clock.
   *
   * @return the clock.
   */
  public ChangeClock clock() {
    return clock;
  }

  /**
   * The configuration it runs.
   *
   * @return the configuration.
   */
  public MigrationConfig config() {
    return config;
  }

  /** Stops capture, drains the pipeline into the databases, and closes everything. */
  @Override
  public void close() {
    ticker.shutdownNow();
    apis.values().forEach(io.cutover.engine.apigen.ApiServer::close);
    if (backfillThread != null) {
      backfillThread.interrupt();
      try {
        backfillThread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (gateway != null) {
      gateway.close();
    }
    validations.values().forEach(ContinuousValidator::close);
    for (ChangeCapture capture : captures) {
      if (capture != kafkaCapture) {
        capture.close();
      }
    }
    if (capturePipeline != null) {
      capturePipeline.close(); // drains the captured changes into Kafka
      kafkaPublisher.close();
    }
    if (kafkaCapture != null) {
      kafkaCapture.close();
    }
    if (pipeline != capturePipeline) {
      pipeline.close();
    }
    syncs.values().forEach(BidirectionalSync::close);
    audit.close();
  }
}
