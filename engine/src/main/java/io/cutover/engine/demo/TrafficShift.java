package io.cutover.engine.demo;

import com.sun.net.httpserver.HttpServer;
import io.cutover.engine.gateway.Gateway;
import io.cutover.engine.gateway.GatewayConfig;
import io.cutover.engine.route.KeySource;
import io.cutover.engine.route.Route;
import io.cutover.engine.route.RouteStats;
import io.cutover.engine.route.Router;
import io.cutover.engine.route.RoutingTable;
import io.cutover.engine.route.Rollout;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
 * The demo's traffic step: the product API served by the monolith and by the inventory service (each reading its
 * own database), the gateway in front, shoppers browsing through it while a rollout moves them 0 -> 50 -> 100%;
 * the first rollout meets injected errors at 50% and rolls back by itself, the second completes.
 */
final class TrafficShift {
  private TrafficShift() {}

  /** What the traffic step saw. */
  record Result(long requests, long toMonolith, long toService, long dropped, String rollbackReason,
      Rollout.State first, Rollout.State second, int finalWeight) {}

  static Result run(DataSource monolith, DataSource inventory, int products, PrintWriter out) throws Exception {
    AtomicBoolean failing = new AtomicBoolean();
    HttpServer monolithApi = api(monolith, new AtomicBoolean());
    HttpServer inventoryApi = api(inventory, failing);
    Router router = new Router(new RoutingTable(1, List.of(Route.of("products", "/api/products", "inventory", 0,
        KeySource.parse("header:x-user")))));
    RouteStats stats = new RouteStats();
    ScheduledExecutorService ticks = Executors.newSingleThreadScheduledExecutor();
    ExecutorService shoppers = Executors.newFixedThreadPool(8);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong requests = new AtomicLong();
    AtomicLong toMonolith = new AtomicLong();
    AtomicLong toService = new AtomicLong();
    AtomicLong dropped = new AtomicLong();
    GatewayConfig config = GatewayConfig.loopback(0, Map.of("monolith", monolithApi.getAddress(), "inventory",
        inventoryApi.getAddress())).withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(10), 5,
        Duration.ofSeconds(1));
    try (Gateway gateway = Gateway.start(config, router, stats)) {
      HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
      List<Future<?>> load = new ArrayList<>();
      for (int s = 0; s < 8; s++) {
        load.add(shoppers.submit(() -> {
          while (!stop.get()) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/api/products/SKU-" + (1 + random.nextInt(products)))).header("x-user", "shopper-"
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
      monolithApi.stop(0);
      inventoryApi.stop(0);
    }
  }

  private static Rollout.State await(Rollout rollout) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while ((rollout.state() == Rollout.State.RUNNING || rollout.state() == Rollout.State.PENDING)
        && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return rollout.state();
  }

  /** A product API over one database; {@code failing} makes half its answers 500. */
  private static HttpServer api(DataSource ds, AtomicBoolean failing) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 64);
    server.createContext("/api/products/", exchange -> {
      String sku = exchange.getRequestURI().getPath().substring("/api/products/".length());
      int status = 200;
      String body;
      if (failing.get() && ThreadLocalRandom.current().nextBoolean()) {
        status = 500;
        body = "{\"title\":\"Internal Server Error\",\"status\":500}";
      } else {
        try (Connection c = ds.getConnection();
             PreparedStatement st = c.prepareStatement("SELECT title, price, stock FROM products WHERE sku = ?")) {
          st.setString(1, sku);
          try (ResultSet rs = st.executeQuery()) {
            body = rs.next() ? "{\"sku\":\"" + sku + "\",\"title\":\"" + rs.getString(1) + "\",\"price\":"
                + rs.getBigDecimal(2) + ",\"stock\":" + rs.getInt(3) + "}" : "{\"status\":404}";
            status = body.startsWith("{\"status\":404") ? 404 : 200;
          }
        } catch (java.sql.SQLException e) {
          status = 500;
          body = "{\"status\":500}";
        }
      }
      byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, bytes.length);
      try (OutputStream o = exchange.getResponseBody()) {
        o.write(bytes);
      }
    });
    server.setExecutor(Executors.newFixedThreadPool(8, r -> {
      Thread thread = new Thread(r, "demo-api");
      thread.setDaemon(true);
      return thread;
    }));
    server.start();
    return server;
  }
}
