package io.cutover.engine.apigen.internal;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-endpoint request counts by status, errors and latency histograms, written in the Prometheus text format.
 * Endpoints are route templates ({@code GET /v1/orders/{key}}), so the label set stays bounded. Thread-safe;
 * recording is lock-free.
 */
public final class ApiMetrics {
  private static final double[] BOUNDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
      5, 10};
  private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();

  private static final class Endpoint {
    final Map<Integer, LongAdder> statuses = new ConcurrentHashMap<>();
    final LongAdder errors = new LongAdder();
    final LongAdder[] buckets = new LongAdder[BOUNDS.length];
    final LongAdder count = new LongAdder();
    final LongAdder sumNanos = new LongAdder();

    Endpoint() {
      for (int i = 0; i < buckets.length; i++) {
        buckets[i] = new LongAdder();
      }
    }
  }

  /**
   * Records one request.
   *
   * @param endpoint the endpoint's template.
   * @param status the response's status.
   * @param nanos how long it took.
   */
  public void record(String endpoint, int status, long nanos) {
    Endpoint e = endpoints.computeIfAbsent(endpoint, k -> new Endpoint());
    e.statuses.computeIfAbsent(status, k -> new LongAdder()).increment();
    if (status >= 500) {
      e.errors.increment();
    }
    e.count.increment();
    e.sumNanos.add(nanos);
    double seconds = nanos / 1e9;
    for (int i = 0; i < BOUNDS.length; i++) {
      if (seconds <= BOUNDS[i]) {
        e.buckets[i].increment();
        break;
      }
    }
  }

  /**
   * Requests recorded for an endpoint with a status.
   *
   * @param endpoint the endpoint.
   * @param status the status.
   * @return the count.
   */
  public long requests(String endpoint, int status) {
    Endpoint e = endpoints.get(endpoint);
    LongAdder n = e == null ? null : e.statuses.get(status);
    return n == null ? 0 : n.sum();
  }

  /**
   * The metrics in the Prometheus text format (version 0.0.4).
   *
   * @return the text.
   */
  public String prometheus() {
    StringBuilder s = new StringBuilder();
    Map<String, Endpoint> sorted = new TreeMap<>(endpoints);
    s.append("# HELP cutover_api_requests_total API requests by endpoint and status.\n")
        .append("# TYPE cutover_api_requests_total counter\n");
    sorted.forEach((name, e) -> new TreeMap<>(e.statuses).forEach((status, n) ->
        s.append("cutover_api_requests_total{endpoint=\"").append(escape(name)).append("\",status=\"")
            .append(status).append("\"} ").append(n.sum()).append('\n')));
    s.append("# HELP cutover_api_errors_total API requests answered with a 5xx status.\n")
        .append("# TYPE cutover_api_errors_total counter\n");
    sorted.forEach((name, e) -> s.append("cutover_api_errors_total{endpoint=\"").append(escape(name)).append("\"} ")
        .append(e.errors.sum()).append('\n'));
    s.append("# HELP cutover_api_request_duration_seconds API request latency.\n")
        .append("# TYPE cutover_api_request_duration_seconds histogram\n");
    sorted.forEach((name, e) -> {
      long cumulative = 0;
      for (int i = 0; i < BOUNDS.length; i++) {
        cumulative += e.buckets[i].sum();
        s.append("cutover_api_request_duration_seconds_bucket{endpoint=\"").append(escape(name)).append("\",le=\"")
            .append(BOUNDS[i]).append("\"} ").append(cumulative).append('\n');
      }
      long count = e.count.sum();
      s.append("cutover_api_request_duration_seconds_bucket{endpoint=\"").append(escape(name))
          .append("\",le=\"+Inf\"} ").append(count).append('\n');
      s.append("cutover_api_request_duration_seconds_sum{endpoint=\"").append(escape(name)).append("\"} ")
          .append(e.sumNanos.sum() / 1e9).append('\n');
      s.append("cutover_api_request_duration_seconds_count{endpoint=\"").append(escape(name)).append("\"} ")
          .append(count).append('\n');
    });
    return s.toString();
  }

  private static String escape(String label) {
    return label.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }
}
