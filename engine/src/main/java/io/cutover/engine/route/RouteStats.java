package io.cutover.engine.route;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What each side of each route answered: requests, errors and latency, recorded by the gateway wait-free (adders
 * and HdrHistogram recorders), read by a {@link Rollout} in intervals and by metrics as totals. Thread-safe.
 */
public final class RouteStats {
  private final Map<String, Cell> cells = new ConcurrentHashMap<>();

  private static final class Cell {
    final LongAdder requests = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder intervalRequests = new LongAdder();
    final LongAdder intervalErrors = new LongAdder();
    final Recorder latency = new Recorder(3);
  }

  /**
   * The requests, errors and latencies of one interval.
   *
   * @param requests requests answered.
   * @param errors those that failed (5xx, refused, timed out).
   * @param latencyMicros their latencies.
   */
  public record Interval(long requests, long errors, Histogram latencyMicros) {}

  private Cell cell(String route, Target target) {
    return cells.computeIfAbsent(route + "|" + target, k -> new Cell());
  }

  /**
   * Records one answered request.
   *
   * @param route the route's name.
   * @param target the side that answered.
   * @param error whether it failed.
   * @param latencyMicros how long it took.
   */
  public void record(String route, Target target, boolean error, long latencyMicros) {
    Cell cell = cell(route, target);
    cell.requests.increment();
    cell.intervalRequests.increment();
    if (error) {
      cell.errors.increment();
      cell.intervalErrors.increment();
    }
    cell.latency.recordValue(Math.max(0, latencyMicros));
  }

  /**
   * What happened since the last call for this route and side (one reader per route and side: its rollout).
   *
   * @param route the route's name.
   * @param target the side.
   * @return the interval.
   */
  public Interval interval(String route, Target target) {
    Cell cell = cell(route, target);
    return new Interval(cell.intervalRequests.sumThenReset(), cell.intervalErrors.sumThenReset(),
        cell.latency.getIntervalHistogram());
  }

  /**
   * Requests answered since the start.
   *
   * @param route the route's name.
   * @param target the side.
   * @return the count.
   */
  public long requests(String route, Target target) {
    return cell(route, target).requests.sum();
  }

  /**
   * Failed requests since the start.
   *
   * @param route the route's name.
   * @param target the side.
   * @return the count.
   */
  public long errors(String route, Target target) {
    return cell(route, target).errors.sum();
  }
}
