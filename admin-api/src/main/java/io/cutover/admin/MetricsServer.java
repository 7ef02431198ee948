package io.cutover.admin;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineStats;
import io.cutover.engine.pipeline.StageStats;
import io.cutover.engine.sync.BidirectionalSync;
import io.cutover.engine.sync.SyncStats;
import io.cutover.engine.validate.ContinuousValidator;
import io.cutover.engine.validate.ValidationStats;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Executors;

/**
 * Prometheus text exposition of a running engine at {@code GET /metrics}: the pipeline (published, durable, in
 * flight, journal position, consumer checkpoints, per-stage handled counts and latency quantiles) and each
 * service's sync (changes per direction, conflicts by kind and outcome, parked rows, paused tables, skipped
 * writes, p95 commit-to-applied latency). Names follow Prometheus conventions ({@code cutover_} prefix, seconds,
 * {@code _total} counters). Binds to 127.0.0.1 by default; serves only {@code GET /metrics}, nothing else.
 */
public final class MetricsServer implements AutoCloseable {
  private final HttpServer server;
  private final Pipeline pipeline;
  private final Map<String, BidirectionalSync> syncs;
  private final Map<String, ContinuousValidator> validations = new TreeMap<>();

  private MetricsServer(HttpServer server, Pipeline pipeline, Map<String, BidirectionalSync> syncs) {
    this.server = server;
    this.pipeline = pipeline;
    this.syncs = new TreeMap<>(syncs);
  }

  private volatile io.cutover.engine.route.Router router;
  private volatile io.cutover.engine.route.RouteStats routeStats;

  /**
   * Also exports the gateway's routing ({@code cutover_router_*}): weights, requests and errors per side,
   * upstreams down.
   *
   * @param value the router.
   * @param stats what each side answered.
   * @return this server.
   */
  public MetricsServer routing(io.cutover.engine.route.Router value, io.cutover.engine.route.RouteStats stats) {
    this.routeStats = stats;
    this.router = value;
    return this;
  }

  /**
   * Also exports each service's validation counters ({@code cutover_validation_*}).
   *
   * @param byService the validations, by service name.
   * @return this server.
   */
  public MetricsServer validations(Map<String, ContinuousValidator> byService) {
    synchronized (validations) {
      validations.putAll(byService);
    }
    return this;
  }

  /**
   * Starts serving on a loopback port.
   *
   * @param port the port (0: any free port).
   * @param pipeline the engine's pipeline.
   * @param syncs each service's sync.
   * @return the running server.
   * @throws UncheckedIOException if the port cannot be bound.
   */
  public static MetricsServer start(int port, Pipeline pipeline, Map<String, BidirectionalSync> syncs) {
    return start("127.0.0.1", port, pipeline, syncs);
  }

  /**
   * Starts serving.
   *
   * @param host the address to bind (loopback unless you mean otherwise).
   * @param port the port (0: any free port).
   * @param pipeline the engine's pipeline.
   * @param syncs each service's sync.
   * @return the running server.
   * @throws UncheckedIOException if the address cannot be bound.
   */
  public static MetricsServer start(String host, int port, Pipeline pipeline, Map<String, BidirectionalSync> syncs) {
    HttpServer http;
    try {
      http = HttpServer.create(new InetSocketAddress(host, port), 16);
    } catch (IOException e) {
      throw new UncheckedIOException("metrics cannot listen on " + host + ":" + port + ": " + e.getMessage(), e);
    }
    MetricsServer metrics = new MetricsServer(http, pipeline, syncs);
    http.createContext("/", metrics::handle);
    http.setExecutor(Executors.newSingleThreadExecutor(r -> {
      Thread thread = new Thread(r, "cutover-metrics");
      thread.setDaemon(true);
      return thread;
    }));
    http.start();
    return metrics;
  }

  /**
   * The port listened on.
   *
   * @return the port.
   */
  public int port() {
    return server.getAddress().getPort();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      exchange.getRequestBody().readNBytes(4096);
      if (!exchange.getRequestURI().getPath().equals("/metrics")) {
        respond(exchange, 404, "not found: only /metrics is served\n");
      } else if (!exchange.getRequestMethod().equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET");
        respond(exchange, 405, "method not allowed: GET /metrics\n");
      } else {
        exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        respond(exchange, 200, render());
      }
    }
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /**
   * The current metrics in Prometheus text format.
   *
   * @return the text.
   */
  public String render() {
    StringBuilder out = new StringBuilder();
    PipelineStats stats = pipeline.stats();
    metric(out, "cutover_pipeline_published_total", "counter", "Changes published to the pipeline.", "",
        stats.published());
    metric(out, "cutover_pipeline_durable_total", "counter", "Changes durable in the journal.", "", stats.durable());
    metric(out, "cutover_pipeline_replayed_total", "counter", "Changes replayed from the journal at start.", "",
        stats.replayed());
    metric(out, "cutover_pipeline_in_flight", "gauge", "Changes published and not yet handled by every stage.", "",
        stats.inFlight());
    metric(out, "cutover_journal_last_index", "gauge", "The journal's last index.", "", stats.journalLastIndex());
    metric(out, "cutover_journal_bytes", "gauge", "Bytes the journal's files take on disk.", "",
        journalBytes(pipeline.journal().directory()));
    header(out, "cutover_journal_consumer_position", "gauge", "Last journal index each consumer has checkpointed.");
    for (Map.Entry<String, Long> consumer : new TreeMap<>(pipeline.journal().consumers()).entrySet()) {
      sample(out, "cutover_journal_consumer_position", label("consumer", consumer.getKey()), consumer.getValue());
    }
    header(out, "cutover_stage_handled_total", "counter", "Changes handled per stage and handler.");
    for (StageStats stage : stats.stages()) {
      sample(out, "cutover_stage_handled_total", labels(stage), stage.handled());
    }
    header(out, "cutover_stage_latency_seconds", "gauge", "Publish-to-handled latency quantiles per handler.");
    for (StageStats stage : stats.stages()) {
      sample(out, "cutover_stage_latency_seconds", labels(stage) + ",quantile=\"0.5\"", stage.p50Micros() / 1e6);
      sample(out, "cutover_stage_latency_seconds", labels(stage) + ",quantile=\"0.95\"", stage.p95Micros() / 1e6);
      sample(out, "cutover_stage_latency_seconds", labels(stage) + ",quantile=\"0.99\"", stage.p99Micros() / 1e6);
    }
    if (syncs.isEmpty()) {
      return out.toString();
    }
    Map<String, SyncStats> all = new TreeMap<>();
    Map<String, Integer> paused = new TreeMap<>();
    for (Map.Entry<String, BidirectionalSync> sync : syncs.entrySet()) {
      all.put(sync.getKey(), sync.getValue().stats());
      try {
        paused.put(sync.getKey(), sync.getValue().paused().size());
      } catch (IOException e) {
        paused.put(sync.getKey(), -1);
      }
    }
    // Each family's samples stay together after its HELP and TYPE lines, as the text format requires.
    header(out, "cutover_sync_changes_total", "counter", "Changes applied across, per service and direction.");
    all.forEach((service, s) -> {
      sample(out, "cutover_sync_changes_total", label("service", service) + ",direction=\"to_service\"",
          s.toService());
      sample(out, "cutover_sync_changes_total", label("service", service) + ",direction=\"to_monolith\"",
          s.toMonolith());
    });
    header(out, "cutover_sync_table_changes_total", "counter", "Changes applied across, per table and direction.");
    syncs.forEach((service, sync) -> sync.tableStats().forEach((table, t) -> {
      sample(out, "cutover_sync_table_changes_total", label("service", service) + "," + label("table", table)
          + ",direction=\"to_service\"", t.toService());
      sample(out, "cutover_sync_table_changes_total", label("service", service) + "," + label("table", table)
          + ",direction=\"to_monolith\"", t.toMonolith());
    }));
    header(out, "cutover_sync_table_lag_seconds", "gauge", "Source commit to applied of a table's latest change.");
    syncs.forEach((service, sync) -> sync.tableStats().forEach((table, t) -> sample(out,
        "cutover_sync_table_lag_seconds", label("service", service) + "," + label("table", table), t.lagMicros() / 1e6)));
    header(out, "cutover_sync_latency_seconds", "gauge", "Source commit to applied, 95th percentile.");
    all.forEach((service, s) -> {
      sample(out, "cutover_sync_latency_seconds", label("service", service)
          + ",direction=\"to_service\",quantile=\"0.95\"", s.p95ToServiceMicros() / 1e6);
      sample(out, "cutover_sync_latency_seconds", label("service", service)
          + ",direction=\"to_monolith\",quantile=\"0.95\"", s.p95ToMonolithMicros() / 1e6);
    });
    header(out, "cutover_sync_apply_latency_seconds", "histogram",
        "Source commit to applied, per service and direction.");
    for (Map.Entry<String, BidirectionalSync> sync : syncs.entrySet()) {
      for (boolean toService : new boolean[] {true, false}) {
        histogram(out, "cutover_sync_apply_latency_seconds", label("service", sync.getKey()) + ",direction=\""
            + (toService ? "to_service" : "to_monolith") + "\"", sync.getValue().latency(toService));
      }
    }
    header(out, "cutover_sync_conflicts_total", "counter", "Conflicts detected, per service and kind.");
    all.forEach((service, s) -> s.conflictsByKind().forEach((kind, count) -> sample(out,
        "cutover_sync_conflicts_total", label("service", service) + "," + label("kind",
            kind.name().toLowerCase(Locale.ROOT)), count)));
    header(out, "cutover_sync_conflict_outcomes_total", "counter", "Conflicts per outcome.");
    all.forEach((service, s) -> s.conflictsByOutcome().forEach((outcome, count) -> sample(out,
        "cutover_sync_conflict_outcomes_total", label("service", service) + "," + label("outcome",
            outcome.name().toLowerCase(Locale.ROOT)), count)));
    header(out, "cutover_sync_parked_rows", "gauge", "Rows parked for an operator.");
    all.forEach((service, s) -> sample(out, "cutover_sync_parked_rows", label("service", service), s.parked()));
    header(out, "cutover_sync_paused_tables", "gauge", "Tables paused (schema drift or an operator); -1 unknown.");
    paused.forEach((service, n) -> sample(out, "cutover_sync_paused_tables", label("service", service), n));
    header(out, "cutover_sync_skipped_writes_total", "counter", "Writes that found no row to change.");
    all.forEach((service, s) -> sample(out, "cutover_sync_skipped_writes_total", label("service", service),
        s.skippedWrites()));
    Map<String, ValidationStats> checks = new TreeMap<>();
    synchronized (validations) {
      validations.forEach((service, v) -> checks.put(service, v.stats()));
    }
    if (!checks.isEmpty()) {
      header(out, "cutover_validation_rounds_total", "counter", "Validation rounds completed, per service.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_rounds_total", label("service", service),
          v.rounds()));
      header(out, "cutover_validation_failures_total", "counter", "Validation rounds that failed.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_failures_total", label("service", service),
          v.failures()));
      header(out, "cutover_validation_rows_compared_total", "counter", "Rows read on both sides by validation.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_rows_compared_total", label("service", service),
          v.rowsCompared()));
      header(out, "cutover_validation_discrepancies_total", "counter", "Discrepancies reported (alerts).");
      checks.forEach((service, v) -> sample(out, "cutover_validation_discrepancies_total", label("service", service),
          v.reported()));
      header(out, "cutover_validation_held_back_total", "counter",
          "Discrepancies held back as possibly in flight (eventual level), per round seen.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_held_back_total", label("service", service),
          v.heldBack()));
      header(out, "cutover_validation_repairs_total", "counter", "Repairs sent through the pipeline.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_repairs_total", label("service", service),
          v.repaired()));
      header(out, "cutover_validation_outstanding", "gauge", "Discrepancies reported by the last round.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_outstanding", label("service", service),
          v.outstanding()));
      header(out, "cutover_validation_lag_alerts_total", "counter",
          "Times the pipeline was found behind by more than the validation lag tolerance (one per episode).");
      checks.forEach((service, v) -> sample(out, "cutover_validation_lag_alerts_total", label("service", service),
          v.lagAlerts()));
      header(out, "cutover_validation_behind_seconds", "gauge",
          "How far behind the pipeline was found by the last validation round when more than the tolerance, else 0.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_behind_seconds", label("service", service),
          v.behindMillis() / 1000.0));
      header(out, "cutover_validation_full_scans_total", "counter", "Rounds that scanned the tables in full.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_full_scans_total", label("service", service),
          v.fullScans()));
      header(out, "cutover_validation_rows_rechecked_total", "counter",
          "Changed rows read again by incremental rounds.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_rows_rechecked_total", label("service", service),
          v.rowsRechecked()));
      header(out, "cutover_validation_last_round_seconds", "gauge", "How long the last round took.");
      checks.forEach((service, v) -> sample(out, "cutover_validation_last_round_seconds", label("service", service),
          v.lastRoundMillis() / 1e3));
    }
    io.cutover.engine.route.Router r = router;
    if (r != null) {
      io.cutover.engine.route.RoutingTable table = r.table();
      header(out, "cutover_router_weight_bps", "gauge", "Share of a route's requests sent to its service (0-10000).");
      table.routes().forEach(route -> sample(out, "cutover_router_weight_bps", label("route", route.name()),
          route.weightBps()));
      header(out, "cutover_router_requests_total", "counter", "Requests answered through the gateway, per side.");
      header(out, "cutover_router_errors_total", "counter", "Failed requests (5xx, refused, timed out), per side.");
      for (io.cutover.engine.route.Route route : table.routes()) {
        for (io.cutover.engine.route.Target side : io.cutover.engine.route.Target.values()) {
          String labels = label("route", route.name()) + "," + label("side", side.name().toLowerCase(Locale.ROOT));
          sample(out, "cutover_router_requests_total", labels, routeStats.requests(route.name(), side));
          sample(out, "cutover_router_errors_total", labels, routeStats.errors(route.name(), side));
        }
      }
      header(out, "cutover_router_upstream_down", "gauge", "1 while an upstream is marked down.");
      java.util.Set<String> upstreams = new java.util.TreeSet<>();
      upstreams.add(io.cutover.engine.route.Router.MONOLITH);
      table.routes().forEach(route -> upstreams.add(route.service()));
      upstreams.forEach(u -> sample(out, "cutover_router_upstream_down", label("upstream", u), r.isDown(u) ? 1 : 0));
    }
    return out.toString();
  }

  private static final double[] BUCKETS_SECONDS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
      30, 60};

  /** A Prometheus histogram from an HdrHistogram of microseconds: cumulative buckets, sum and count. */
  private static void histogram(StringBuilder out, String name, String labels,
      org.HdrHistogram.Histogram micros) {
    for (double le : BUCKETS_SECONDS) {
      long upTo = micros.getTotalCount() == 0 ? 0 : micros.getCountBetweenValues(0, (long) (le * 1e6));
      sample(out, name + "_bucket", labels + ",le=\"" + le + "\"", upTo);
    }
    sample(out, name + "_bucket", labels + ",le=\"+Inf\"", micros.getTotalCount());
    sample(out, name + "_sum", labels, micros.getTotalCount() == 0 ? 0 : micros.getMean() * micros.getTotalCount()
        / 1e6);
    sample(out, name + "_count", labels, micros.getTotalCount());
  }

  private static String labels(StageStats stage) {
    return label("stage", stage.stage()) + "," + label("handler", stage.handler());
  }

  /** The size of the journal's files; 0 if the directory cannot be listed (it may be rolling a file). */
  private static long journalBytes(java.nio.file.Path directory) {
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(directory)) {
      return files.filter(java.nio.file.Files::isRegularFile).mapToLong(f -> {
        try {
          return java.nio.file.Files.size(f);
        } catch (java.io.IOException gone) {
          return 0;
        }
      }).sum();
    } catch (java.io.IOException | java.io.UncheckedIOException e) {
      return 0;
    }
  }

  private static String label(String name, String value) {
    return name + "=\"" + value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  private static void header(StringBuilder out, String name, String type, String help) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n');
    out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
  }

  private static void metric(StringBuilder out, String name, String type, String help, String labels,
      double value) {
    header(out, name, type, help);
    sample(out, name, labels, value);
  }

  private static void sample(StringBuilder out, String name, String labels, double value) {
    out.append(name);
    if (!labels.isEmpty()) {
      out.append('{').append(labels).append('}');
    }
    out.append(' ');
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      out.append((long) value);
    } else {
      out.append(value);
    }
    out.append('\n');
  }

  /** Stops serving. */
  @Override
  public void close() {
    server.stop(0);
  }
}
