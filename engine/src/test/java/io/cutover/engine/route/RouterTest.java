package io.cutover.engine.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;

class RouterTest {

  /** A request with fixed parts. */
  record Req(String method, String path, Map<String, String> headers, Map<String, String> cookies,
      Map<String, String> queries) implements RequestView {
    static Req get(String path) {
      return new Req("GET", path, Map.of(), Map.of(), Map.of());
    }

    Req header(String name, String value) {
      Map<String, String> h = new HashMap<>(headers);
      h.put(name, value);
      return new Req(method, path, h, cookies, queries);
    }

    Req cookie(String name, String value) {
      Map<String, String> c = new HashMap<>(cookies);
      c.put(name, value);
      return new Req(method, path, headers, c, queries);
    }

    @Override
    public String header(String name) {
      return headers.get(name);
    }

    @Override
    public String cookie(String name) {
      return cookies.get(name);
    }

    @Override
    public String query(String name) {
      return queries.get(name);
    }
  }

  private static Router router(int weight) {
    return new Router(new RoutingTable(1, List.of(
        Route.of("orders", "/api/orders", "orders", weight, KeySource.parse("header:X-User")),
        Route.of("orders-admin", "/api/orders/admin", "orders", 0, KeySource.NONE))));
  }

  @Test
  void raisingTheWeightOnlyEverMovesUsersToTheService() {
    qt().withExamples(200).forAll(strings().basicLatinAlphabet().ofLengthBetween(1, 20),
        lists().of(integers().between(0, Route.ALL)).ofSizeBetween(2, 8))
        .checkAssert((key, weights) -> {
          List<Integer> increasing = new ArrayList<>(weights);
          increasing.sort(null);
          Router router = router(0);
          Target last = Target.MONOLITH;
          for (int w : increasing) {
            router.setWeight("orders", w);
            Target now = router.decide(Req.get("/api/orders/7").header("x-user", key)).target();
            assertTrue(!(last == Target.SERVICE && now == Target.MONOLITH), key + " went back at " + w);
            assertEquals(now, router.decide(Req.get("/api/orders/8").header("x-user", key)).target(),
                "the same user, the same side");
            last = now;
          }
        });
  }

  @Test
  void theSimulatorShowsTheSplitPerStepAndNoStickinessViolation() {
    Router router = router(0);
    int[] schedule = {0, 100, 1_000, 2_500, 5_000, 7_500, 10_000};
    List<RoutingSimulator.Step> steps = RoutingSimulator.run(router, "orders", 50_000, 3, schedule, 1);
    assertEquals(schedule.length, steps.size());
    for (RoutingSimulator.Step step : steps) {
      assertEquals(0, step.stickinessViolations(), step.toString());
      assertEquals(150_000, step.requests());
      assertEquals(step.weightBps() / 10_000.0, step.serviceShare(), 0.01, step.toString());
      assertEquals(step.toService(), step.usersOnService() * 3, "a user's requests all go one way");
    }
    assertEquals(0, steps.get(0).toService());
    assertEquals(150_000, steps.get(steps.size() - 1).toService());

    List<RoutingSimulator.Step> rollback = RoutingSimulator.run(router, "orders", 10_000, 1, new int[] {5_000, 0},
        2);
    assertEquals(0, rollback.get(1).toService(), "a rollback is instant");
    assertEquals(0, rollback.get(1).stickinessViolations(), "going back on a rollback is not a violation");

    router.markDown("orders", true);
    RoutingSimulator.Step down = RoutingSimulator.run(router, "orders", 10_000, 1, new int[] {5_000}, 3).get(0);
    assertEquals(0, down.toService());
    assertEquals(down.requests(), down.failovers() + (down.requests() - down.failovers()));
    assertTrue(down.failovers() > 4_000 && down.failovers() < 6_000, down.toString());
    router.markDown("monolith", true);
    RoutingSimulator.Step none = RoutingSimulator.run(router, "orders", 1_000, 1, new int[] {5_000}, 4).get(0);
    assertEquals(1_000, none.unavailable(), "nobody is sent to a dead upstream");

    Router paths = new Router(new RoutingTable(1, List.of(Route.of("users", "/api/users", "accounts", 3_000,
        KeySource.parse("path:2")))));
    RoutingSimulator.Step byPath = RoutingSimulator.run(paths, "users", 20_000, 2, new int[] {3_000}, 5).get(0);
    assertEquals(0.3, byPath.serviceShare(), 0.015);
    assertEquals(0, byPath.stickinessViolations());
    assertThrows(IllegalArgumentException.class, () -> RoutingSimulator.run(router, "orders-admin", 1, 1,
        new int[] {1}, 1));
    assertThrows(IllegalArgumentException.class, () -> RoutingSimulator.run(router, "nope", 1, 1, new int[] {1}, 1));
  }

  @Test
  void rulesForceASideAndNameTheVariant() {
    Router router = router(0);
    router.setRules("orders", List.of(Rule.header("X-Canary", "1", Target.SERVICE, "canary"),
        Rule.cookie("beta", "no", Target.MONOLITH, "control")));
    Decision canary = router.decide(Req.get("/api/orders").header("x-canary", "1").header("x-user", "u"));
    assertEquals(Target.SERVICE, canary.target());
    assertEquals(Decision.Reason.RULE, canary.reason());
    assertEquals("canary", canary.variant());
    assertEquals(-1, canary.bucket());
    router.setWeight("orders", Route.ALL);
    Decision control = router.decide(Req.get("/api/orders").cookie("beta", "no").header("x-user", "u"));
    assertEquals(Target.MONOLITH, control.target());
    assertEquals("control", control.variant());
    Decision plain = router.decide(Req.get("/api/orders").header("x-user", "u"));
    assertEquals(Decision.Reason.WEIGHT, plain.reason());
    assertEquals("orders", plain.variant());
    Decision admin = router.decide(Req.get("/api/orders/admin/x"));
    assertEquals("orders-admin", admin.route().name(), "the longest prefix wins");
    Decision none = router.decide(Req.get("/static/logo.png"));
    assertEquals(Decision.Reason.NO_ROUTE, none.reason());
    assertEquals(Target.MONOLITH, none.target());
    assertTrue(none.servable());
  }

  @Test
  void healthSendsTrafficToTheLiveSideOrNowhere() {
    Router router = router(Route.ALL);
    Req user = Req.get("/api/orders").header("x-user", "u");
    router.markDown("orders", true);
    assertTrue(router.isDown("orders"));
    Decision failover = router.decide(user);
    assertEquals(Target.MONOLITH, failover.target());
    assertEquals(Decision.Reason.FAILOVER, failover.reason());
    router.markDown("monolith", true);
    Decision nobody = router.decide(user);
    assertEquals(Decision.Reason.UNAVAILABLE, nobody.reason());
    assertTrue(!nobody.servable());
    router.markDown("orders", false);
    assertEquals(Target.SERVICE, router.decide(user).target());
    Router strict = new Router(new RoutingTable(1, List.of(new Route("pay", "/pay", Set.of("POST"), "payments",
        Route.ALL, KeySource.NONE, List.of(), false))));
    strict.markDown("payments", true);
    assertEquals(Decision.Reason.UNAVAILABLE, strict.decide(new Req("POST", "/pay", Map.of(), Map.of(), Map.of()))
        .reason(), "a route without failover does not move its traffic");
    assertEquals(Decision.Reason.NO_ROUTE, strict.decide(new Req("GET", "/pay", Map.of(), Map.of(), Map.of()))
        .reason(), "the route takes POST only");
  }

  @Test
  void weightChangesAndRollbacksUnderConcurrentLoadNeverTearADecision() throws Exception {
    Router router = router(5_000);
    Map<Long, Integer> weightByVersion = new ConcurrentHashMap<>();
    weightByVersion.put(1L, 5_000);
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong decisions = new AtomicLong();
    AtomicLong wrong = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    CountDownLatch started = new CountDownLatch(4);
    for (int t = 0; t < 4; t++) {
      int id = t;
      threads.add(new Thread(() -> {
        started.countDown();
        long n = 0;
        while (!stop.get()) {
          Decision d = router.decide(Req.get("/api/orders").header("x-user", "u" + id + "-" + (n++ % 5000)));
          Integer weight = weightByVersion.get(d.tableVersion());
          while (weight == null) { // the writer records the version right after swapping it in
            Thread.onSpinWait();
            weight = weightByVersion.get(d.tableVersion());
          }
          Target expected = d.bucket() < weight ? Target.SERVICE : Target.MONOLITH;
          if (d.target() != expected) {
            wrong.incrementAndGet();
          }
          decisions.incrementAndGet();
        }
      }));
    }
    threads.forEach(Thread::start);
    started.await();
    java.util.Random random = new java.util.Random(7);
    for (int i = 0; i < 2_000; i++) {
      int w = random.nextInt(Route.ALL + 1);
      RoutingTable t = i % 100 == 99 ? router.rollback("orders") : router.setWeight("orders", w);
      weightByVersion.put(t.version(), t.route("orders").weightBps());
      if (i % 100 == 99) {
        Decision after = router.decide(Req.get("/api/orders").header("x-user", "anyone"));
        assertEquals(Target.MONOLITH, after.target(), "the request right after a rollback");
      }
    }
    stop.set(true);
    for (Thread t : threads) {
      t.join();
    }
    assertTrue(decisions.get() > 10_000, "decisions made: " + decisions.get());
    assertEquals(0, wrong.get(), "every decision matches the one table it was made on");
  }

  @Test
  void aRolloutAdvancesByItselfAndRollsBackOnErrorsOrLatency() {
    Router router = router(0);
    RouteStats stats = new RouteStats();
    List<Rollout.Step> steps = List.of(new Rollout.Step(1_000, Duration.ofSeconds(10)),
        new Rollout.Step(5_000, Duration.ofSeconds(10)), new Rollout.Step(10_000, Duration.ofSeconds(10)));
    Rollout.Thresholds thresholds = new Rollout.Thresholds(0.05, 200_000, Duration.ofSeconds(5), 20);
    Rollout healthy = new Rollout(router, "orders", steps, thresholds, stats);
    long s = 1_000_000_000L;
    long now = 0;
    assertEquals(Rollout.State.PENDING, healthy.state());
    assertEquals(Rollout.State.RUNNING, healthy.tick(now));
    assertEquals(1_000, router.table().route("orders").weightBps());
    for (int second = 1; second <= 31; second++) {
      now = second * s;
      for (int r = 0; r < 50; r++) {
        stats.record("orders", Target.SERVICE, r == 0, 10_000);
      }
      healthy.tick(now);
      if (second == 11) {
        assertEquals(5_000, router.table().route("orders").weightBps(), "second step after its hold");
      }
    }
    assertEquals(Rollout.State.DONE, healthy.state());
    assertEquals(10_000, router.table().route("orders").weightBps());

    router.setWeight("orders", 0);
    Rollout failing = new Rollout(router, "orders", steps, thresholds, stats);
    failing.tick(0);
    for (int second = 1; second <= 12; second++) {
      for (int r = 0; r < 50; r++) {
        stats.record("orders", Target.SERVICE, second > 10 && r < 10, 10_000);
      }
      failing.tick(second * s);
    }
    assertEquals(Rollout.State.ROLLED_BACK, failing.state());
    assertEquals(0, router.table().route("orders").weightBps(), "rolled back to 0 at once");
    assertTrue(failing.reason().contains("at step 2 (5000 bps): error rate"), failing.reason());
    assertEquals(Rollout.State.ROLLED_BACK, failing.tick(99 * s), "stays rolled back");

    Rollout slow = new Rollout(router, "orders", steps, thresholds, stats);
    slow.tick(0);
    for (int r = 0; r < 30; r++) {
      stats.record("orders", Target.SERVICE, false, 900_000);
    }
    assertEquals(Rollout.State.ROLLED_BACK, slow.tick(s));
    assertTrue(slow.reason().contains("p99"), slow.reason());

    Rollout ejected = new Rollout(router, "orders", steps, thresholds, stats);
    ejected.tick(0);
    router.markDown("orders", true);
    assertEquals(Rollout.State.ROLLED_BACK, ejected.tick(s), "a service taken out cannot be judged: roll back");
    assertTrue(ejected.reason().contains("orders was marked down"), ejected.reason());
    router.markDown("orders", false);

    Rollout quiet = new Rollout(router, "orders", steps, thresholds, stats);
    quiet.tick(0);
    stats.record("orders", Target.SERVICE, true, 10);
    assertEquals(Rollout.State.RUNNING, quiet.tick(s), "too few requests to judge");
    quiet.stop();
    assertEquals(Rollout.State.STOPPED, quiet.tick(2 * s));
    assertEquals(0, quiet.step());
    assertTrue(stats.requests("orders", Target.SERVICE) > 0 && stats.errors("orders", Target.SERVICE) > 0);
    assertThrows(IllegalArgumentException.class, () -> new Rollout(router, "nope", steps, thresholds, stats));
    assertThrows(IllegalArgumentException.class, () -> new Rollout(router, "orders", List.of(), thresholds, stats));
    assertThrows(IllegalArgumentException.class, () -> new Rollout.Step(10_001, Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> new Rollout.Thresholds(2, 1, Duration.ofSeconds(1), 0));
  }

  @Test
  void badRoutesAndKeysAreNamed() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Route.of("bad name", "/x", "s", 0,
        KeySource.NONE)).getMessage().contains("route name 'bad name'"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Route.of("r", "x", "s", 0, KeySource.NONE))
        .getMessage().contains("path prefix must start with /"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> Route.of("r", "/x", "s", 10_001,
        KeySource.NONE)).getMessage().contains("0 to 10000 basis points"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> KeySource.parse("body:x")).getMessage()
        .contains("header:NAME"));
    assertThrows(IllegalArgumentException.class, () -> KeySource.parse("path:x"));
    assertThrows(IllegalArgumentException.class, () -> KeySource.parse("header:"));
    assertEquals("cookie:sid", KeySource.parse("cookie:sid").toString());
    assertEquals("u7", KeySource.parse("query:user").keyOf(new Req("GET", "/", Map.of(), Map.of(),
        Map.of("user", "u7"))));
    assertEquals(null, KeySource.parse("path:5").keyOf(Req.get("/a/b")));
    assertThrows(IllegalArgumentException.class, () -> new Rule(KeySource.Kind.QUERY, "a", "b", Target.SERVICE,
        "v"));
    Router router = router(0);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> router.setWeight("nope", 1)).getMessage()
        .contains("no route named nope"));
    assertThrows(IllegalArgumentException.class, () -> new RoutingTable(1, List.of(
        Route.of("a", "/a", "s", 0, KeySource.NONE), Route.of("a", "/b", "s", 0, KeySource.NONE))));
    assertEquals(Router.bucket("orders", "u1"), Router.bucket("orders", "u1"));
    assertTrue(Router.bucket("orders", "u1") != Router.bucket("payments", "u1")
        || Router.bucket("orders", "u2") != Router.bucket("payments", "u2"), "routes bucket independently");
  }

  @Test
  @SuppressWarnings("unchecked")
  void exportsEnvoyAndIstioDocumentsWithTheSameWeights() {
    Router router = new Router(new RoutingTable(3, List.of(
        new Route("orders", "/api/orders", Set.of("GET", "POST"), "orders", 2_500, KeySource.parse("header:x-user"),
            List.of(Rule.header("x-canary", "1", Target.SERVICE, "canary")), true),
        new Route("users", "/api/users", Set.of(), "accounts", 333, KeySource.NONE,
            List.of(Rule.cookie("beta", "yes", Target.SERVICE, "beta")), true))));
    Load load = new Load(LoadSettings.builder().build());
    Map<String, Object> envoy = (Map<String, Object>) load.loadFromString(MeshExport.envoy(router.table(), "monolith"));
    assertEquals("cutover", envoy.get("name"));
    Map<String, Object> host = ((List<Map<String, Object>>) envoy.get("virtual_hosts")).get(0);
    assertEquals(List.of("*"), host.get("domains"));
    List<Map<String, Object>> routes = (List<Map<String, Object>>) host.get("routes");
    assertEquals(5, routes.size());
    assertEquals("orders-canary", routes.get(0).get("name"), "rules come before the weighted route");
    Map<String, Object> weighted = (Map<String, Object>) ((Map<String, Object>) routes.get(1).get("route"))
        .get("weighted_clusters");
    List<Map<String, Object>> clusters = (List<Map<String, Object>>) weighted.get("clusters");
    assertEquals(List.of("monolith", "orders"), clusters.stream().map(c -> c.get("name")).toList());
    assertEquals(List.of(7_500, 2_500), clusters.stream().map(c -> c.get("weight")).toList());
    List<Map<String, Object>> matchHeaders = (List<Map<String, Object>>) ((Map<String, Object>) routes.get(0)
        .get("match")).get("headers");
    assertEquals(":method", matchHeaders.get(0).get("name"));
    assertEquals("x-canary", matchHeaders.get(1).get("name"));
    assertEquals("/", ((Map<String, Object>) routes.get(4).get("match")).get("prefix"));

    Map<String, Object> istio = (Map<String, Object>) load.loadFromString(MeshExport.istio(router.table(), "shop",
        "shop.example.com", "monolith"));
    assertEquals("VirtualService", istio.get("kind"));
    assertEquals("networking.istio.io/v1beta1", istio.get("apiVersion"));
    List<Map<String, Object>> http = (List<Map<String, Object>>) ((Map<String, Object>) istio.get("spec"))
        .get("http");
    assertEquals(5, http.size());
    for (Map<String, Object> rule : http) {
      List<Map<String, Object>> destinations = (List<Map<String, Object>>) rule.get("route");
      if (destinations.size() == 2) {
        assertEquals(100, destinations.stream().mapToInt(d -> (Integer) d.get("weight")).sum(), rule.toString());
      }
    }
    List<Map<String, Object>> users = (List<Map<String, Object>>) http.get(3).get("route");
    assertEquals(3, users.get(1).get("weight"), "333 bps rounds to 3%");
  }

  @Test
  void aStartedRolloutTicksByItselfUntilDone() throws Exception {
    Router router = router(0);
    RouteStats stats = new RouteStats();
    java.util.concurrent.ScheduledExecutorService executor = java.util.concurrent.Executors
        .newSingleThreadScheduledExecutor();
    try {
      Rollout rollout = new Rollout(router, "orders", List.of(new Rollout.Step(2_000, Duration.ofMillis(50)),
          new Rollout.Step(10_000, Duration.ofMillis(50))), new Rollout.Thresholds(0.5, 1_000_000,
          Duration.ofSeconds(1), 10), stats).start(executor, Duration.ofMillis(10));
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (rollout.state() != Rollout.State.DONE && System.nanoTime() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(Rollout.State.DONE, rollout.state());
      assertEquals(10_000, router.table().route("orders").weightBps());
      rollout.stop();
      assertEquals(Rollout.State.DONE, rollout.state(), "stop after the end changes nothing");
    } finally {
      executor.shutdownNow();
    }
  }
}
