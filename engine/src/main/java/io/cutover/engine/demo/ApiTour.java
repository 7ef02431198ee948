package io.cutover.engine.demo;

import io.cutover.engine.apigen.ApiExchange;
import io.cutover.engine.apigen.ApiHook;
import io.cutover.engine.apigen.ApiModel;
import io.cutover.engine.apigen.ApiProblem;
import io.cutover.engine.apigen.ApiServer;
import io.cutover.engine.apigen.ApiServerConfig;
import io.cutover.engine.apigen.ApiVersions;
import io.cutover.engine.apigen.OpenApiDocument;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * The demo's API step: the inventory service's REST API generated from its tables and served by Cutover; a
 * product created and repriced through it reaches the monolith by sync, since API writes are ordinary writes.
 * The server stays up for the traffic step, where a hook plays a bad build that fails half its answers.
 */
final class ApiTour {
  private ApiTour() {}

  /** What the API step saw; {@code server} stays open for the caller. */
  record Result(ApiServer server, AtomicBoolean failing, boolean ok, String summary) {}

  /** A hook that fails half the answers while {@code failing} is set: a bad build of the service. */
  static ApiHook badBuild(AtomicBoolean failing) {
    return new ApiHook() {
      @Override
      public void before(ApiExchange exchange) {
        if (failing.get() && ThreadLocalRandom.current().nextBoolean()) {
          throw new ApiProblem(500, "Internal Server Error", "injected failure: a bad build", List.of());
        }
      }
    };
  }

  static Result run(DataSource inventory, DataSource monolith, PrintWriter out) throws Exception {
    AtomicBoolean failing = new AtomicBoolean();
    long started = System.nanoTime();
    ApiServer server = ApiServer.start(ApiServerConfig.loopback(0), inventory, "inventory", List.of("products"),
        ApiVersions.inMemory(), List.of(badBuild(failing)));
    try {
      long readyMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
      ApiModel model = server.current();
      String base = "http://127.0.0.1:" + server.port();
      out.println("      " + base + "/v1/products: OpenAPI 3.1 document " + OpenApiDocument.specVersion(model)
          + ", ready in " + readyMs + " ms");
      HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
      HttpResponse<String> page = send(client, HttpRequest.newBuilder(URI.create(base
          + "/v1/products?price=lt.12&order=price.desc&select=sku,price&limit=2")));
      out.println("      GET /v1/products?price=lt.12&order=price.desc&select=sku,price&limit=2 -> " + page.statusCode()
          + " " + page.body());
      HttpResponse<String> created = send(client, HttpRequest.newBuilder(URI.create(base + "/v1/products"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              "{\"sku\":\"SKU-API\",\"title\":\"Made through the API\",\"price\":5.00,\"stock\":0}")));
      out.println("      POST /v1/products -> " + created.statusCode() + " " + created.headers().firstValue("location")
          .orElse(""));
      HttpResponse<String> repriced = send(client, HttpRequest.newBuilder(URI.create(base + "/v1/products/SKU-API"))
          .header("Content-Type", "application/json").method("PATCH", HttpRequest.BodyPublishers.ofString(
              "{\"price\":6.50}")));
      HttpResponse<String> refused = send(client, HttpRequest.newBuilder(URI.create(base + "/v1/products"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              "{\"sku\":\"SKU-BAD\",\"price\":\"cheap\"}")));
      out.println("      POST with a bad body -> " + refused.statusCode() + " "
          + refused.headers().firstValue("content-type").orElse("") + " " + refused.body());
      long synced = System.nanoTime();
      String price = "";
      long deadline = synced + Duration.ofSeconds(20).toNanos();
      while (!price.equals("6.50") && System.nanoTime() < deadline) {
        price = price(monolith);
        if (!price.equals("6.50")) {
          Thread.sleep(10);
        }
      }
      long syncMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - synced);
      out.println("      the monolith has SKU-API at " + (price.isEmpty() ? "nothing" : price) + " (" + syncMs
          + " ms after the API answered)");
      boolean ok = page.statusCode() == 200 && created.statusCode() == 201 && repriced.statusCode() == 200
          && refused.statusCode() == 400 && price.equals("6.50");
      String summary = "inventory v1, " + model.resources().size() + " resource, ready in " + readyMs
          + " ms; created and repriced through it, in the monolith " + (price.equals("6.50") ? syncMs + " ms later"
          : "NEVER") + "; bad body -> " + refused.statusCode();
      return new Result(server, failing, ok, summary);
    } catch (Exception | Error e) {
      server.close();
      throw e;
    }
  }

  private static HttpResponse<String> send(HttpClient client, HttpRequest.Builder request) throws IOException,
      InterruptedException {
    return client.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String price(DataSource monolith) throws SQLException {
    try (Connection c = monolith.getConnection();
         PreparedStatement st = c.prepareStatement("SELECT price FROM products WHERE sku = 'SKU-API'");
         ResultSet rs = st.executeQuery()) {
      return rs.next() ? rs.getBigDecimal(1).toPlainString() : "";
    }
  }
}
