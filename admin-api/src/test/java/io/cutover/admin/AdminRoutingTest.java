package io.cutover.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import io.cutover.admin.v1.CutoverAdminGrpc;
import io.cutover.admin.v1.GetRoutesRequest;
import io.cutover.admin.v1.RolloutStatus;
import io.cutover.admin.v1.RolloutStep;
import io.cutover.admin.v1.RouteRequest;
import io.cutover.admin.v1.RoutesResponse;
import io.cutover.admin.v1.SetWeightRequest;
import io.cutover.admin.v1.StartRolloutRequest;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.migration.Migration;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway configured from YAML inside a running migration, and routing driven over a real gRPC channel: read
 * the table, set a weight, roll back, run a rollout to the end, refuse bad input; the metrics page shows it.
 */
@Timeout(90)
class AdminRoutingTest {
  @TempDir Path dir;

  private static HttpServer upstream(String name) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 32);
    server.createContext("/", exchange -> {
      byte[] body = name.getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(200, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    });
    server.start();
    return server;
  }

  @Test
  void routesAreReadChangedRolledBackAndRolledOutOverGrpc() throws Exception {
    String mono = "jdbc:h2:mem:adm-rm-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    String svc = "jdbc:h2:mem:adm-rs-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    for (String url : new String[] {mono, svc}) {
      try (Connection c = DriverManager.getConnection(url, "sa", ""); Statement st = c.createStatement()) {
        st.execute("CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(20))");
      }
    }
    HttpServer monolithApi = upstream("monolith");
    HttpServer inventoryApi = upstream("inventory");
    Path file = dir.resolve("cutover.yaml");
    Files.writeString(file, String.join("\n",
        "journal: {directory: journal}",
        "state: {directory: state}",
        "sides:",
        "  monolith: {url: '" + mono + "', user: sa}",
        "  services:",
        "    inventory: {url: '" + svc + "', user: sa}",
        "tables:",
        "  - {source: item, service: inventory}",
        "gateway:",
        "  port: 0",
        "  upstreams: {monolith: '127.0.0.1:" + monolithApi.getAddress().getPort() + "', inventory: '127.0.0.1:"
            + inventoryApi.getAddress().getPort() + "'}",
        "  health: {path: /health, interval: 200ms}",
        "  routes:",
        "    - {name: items, prefix: /api/items, service: inventory, weight: 0, sticky: 'header:x-user',",
        "       rules: [{header: x-canary, value: '1', to: service, variant: canary}]}",
        ""));
    HttpClient http = HttpClient.newHttpClient();
    try (Migration migration = Migration.start(MigrationConfig.load(file));
         AdminServer admin = AdminServer.start(AdminConfig.loopback(0), migration)) {
      int gatewayPort = migration.gateway().port();
      java.util.function.Function<String, String> side = user -> {
        try {
          return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort + "/api/items/1"))
              .header("x-user", user).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      assertEquals("monolith", side.apply("u1"));
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", admin.port()).usePlaintext().build();
      try {
        CutoverAdminGrpc.CutoverAdminBlockingStub stub = CutoverAdminGrpc.newBlockingStub(channel);
        RoutesResponse routes = stub.getRoutes(GetRoutesRequest.getDefaultInstance());
        assertEquals("items", routes.getRoutes(0).getName());
        assertEquals("header:x-user", routes.getRoutes(0).getSticky());
        assertEquals("canary", routes.getRoutes(0).getRules(0).getVariant());
        assertTrue(routes.getRoutes(0).getMonolithRequests() >= 1, routes.toString());
        io.cutover.admin.v1.Status status = stub.getStatus(io.cutover.admin.v1.GetStatusRequest.getDefaultInstance());
        assertEquals("items", status.getRoutes().getRoutes(0).getName(), "the status carries weights and health");

        RoutesResponse all = stub.setWeight(SetWeightRequest.newBuilder().setRoute("items").setWeightBps(10_000)
            .build());
        assertEquals(10_000, all.getRoutes(0).getWeightBps());
        assertEquals("inventory", side.apply("u1"), "the next request follows the new weight");
        assertEquals(0, stub.rollback(RouteRequest.newBuilder().setRoute("items").build()).getRoutes(0)
            .getWeightBps());
        assertEquals("monolith", side.apply("u1"), "instant rollback");

        RolloutStatus started = stub.startRollout(StartRolloutRequest.newBuilder().setRoute("items")
            .addSteps(RolloutStep.newBuilder().setWeightBps(5_000).setHoldMillis(200))
            .addSteps(RolloutStep.newBuilder().setWeightBps(10_000).setHoldMillis(0)).build());
        assertEquals("items", started.getRoute());
        long deadline = System.nanoTime() + 20_000_000_000L;
        RoutesResponse now = stub.getRoutes(GetRoutesRequest.getDefaultInstance());
        while (!now.getRoutes(0).getRollout().getState().equals("done") && System.nanoTime() < deadline) {
          Thread.sleep(50);
          now = stub.getRoutes(GetRoutesRequest.getDefaultInstance());
        }
        assertEquals("done", now.getRoutes(0).getRollout().getState(), now.toString());
        assertEquals(10_000, now.getRoutes(0).getWeightBps());
        assertEquals("done", stub.stopRollout(RouteRequest.newBuilder().setRoute("items").build()).getState());

        RoutesResponse ruled = stub.setRules(io.cutover.admin.v1.SetRulesRequest.newBuilder().setRoute("items")
            .addRules(io.cutover.admin.v1.RuleInfo.newBuilder().setKind("cookie").setName("stay").setValue("1")
                .setTarget("monolith").setVariant("old-ui")).build());
        assertEquals("old-ui", ruled.getRoutes(0).getRules(0).getVariant());
        HttpResponse<String> stayed = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gatewayPort
            + "/api/items/1")).header("x-user", "u1").header("cookie", "stay=1").build(),
            HttpResponse.BodyHandlers.ofString());
        assertEquals("monolith", stayed.body(), "the new rule holds the cookie's users on the monolith at 100%");
        assertEquals("old-ui", stayed.headers().firstValue("x-cutover-variant").orElse(""));
        assertEquals("inventory", side.apply("u1"), "everyone else follows the weight");
        assertInvalid("rules[0].kind: header or cookie", () -> stub.setRules(io.cutover.admin.v1.SetRulesRequest
            .newBuilder().setRoute("items").addRules(io.cutover.admin.v1.RuleInfo.newBuilder().setKind("query")
                .setName("a").setValue("b").setTarget("service")).build()));
        assertInvalid("rules[0].target", () -> stub.setRules(io.cutover.admin.v1.SetRulesRequest.newBuilder()
            .setRoute("items").addRules(io.cutover.admin.v1.RuleInfo.newBuilder().setKind("header").setName("a")
                .setValue("b").setTarget("elsewhere")).build()));
        assertEquals(0, stub.setRules(io.cutover.admin.v1.SetRulesRequest.newBuilder().setRoute("items").build())
            .getRoutes(0).getRulesCount(), "no rules clears them");

        assertInvalid("route: 'nope'", () -> stub.setWeight(SetWeightRequest.newBuilder().setRoute("nope").build()));
        assertInvalid("weight_bps: 0 to 10000", () -> stub.setWeight(SetWeightRequest.newBuilder().setRoute("items")
            .setWeightBps(10_001).build()));
        assertInvalid("steps: at least one", () -> stub.startRollout(StartRolloutRequest.newBuilder()
            .setRoute("items").build()));
        assertInvalid("max_error_rate", () -> stub.startRollout(StartRolloutRequest.newBuilder().setRoute("items")
            .addSteps(RolloutStep.newBuilder().setWeightBps(1)).setMaxErrorRate(2).build()));
      } finally {
        channel.shutdownNow();
      }
      MetricsServer metrics = MetricsServer.start(0, migration.pipeline(), migration.syncs())
          .routing(migration.router(), migration.routeStats());
      try {
        String page = metrics.render();
        assertTrue(page.contains("cutover_router_weight_bps{route=\"items\"} 10000"), page);
        assertTrue(page.contains("cutover_router_requests_total{route=\"items\",side=\"service\"}"), page);
        assertTrue(page.contains("cutover_router_upstream_down{upstream=\"monolith\"} 0"), page);
      } finally {
        metrics.close();
      }
    } finally {
      monolithApi.stop(0);
      inventoryApi.stop(0);
    }
  }

  @Test
  void aServerWithoutAGatewaySaysSo() throws Exception {
    try (io.cutover.engine.pipeline.Pipeline pipeline = io.cutover.engine.pipeline.Pipeline.builder(
        io.cutover.engine.pipeline.PipelineConfig.builder(io.cutover.journal.JournalConfig.of(dir.resolve("j")))
            .build()).start();
         AdminServer admin = AdminServer.start(AdminConfig.loopback(0), pipeline)) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", admin.port()).usePlaintext().build();
      try {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> CutoverAdminGrpc
            .newBlockingStub(channel).getRoutes(GetRoutesRequest.getDefaultInstance()));
        assertEquals(io.grpc.Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static void assertInvalid(String message, org.junit.jupiter.api.function.Executable call) {
    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call);
    assertEquals(io.grpc.Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.toString());
    assertTrue(e.getStatus().getDescription().contains(message), e.getStatus().getDescription());
  }
}
