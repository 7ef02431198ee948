package io.cutover.engine.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.cutover.engine.route.KeySource;
import io.cutover.engine.route.Route;
import io.cutover.engine.route.RouteStats;
import io.cutover.engine.route.Router;
import io.cutover.engine.route.RoutingTable;
import io.cutover.engine.route.Rule;
import io.cutover.engine.route.Target;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The gateway over real HTTP: two upstreams on loopback, a real client, weights moved and rolled back under
 * concurrent load with every request answered exactly once by the side it names; retries, ejection, bounds.
 */
@Timeout(120)
class GatewayTest {
  private static final AtomicLong HEALTH = new AtomicLong();
  private HttpServer monolith;
  private HttpServer orders;
  private final AtomicInteger ordersStatus = new AtomicInteger(200);
  private final AtomicLong ordersServed = new AtomicLong();
  private final AtomicLong monolithServed = new AtomicLong();
  private final HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  private static HttpServer upstream(String name, AtomicInteger status, AtomicLong served) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 128);
    server.createContext("/health", exchange -> {
      HEALTH.incrementAndGet();
      exchange.sendResponseHeaders(status.get() == 200 ? 204 : status.get(), -1);
      exchange.close();
    });
    server.createContext("/", exchange -> {
      byte[] body = (name + " " + exchange.getRequestHeaders().getFirst("x-request-id") + " "
          + exchange.getRequestMethod() + " " + new String(exchange.getRequestBody().readAllBytes(),
          StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
      served.incrementAndGet();
      SERVED_IDS.merge(String.valueOf(exchange.getRequestHeaders().getFirst("x-request-id")), 1, Integer::sum);
      exchange.sendResponseHeaders(status.get(), body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.start();
    return server;
  }

  /** Requests served upstream, by the gateway's request id (a retry keeps its request's id). */
  private static final java.util.concurrent.ConcurrentHashMap<String, Integer> SERVED_IDS =
      new java.util.concurrent.ConcurrentHashMap<>();

  @BeforeEach
  void upstreams() throws IOException {
    SERVED_IDS.clear();
    monolith = upstream("monolith", new AtomicInteger(200), monolithServed);
    orders = upstream("orders", ordersStatus, ordersServed);
  }

  @AfterEach
  void stop() {
    monolith.stop(0);
    orders.stop(0);
  }

  private Gateway gateway(Router router, RouteStats stats, GatewayConfig config) throws InterruptedException {
    return Gateway.start(config, router, stats);
  }

  private GatewayConfig config() {
    return GatewayConfig.loopback(0, Map.of("monolith", monolith.getAddress(), "orders", orders.getAddress()));
  }

  private static Router router(int weight) {
    return new Router(new RoutingTable(1, List.of(Route.of("orders", "/api/orders", "orders", weight,
        KeySource.parse("header:x-user")))));
  }

  private HttpResponse<String> get(int port, String path, String user) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
        .timeout(Duration.ofSeconds(20));
    if (user != null) {
      request.header("x-user", user);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void everyRequestIsAnsweredOnceByTheSideItNamesWhileWeightsMoveAndRollBack() throws Exception {
    Router router = router(0);
    RouteStats stats = new RouteStats();
    try (Gateway gateway = gateway(router, stats, config())) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong answered = new AtomicLong();
      AtomicLong bad = new AtomicLong();
      ExecutorService clients = Executors.newFixedThreadPool(8);
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < 8; c++) {
        int id = c;
        futures.add(clients.submit(() -> {
          int n = 0;
          while (!stop.get()) {
            HttpResponse<String> response = get(gateway.port(), "/api/orders/" + n, "user-" + id + "-" + (n++ % 50));
            String side = response.headers().firstValue("x-cutover-side").orElse("?");
            String requestId = response.headers().firstValue("x-request-id").orElse("?");
            if (response.statusCode() != 200 || !response.body().startsWith(side + " " + requestId + " GET")) {
              bad.incrementAndGet();
            }
            answered.incrementAndGet();
          }
          return null;
        }));
      }
      for (int step = 0; step <= 10; step++) {
        router.setWeight("orders", step * 1_000);
        awaitMoreAnswers(answered, 25);
        if (step == 5) {
          router.rollback("orders");
          awaitMoreAnswers(answered, 25);
        }
      }
      stop.set(true);
      for (Future<?> f : futures) {
        f.get();
      }
      clients.shutdown();
      assertTrue(answered.get() > 200, "requests answered: " + answered.get());
      assertEquals(0, bad.get(), "every answer came once, whole, from the side it names");
      assertEquals(answered.get(), ordersServed.get() + monolithServed.get(), "nothing dropped, nothing doubled");
      assertTrue(ordersServed.get() > 0 && monolithServed.get() > 0);
      assertEquals(ordersServed.get(), stats.requests("orders", Target.SERVICE));
    }
  }

  /** Waits for traffic rather than for time, so a slow machine only makes the test longer. */
  private static void awaitMoreAnswers(AtomicLong answered, int more) throws InterruptedException {
    long target = answered.get() + more;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (answered.get() < target && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
  }

  @Test
  void stickyUsersVariantsRequestIdsAndTheRouteLessPath() throws Exception {
    Router router = router(5_000);
    router.setRules("orders", List.of(Rule.header("x-canary", "1", Target.SERVICE, "canary")));
    try (Gateway gateway = gateway(router, new RouteStats(), config())) {
      String first = get(gateway.port(), "/api/orders/1", "alice").headers().firstValue("x-cutover-side")
          .orElseThrow();
      for (int i = 0; i < 20; i++) {
        assertEquals(first, get(gateway.port(), "/api/orders/" + i, "alice").headers().firstValue("x-cutover-side")
            .orElseThrow(), "alice stays on one side");
      }
      HttpResponse<String> canary = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + gateway.port() + "/api/orders/9")).header("x-canary", "1").header("x-request-id", "req-42").build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals("orders", canary.headers().firstValue("x-cutover-side").orElseThrow());
      assertEquals("canary", canary.headers().firstValue("x-cutover-variant").orElseThrow());
      assertEquals("req-42", canary.headers().firstValue("x-request-id").orElseThrow());
      assertTrue(canary.body().startsWith("orders req-42 GET"), "the request id went upstream: " + canary.body());
      HttpResponse<String> other = get(gateway.port(), "/static/x.css", null);
      assertEquals("monolith", other.headers().firstValue("x-cutover-side").orElseThrow());
      HttpResponse<String> posted = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
          + gateway.port() + "/api/orders")).header("x-canary", "1")
          .POST(HttpRequest.BodyPublishers.ofString("{\"qty\":2}")).build(), HttpResponse.BodyHandlers.ofString());
      assertTrue(posted.body().endsWith("POST {\"qty\":2}"), posted.body());
    }
  }

  @Test
  void refusedConnectionsRetryIdempotentRequestsOnTheOtherSideAndFailuresEject() throws Exception {
    Router router = router(Route.ALL);
    GatewayConfig config = config().withTimeouts(Duration.ofMillis(500), Duration.ofSeconds(5), 3,
        Duration.ofMillis(800));
    try (Gateway gateway = gateway(router, new RouteStats(), config)) {
      ordersStatus.set(500);
      for (int i = 0; i < 3; i++) {
        HttpResponse<String> failing = get(gateway.port(), "/api/orders/1", "u" + i);
        assertEquals(500, failing.statusCode(), "an upstream's 500 is passed on, not retried");
        assertEquals("orders", failing.headers().firstValue("x-cutover-side").orElseThrow());
      }
      assertTrue(router.isDown("orders"), "ejected after three failures in a row");
      HttpResponse<String> failover = get(gateway.port(), "/api/orders/1", "u");
      assertEquals(200, failover.statusCode());
      assertEquals("monolith", failover.headers().firstValue("x-cutover-side").orElseThrow());
      ordersStatus.set(200);
      Thread.sleep(1_200);
      assertTrue(!router.isDown("orders"), "back after the ejection time");
      assertEquals("orders", get(gateway.port(), "/api/orders/1", "u").headers().firstValue("x-cutover-side")
          .orElseThrow());

      orders.stop(0); // connections now refused
      HttpResponse<String> retried = get(gateway.port(), "/api/orders/2", "v");
      assertEquals(200, retried.statusCode(), retried.body());
      assertEquals("monolith", retried.headers().firstValue("x-cutover-side").orElseThrow(),
          "a refused GET is retried on the other side");
      HttpResponse<String> post = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
          + "/api/orders")).header("x-user", "w").POST(HttpRequest.BodyPublishers.ofString("x")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertTrue(post.statusCode() == 502 || post.statusCode() == 200, post.statusCode() + " " + post.body());
      if (post.statusCode() == 502) {
        assertEquals("application/problem+json", post.headers().firstValue("content-type").orElseThrow());
        assertTrue(post.body().contains("could not be reached"), post.body());
      } else {
        assertEquals("monolith", post.headers().firstValue("x-cutover-side").orElseThrow(),
            "ejected by then: the POST went to the monolith");
      }
      router.markDown("monolith", true);
      router.markDown("orders", true);
      HttpResponse<String> nobody = get(gateway.port(), "/api/orders/3", "z");
      assertEquals(503, nobody.statusCode());
      assertEquals("none", nobody.headers().firstValue("x-cutover-side").orElseThrow());
    }
  }

  @Test
  void boundsAndNeverAnOpenProxy() throws Exception {
    Router router = router(0);
    try (Gateway gateway = gateway(router, new RouteStats(), config().withBounds(2048, 100))) {
      HttpResponse<String> big = client.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
          + "/api/orders")).POST(HttpRequest.BodyPublishers.ofString("x".repeat(1000))).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(413, big.statusCode());
      assertEquals(431, raw(gateway.port(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "y".repeat(4000)
          + "\r\n\r\n"));
      assertEquals(400, raw(gateway.port(), "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n"));
      assertEquals(0, monolithServed.get(), "nothing went upstream");
    }
  }

  @Test
  void canariesFailoverAndHealthChecksUnderLoadLoseNoRequest() throws Exception {
    Router router = router(5_000);
    router.setRules("orders", List.of(Rule.header("x-canary", "1", Target.SERVICE, "canary")));
    GatewayConfig config = config().withHealthChecks("/health", Duration.ofMillis(100));
    try (Gateway gateway = gateway(router, new RouteStats(), config)) {
      AtomicBoolean stop = new AtomicBoolean();
      AtomicBoolean outage = new AtomicBoolean();
      AtomicLong answered = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      java.util.Queue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
      AtomicLong misroutedCanaries = new AtomicLong();
      ExecutorService clients = Executors.newFixedThreadPool(6);
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < 6; c++) {
        int id = c;
        futures.add(clients.submit(() -> {
          int n = 0;
          while (!stop.get()) {
            boolean canary = n % 3 == 0;
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.port()
                + "/api/orders/" + n)).header("x-user", "u" + id + "-" + (n++ % 40)).timeout(Duration.ofSeconds(20));
            if (canary) {
              request.header("x-canary", "1");
            }
            boolean before = !outage.get();
            HttpResponse<String> response = client.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
              failed.incrementAndGet();
              failures.add(response.statusCode() + " " + response.headers().firstValue("x-cutover-side").orElse("?")
                  + " canary=" + canary + " " + response.body());
            }
            if (canary && before && !outage.get()
                && !response.headers().firstValue("x-cutover-side").orElse("").equals("orders")) {
              misroutedCanaries.incrementAndGet();
            }
            answered.incrementAndGet();
          }
          return null;
        }));
      }
      awaitMoreAnswers(answered, 60);
      outage.set(true);
      orders.stop(0); // the service goes away under load
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!router.isDown("orders") && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertTrue(router.isDown("orders"), "the health check took the service out");
      awaitMoreAnswers(answered, 60);
      router.rollback("orders");
      awaitMoreAnswers(answered, 30);
      stop.set(true);
      for (Future<?> f : futures) {
        f.get();
      }
      clients.shutdown();
      assertTrue(answered.get() > 100, "answered " + answered.get());
      assertEquals(0, failed.get(), "refused requests were retried on the monolith, then the service was failed "
          + "over: " + failures);
      assertEquals(0, misroutedCanaries.get(), "canaries went to the service while it was up");
      // Health checks have their own handler upstream and are not counted as served. A request the service had
      // handled when it went away, its answer lost with the connection, was retried on the monolith under the
      // same request id (it is idempotent): each request served once or, cut off so, twice; none lost.
      assertEquals(answered.get(), SERVED_IDS.size(), "every request reached an upstream, under one id");
      long servedTwice = SERVED_IDS.values().stream().filter(n -> n > 1).count();
      assertEquals(answered.get() + servedTwice, ordersServed.get() + monolithServed.get(), "served: " + SERVED_IDS);
      assertTrue(servedTwice <= 6 && SERVED_IDS.values().stream().allMatch(n -> n <= 2),
          "only requests in flight when the service went away (6 clients) were served again: " + servedTwice);
    }
  }


  private static int raw(int port, String request) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.getOutputStream().write(request.getBytes(StandardCharsets.ISO_8859_1));
      socket.getOutputStream().flush();
      InputStream in = socket.getInputStream();
      byte[] head = new byte[12];
      int read = in.readNBytes(head, 0, 12);
      return Integer.parseInt(new String(head, 9, Math.min(3, read - 9), StandardCharsets.ISO_8859_1));
    }
  }
}
