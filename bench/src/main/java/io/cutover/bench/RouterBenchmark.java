package io.cutover.bench;

import io.cutover.engine.route.Decision;
import io.cutover.engine.route.KeySource;
import io.cutover.engine.route.RequestView;
import io.cutover.engine.route.Route;
import io.cutover.engine.route.Router;
import io.cutover.engine.route.RoutingTable;
import io.cutover.engine.route.Rule;
import io.cutover.engine.route.Target;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One routing decision: a table of 20 routes (the request matches the 12th by prefix), a canary rule that does not
 * match, a sticky header key hashed to its bucket. Baseline in the same run: the naive split a hand-written gateway
 * does, a random number against the weight on one route found by prefix. Sample mode gives the percentiles.
 *
 * <pre>
 * java -jar bench/target/benchmarks.jar RouterBenchmark -bm sample -tu ns
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class RouterBenchmark {
  private Router router;
  private final Request[] requests = new Request[1024];
  private int next;
  private String[] prefixes;

  /** A request with one header. */
  static final class Request implements RequestView {
    final String path;
    final String user;

    Request(String path, String user) {
      this.path = path;
      this.user = user;
    }

    @Override
    public String method() {
      return "GET";
    }

    @Override
    public String path() {
      return path;
    }

    @Override
    public String header(String name) {
      return name.equals("x-user") ? user : null;
    }

    @Override
    public String cookie(String name) {
      return null;
    }

    @Override
    public String query(String name) {
      return null;
    }
  }

  /** Builds the table and the requests. */
  @Setup
  public void setUp() {
    List<Route> routes = new java.util.ArrayList<>();
    prefixes = new String[20];
    for (int i = 0; i < 20; i++) {
      prefixes[i] = "/api/service" + i;
      routes.add(Route.of("r" + i, prefixes[i], "s" + i, 2_500, KeySource.parse("header:x-user"))
          .withRules(List.of(Rule.header("x-canary", "1", Target.SERVICE, "canary"))));
    }
    router = new Router(new RoutingTable(1, routes));
    for (int i = 0; i < requests.length; i++) {
      requests[i] = new Request("/api/service11/orders/" + i, "user-" + i);
    }
  }

  /**
   * The router's decision.
   *
   * @return the decision.
   */
  @Benchmark
  public Decision decide() {
    return router.decide(requests[next++ & 1023]);
  }

  /**
   * The baseline: prefix scan and a random draw.
   *
   * @return the side.
   */
  @Benchmark
  public boolean naiveRandomSplit() {
    Request request = requests[next++ & 1023];
    for (String prefix : prefixes) {
      if (request.path().startsWith(prefix)) {
        return ThreadLocalRandom.current().nextInt(10_000) < 2_500;
      }
    }
    return false;
  }
}
