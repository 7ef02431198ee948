package io.cutover.engine.route;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import org.HdrHistogram.Histogram;

/**
 * A gradual rollout of one route: a schedule of steps (weight, hold time) that advances by itself, and rolls back
 * at once (weight 0) when the service's error rate or p99 latency over a sliding window crosses a threshold
 * (Flagger's and Argo Rollouts' canary analysis), or when the service is marked down (a failed health check or
 * ejection: its traffic fails over to the monolith and could not be judged). {@link #tick} is called on a schedule (or by tests with their
 * own clock). Thread-safe.
 */
public final class Rollout {
  private final Router router;
  private final String route;
  private final List<Step> steps;
  private final Thresholds thresholds;
  private final RouteStats stats;
  private final Deque<Sample> window = new ArrayDeque<>();
  private int step = -1;
  private long stepStarted;
  private State state = State.PENDING;
  private String reason = "";
  private java.util.concurrent.ScheduledFuture<?> ticker;

  /** Where the rollout is. */
  public enum State {
    /** Not started. */
    PENDING,
    /** Holding a step. */
    RUNNING,
    /** Every step held: the route is at the last weight. */
    DONE,
    /** A threshold was crossed: the route is back at 0. */
    ROLLED_BACK,
    /** Stopped by an operator at the current weight. */
    STOPPED
  }

  /**
   * One step.
   *
   * @param weightBps the service's share during the step.
   * @param hold how long to hold it before the next.
   */
  public record Step(int weightBps, Duration hold) {
    /** Checks the values. */
    public Step {
      if (weightBps < 0 || weightBps > Route.ALL) {
        throw new IllegalArgumentException("rollout step weight must be 0 to 10000, got " + weightBps);
      }
      if (hold.isNegative()) {
        throw new IllegalArgumentException("rollout step hold must not be negative, got " + hold);
      }
    }
  }

  /**
   * When to roll back.
   *
   * @param maxErrorRate the highest share of failed service requests allowed over the window (0-1).
   * @param maxP99Micros the highest p99 latency allowed over the window.
   * @param window how far back to look.
   * @param minRequests the fewest service requests in the window before judging.
   */
  public record Thresholds(double maxErrorRate, long maxP99Micros, Duration window, long minRequests) {
    /** Checks the values. */
    public Thresholds {
      if (maxErrorRate < 0 || maxErrorRate > 1 || maxP99Micros < 1 || window.toMillis() < 1 || minRequests < 0) {
        throw new IllegalArgumentException("rollout thresholds: error rate 0-1, p99 and window positive, min "
            + "requests 0 or more");
      }
    }
  }

  private record Sample(long atNanos, long requests, long errors, Histogram latency) {}

  /**
   * A rollout.
   *
   * @param router the router whose route it moves.
   * @param route the route's name.
   * @param steps the schedule (at least one step).
   * @param thresholds when to roll back.
   * @param stats what the gateway recorded.
   */
  public Rollout(Router router, String route, List<Step> steps, Thresholds thresholds, RouteStats stats) {
    this.router = Objects.requireNonNull(router, "router");
    if (router.table().route(route) == null) {
      throw new IllegalArgumentException("no route named " + route);
    }
    this.route = route;
    if (steps.isEmpty()) {
      throw new IllegalArgumentException("a rollout needs at least one step");
    }
    this.steps = List.copyOf(steps);
    this.thresholds = Objects.requireNonNull(thresholds, "thresholds");
    this.stats = Objects.requireNonNull(stats, "stats");
  }

  /**
   * Advances the rollout: starts it, judges the window, moves to the next step when the hold is over.
   *
   * @param nowNanos the time ({@link System#nanoTime()} in production).
   * @return the state after the tick.
   */
  public synchronized State tick(long nowNanos) {
    if (state == State.DONE || state == State.ROLLED_BACK || state == State.STOPPED) {
      return state;
    }
    if (state == State.PENDING) {
      state = State.RUNNING;
      enter(0, nowNanos);
      return state;
    }
    String service = router.table().route(route).service();
    if (router.isDown(service) && steps.get(step).weightBps() > 0) {
      // health checks or ejection took the service out: its traffic fails over and cannot be judged
      router.rollback(route);
      state = State.ROLLED_BACK;
      reason = "at step " + (step + 1) + " (" + steps.get(step).weightBps() + " bps): " + service
          + " was marked down (health check or ejection)";
      return state;
    }
    RouteStats.Interval interval = stats.interval(route, Target.SERVICE);
    window.addLast(new Sample(nowNanos, interval.requests(), interval.errors(), interval.latencyMicros()));
    while (!window.isEmpty() && nowNanos - window.peekFirst().atNanos() > thresholds.window().toNanos()) {
      window.removeFirst();
    }
    long requests = 0;
    long errors = 0;
    Histogram latency = new Histogram(3);
    for (Sample s : window) {
      requests += s.requests();
      errors += s.errors();
      latency.add(s.latency());
    }
    if (requests >= Math.max(1, thresholds.minRequests())) {
      double errorRate = errors / (double) requests;
      long p99 = latency.getValueAtPercentile(99);
      if (errorRate > thresholds.maxErrorRate() || p99 > thresholds.maxP99Micros()) {
        router.rollback(route);
        state = State.ROLLED_BACK;
        reason = String.format(java.util.Locale.ROOT, "at step %d (%d bps): error rate %.2f%% (max %.2f%%), p99 %d "
            + "us (max %d) over %d requests", step + 1, steps.get(step).weightBps(), 100 * errorRate,
            100 * thresholds.maxErrorRate(), p99, thresholds.maxP99Micros(), requests);
        return state;
      }
    }
    if (nowNanos - stepStarted >= steps.get(step).hold().toNanos()) {
      if (step + 1 == steps.size()) {
        state = State.DONE;
      } else {
        enter(step + 1, nowNanos);
      }
    }
    return state;
  }

  private void enter(int index, long nowNanos) {
    step = index;
    stepStarted = nowNanos;
    window.clear();
    stats.interval(route, Target.SERVICE); // judge each step on its own traffic
    router.setWeight(route, steps.get(index).weightBps());
  }

  /**
   * Runs the rollout on a schedule: a tick every period on the given executor until it is done, rolled back or
   * stopped.
   *
   * @param executor where ticks run.
   * @param period how often.
   * @return this.
   */
  public Rollout start(java.util.concurrent.ScheduledExecutorService executor, Duration period) {
    java.util.concurrent.ScheduledFuture<?>[] self = new java.util.concurrent.ScheduledFuture<?>[1];
    synchronized (this) {
      self[0] = executor.scheduleAtFixedRate(() -> {
        State s = tick(System.nanoTime());
        if (s != State.RUNNING && s != State.PENDING) {
          synchronized (Rollout.this) {
            if (ticker != null) {
              ticker.cancel(false);
            }
          }
        }
      }, 0, period.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
      ticker = self[0];
    }
    return this;
  }

  /** Stops the rollout where it is (the weight stays). */
  public synchronized void stop() {
    if (state == State.PENDING || state == State.RUNNING) {
      state = State.STOPPED;
    }
    if (ticker != null) {
      ticker.cancel(false);
    }
  }

  /**
   * The state.
   *
   * @return the state.
   */
  public synchronized State state() {
    return state;
  }

  /**
   * The step being held, from 0 (-1 before the start).
   *
   * @return the step.
   */
  public synchronized int step() {
    return step;
  }

  /**
   * Why it rolled back.
   *
   * @return the reason, or empty.
   */
  public synchronized String reason() {
    return reason;
  }
}
