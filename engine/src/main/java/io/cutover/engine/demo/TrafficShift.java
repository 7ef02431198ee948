package io.cutover.engine.demo;

import io.cutover.engine.apigen.ApiServer;
import io.cutover.engine.apigen.ApiServerConfig;
import io.cutover.engine.apigen.ApiVersions;
import io.cutover.engine.gateway.Gateway;
import io.cutover.engine.gateway.GatewayConfig;
import io.cutover.engine.route.KeySource;
import io.cutover.engine.route.Route;
import io.cutover.engine.route.RouteStats;
import io.cutover.engine.route.Router;
import io.cutover.engine.route.RoutingTable;
import io.cutover.engine.route.Rollout;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * The demo's traffic step: the product API generated from the monolith's table and from the inventory service's
 * (each reading its own database), the gateway in front, shoppers browsing through it while a rollout moves them
 * 0 -> 50 -> 100%; the first rollout meets errors injected by a hook at 50% and rolls back by itself, the second
 * completes.
 */
final class TrafficShift {
  private TrafficShift() {}

  /** What the traffic step saw. */
  record Result(long requests, long toMonolith, long toService, long dropped, String rollbackReason,
      Rollout.State first, Rollout.State second, int finalWeight) {}

  static Result run(DataSource monolith, ApiServer inventoryApi, AtomicBoolean failing, int products,
      PrintWriter out) throws Exception {
    ApiServer monolithApi = ApiServer.start(ApiServerConfig.loopback(0), monolith, "monolith", List.of("products"),
        ApiVersions.inMemory(), List.of());
    Router router = new Router(new RoutingTable(1, List.of(Route.of("products", "/v1/products", "inventory", 0,
        KeySource.parse("header:x-user")))));
    RouteStats stats = new RouteStats();
    ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
    ExecutorService shoppers = Executors.newFixedThreadPool(8);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong requests = new AtomicLong();
    AtomicLong toMonolith = new AtomicLong();
    AtomicLong toService = new AtomicLong();
    AtomicLong dropped = new AtomicLong();
    GatewayConfig config = GatewayConfig.loopback(0, Map.of("monolith", new InetSocketAddress("127.0.0.1",
        monolithApi.port()), "inventory", new InetSocketAddress("127.0.0.1", inventoryApi.port()))).withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(10), 5,
        Duration.ofSeconds(1));
    try (Gateway gateway = Gateway.start(config, router, stats)) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<Future<?>> load = new ArrayList<>();
      for (int s = 0; s < 8; s++) {
        load.add(shoppers.submit(() -> {
          while (!stop.get()) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/v1/products/SKU-" + (1 + random.nextInt(products)))).header("x-user", "shopper-"
                + random.nextInt(500)).timeout(Duration.ofSeconds(10)).build();
            try {
              HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
              requests.incrementAndGet();
              int status = response.statusCode();
              if (status == 502 || status == 503 || status == 504) {
                dropped.incrementAndGet();
              } else if (response.headers().firstValue("x-cutover-side").orElse("").equals("inventory")) {
                toService.incrementAndGet();
              } else {
                toMonolith.incrementAndGet();
              }
            } catch (IOException e) {
              dropped.incrementAndGet();
            }
          }
          return null;
        }));
      }
      Rollout.Thresholds thresholds = new Rollout.Thresholds(0.05, 2_000_000, Duration.ofSeconds(2), 30);
      failing.set(true); // a bad build of the service: half its answers fail
      // the 50% step holds long enough to be judged even on a slow machine; it rolls back as soon as it is
      Rollout first = new Rollout(router, "products", List.of(new Rollout.Step(5_000, Duration.ofSeconds(20)),
          new Rollout.Step(10_000, Duration.ofSeconds(1))), thresholds, stats).start(ticks, Duration.ofMillis(100));
      List<Rollout.Step> steps = List.of(new Rollout.Step(5_000, Duration.ofMillis(1_500)),
          new Rollout.Step(10_000, Duration.ofMillis(1_000)));
      Rollout.State firstEnd = await(first);
      out.println("      rollout 1: " + firstEnd.name().toLowerCase(java.util.Locale.ROOT) + " "
          + first.reason() + " -> weight " + router.table().route("products").weightBps() + " bps");
      failing.set(false); // fixed
      Thread.sleep(400); // answers of the bad build still in flight land before the new rollout starts counting
      long back = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (router.isDown("inventory") && System.nanoTime() < back) {
        Thread.sleep(50); // an ejection of the bad build ends before the fixed one is rolled out
      }
      Rollout second = new Rollout(router, "products", steps, thresholds, stats).start(ticks, Duration.ofMillis(100));
      Rollout.State secondEnd = await(second);
      out.println("      rollout 2: " + secondEnd.name().toLowerCase(java.util.Locale.ROOT)
          + (second.reason().isEmpty() ? "" : " " + second.reason()) + " -> weight " + router.table().route("products").weightBps() + " bps");
      Thread.sleep(300);
      stop.set(true);
      for (Future<?> f : load) {
        f.get();
      }
      return new Result(requests.get(), toMonolith.get(), toService.get(), dropped.get(), first.reason(), firstEnd,
          secondEnd, router.table().route("products").weightBps());
    } finally {
      stop.set(true);
      shoppers.shutdownNow();
      ticks.shutdownNow();
      monolithApi.close();
    }
  }

  private static Rollout.State await(Rollout rollout) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    Rollout.State state = rollout.state(); // read once per check: it moves on while we look
    while ((state == Rollout.State.RUNNING || state == Rollout.State.PENDING) && System.nanoTime() < deadline) {
      Thread.sleep(20);
      state = rollout.state();
    }
    return state;
  }
}
