package io.cutover.engine.apigen;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.cutover.engine.apigen.ApiClient.Response;
import io.cutover.engine.apigen.ApiModel.FieldKind;
import io.cutover.engine.testing.Postgres;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The generated API against a real PostgreSQL: a shop schema with a generated key, a composite key, foreign keys,
 * a unique constraint, a generated column, comments and every type family; every endpoint kind, every filter
 * operator, cursor paging under concurrent inserts, validation, database-error mapping, hostile input, versioning,
 * metrics, health and hooks, all over real HTTP.
 */
@Timeout(120)
class PostgresApiTest {
  static final String[] SHOP = {
      "CREATE TABLE customers (id BIGSERIAL PRIMARY KEY, email VARCHAR(80) NOT NULL UNIQUE, name TEXT NOT NULL, "
          + "vip BOOLEAN NOT NULL DEFAULT false, born DATE, balance NUMERIC(10,2) NOT NULL DEFAULT 0, "
          + "created_at TIMESTAMPTZ NOT NULL DEFAULT now(), prefs JSONB, token UUID, photo BYTEA)",
      "COMMENT ON TABLE customers IS 'People who buy'",
      "COMMENT ON COLUMN customers.email IS 'Login and contact address'",
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT NOT NULL REFERENCES customers, "
          + "status VARCHAR(12) NOT NULL, total NUMERIC(12,2), placed_at TIMESTAMP, "
          + "total_cents BIGINT GENERATED ALWAYS AS ((total * 100)::bigint) STORED)",
      "CREATE TABLE order_lines (order_id BIGINT REFERENCES orders, line_no INT, sku VARCHAR(20) NOT NULL, "
          + "qty INT NOT NULL CHECK (qty > 0), note TEXT, PRIMARY KEY (order_id, line_no))",
      "CREATE TABLE audit_notes (body TEXT)"};

  @TempDir Path dir;
  private DataSource db;
  private ApiServer server;
  private ApiClient api;

  @BeforeEach
  void start() throws Exception {
    db = Postgres.newDatabase("api");
    exec(db, SHOP);
    server = ApiServer.start(ApiServerConfig.loopback(0), db, "shop", List.of(), ApiVersions.open(dir.resolve("v")),
        List.of());
    api = new ApiClient(server.port());
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void introspectsTheTablesAndTheDocumentValidatesAsOpenApi31() throws Exception {
    ApiModel model = server.current();
    assertEquals(1, model.version());
    ApiModel.Resource customers = model.resource("customers");
    assertEquals("People who buy", customers.description());
    assertEquals(List.of("id"), customers.key());
    assertEquals(List.of(List.of("email")), customers.uniques());
    assertEquals("Login and contact address", customers.field("email").description());
    assertEquals(80, customers.field("email").maxLength());
    assertTrue(customers.field("email").required());
    assertFalse(customers.field("id").required(), "a serial key is generated");
    assertFalse(customers.field("vip").required(), "a default fills it");
    assertTrue(customers.field("born").nullable());
    assertEquals(FieldKind.INT64, customers.field("id").kind());
    assertEquals(FieldKind.DECIMAL, customers.field("balance").kind());
    assertEquals(10, customers.field("balance").precision());
    assertEquals(2, customers.field("balance").scale());
    assertEquals(FieldKind.TIMESTAMP, customers.field("created_at").kind());
    assertEquals(FieldKind.JSON, customers.field("prefs").kind());
    assertEquals(FieldKind.UUID, customers.field("token").kind());
    assertEquals(FieldKind.BYTES, customers.field("photo").kind());
    assertEquals(FieldKind.BOOLEAN, customers.field("vip").kind());
    assertEquals(FieldKind.DATE, customers.field("born").kind());
    ApiModel.Resource orders = model.resource("orders");
    assertTrue(orders.field("total_cents").readOnly(), "a generated column is read-only");
    assertEquals(FieldKind.LOCAL_TIMESTAMP, orders.field("placed_at").kind());
    assertEquals(List.of(new ApiModel.Reference(List.of("customer_id"), "customers", List.of("id"))),
        orders.references());
    assertEquals(List.of("order_id", "line_no"), model.resource("order_lines").key());
    assertFalse(model.resource("audit_notes").addressable());

    for (String path : List.of("/v1/openapi.json", "/openapi.json", "/v1/openapi.yaml")) {
      Response doc = api.get(path);
      assertEquals(200, doc.status(), path);
      ParseOptions options = new ParseOptions();
      options.setResolve(true);
      SwaggerParseResult parsed = new OpenAPIV3Parser().readContents(doc.body(), null, options);
      assertNotNull(parsed.getOpenAPI(), path + ": " + parsed.getMessages());
      assertEquals(List.of(), parsed.getMessages(), path + " validates");
      assertEquals("3.1.0", parsed.getOpenAPI().getOpenapi());
      assertTrue(parsed.getOpenAPI().getPaths().containsKey("/order_lines/{order_id},{line_no}"));
      assertTrue(parsed.getOpenAPI().getPaths().containsKey("/customers/{id}"));
      assertFalse(parsed.getOpenAPI().getPaths().containsKey("/audit_notes/{}"));
      assertEquals(OpenApiDocument.specVersion(model), parsed.getOpenAPI().getInfo().getVersion());
    }
    JsonNode doc = api.get("/v1/openapi.json").json();
    JsonNode create = doc.at("/components/schemas/customers.create");
    assertEquals(ApiClient.JSON.readTree("[\"email\",\"name\"]"), create.get("required"));
    assertFalse(create.at("/properties").has("total_cents"));
    assertTrue(doc.at("/components/schemas/orders/properties/total_cents/readOnly").asBoolean());
    assertEquals("Login and contact address", doc.at("/components/schemas/customers/properties/email/description")
        .asText());
    assertEquals(80, doc.at("/components/schemas/customers/properties/email/maxLength").asInt());
    assertEquals("[\"string\",\"null\"]", doc.at("/components/schemas/customers/properties/born/type").toString());
    assertEquals("date", doc.at("/components/schemas/customers/properties/born/format").asText());
    List<String> filters = new ArrayList<>();
    doc.at("/paths/~1customers/get/parameters").forEach(p -> filters.add(p.path("name").asText(p.path("$ref")
        .asText())));
    assertTrue(filters.containsAll(List.of("email", "name", "vip", "born", "balance", "created_at", "token")),
        filters.toString());
    assertFalse(filters.contains("prefs"), "JSON is not filterable");

    List<Path> written = ApiGenerator.write(model, dir.resolve("out"));
    assertEquals(2, written.size());
    assertEquals(api.get("/v1/openapi.json").body(), OpenApiDocument.json(model, model));
    assertTrue(Files.readString(written.get(1)).startsWith("openapi: 3.1.0"));
  }

  @Test
  void everyEndpointKindWorksOnKeysCompositeKeysAndKeylessTables() throws Exception {
    Response created = api.send("POST", "/v1/customers", "{\"email\":\"ada@example.com\",\"name\":\"Ada\","
        + "\"born\":\"1815-12-10\",\"prefs\":{\"lang\":\"en\",\"tags\":[1,2]},"
        + "\"token\":\"123e4567-e89b-12d3-a456-426614174000\",\"photo\":\"AAEC\",\"balance\":12.50}");
    assertEquals(201, created.status(), created.body());
    long id = created.json().get("id").asLong();
    assertEquals("/v1/customers/" + id, created.header("location"));
    assertFalse(created.json().get("vip").asBoolean(), "the default was filled in");
    assertTrue(created.body().contains("\"balance\":12.50"), "decimals keep their scale: " + created.body());
    assertEquals("en", created.json().at("/prefs/lang").asText());
    assertEquals("AAEC", created.json().get("photo").asText());
    assertTrue(created.json().get("created_at").asText().endsWith("Z"));
    assertEquals(created.json(), api.get("/v1/customers/" + id).json());
    assertEquals("{\"email\":\"ada@example.com\"}", api.get("/v1/customers/" + id + "?select=email").body());

    Response bulk = api.send("POST", "/v1/orders", "[{\"id\":1,\"customer_id\":" + id + ",\"status\":\"new\","
        + "\"total\":10.25,\"placed_at\":\"2026-11-24T10:15:30\"},{\"id\":2,\"customer_id\":" + id
        + ",\"status\":\"paid\"}]");
    assertEquals(201, bulk.status(), bulk.body());
    assertEquals(2, bulk.json().size());
    assertEquals(1025, bulk.json().get(0).get("total_cents").asLong(), "the generated column came back");
    assertEquals("2026-11-24T10:15:30", bulk.json().get(0).get("placed_at").asText());

    assertEquals(201, api.send("POST", "/v1/order_lines", "{\"order_id\":1,\"line_no\":1,\"sku\":\"A-1\","
        + "\"qty\":2}").status());
    Response line = api.send("POST", "/v1/order_lines", "{\"order_id\":1,\"line_no\":2,\"sku\":\"B,2\",\"qty\":1}");
    assertEquals("/v1/order_lines/1,2", line.header("location"));
    assertEquals("B,2", api.get("/v1/order_lines/1,2").json().get("sku").asText());
    assertEquals(400, api.get("/v1/order_lines/1").status(), "a composite key needs both values");

    Response replaced = api.send("PUT", "/v1/order_lines/1,2", "{\"sku\":\"B-2\",\"qty\":5}");
    assertEquals(200, replaced.status(), replaced.body());
    assertEquals(5, replaced.json().get("qty").asInt());
    assertTrue(replaced.json().get("note").isNull());
    Response upserted = api.send("PUT", "/v1/order_lines/2,1", "{\"sku\":\"C-1\",\"qty\":1,\"note\":\"gift\"}");
    assertEquals(201, upserted.status(), upserted.body());
    assertEquals(400, api.send("PUT", "/v1/order_lines/2,1", "{\"order_id\":3,\"sku\":\"C-1\",\"qty\":1}").status(),
        "a key in the body must equal the path's");

    Response patched = api.send("PATCH", "/v1/customers/" + id, "{\"vip\":true,\"born\":null}");
    assertEquals(200, patched.status(), patched.body());
    assertTrue(patched.json().get("vip").asBoolean());
    assertTrue(patched.json().get("born").isNull());
    assertEquals("ada@example.com", patched.json().get("email").asText(), "other fields kept");
    assertEquals(404, api.send("PATCH", "/v1/customers/999", "{\"vip\":true}").status());

    assertEquals(204, api.send("DELETE", "/v1/order_lines/2,1", null).status());
    assertEquals(404, api.send("DELETE", "/v1/order_lines/2,1", null).status());
    assertEquals(404, api.get("/v1/order_lines/2,1").status());
    assertEquals(List.of("1|1|A-1|2|null", "1|2|B-2|5|null"), rows(db, "SELECT * FROM order_lines ORDER BY 1, 2"),
        "every write is an ordinary database write");

    assertEquals(201, api.send("POST", "/v1/audit_notes", "{\"body\":\"keyless\"}").status());
    assertEquals("[{\"body\":\"keyless\"}]", api.get("/v1/audit_notes").body());
    assertEquals(404, api.get("/v1/audit_notes/1").status(), "a table without a key has no row addresses");
    Response wrongMethod = api.send("DELETE", "/v1/customers", null);
    assertEquals(405, wrongMethod.status());
    assertEquals("GET, POST", wrongMethod.header("allow"));
  }

  private void seedCustomers() throws Exception {
    StringBuilder bulk = new StringBuilder("[");
    String[] names = {"Ada", "Grace", "Alan", "Edsger", "Barbara", "O'Brien'--", "Ken, Jr"};
    for (int i = 0; i < names.length; i++) {
      bulk.append(i > 0 ? "," : "").append("{\"email\":\"c").append(i).append("@example.com\",\"name\":")
          .append(ApiClient.JSON.writeValueAsString(names[i])).append(",\"vip\":").append(i % 2 == 0)
          .append(",\"balance\":").append(i * 10).append(i == 3 ? "" : ",\"born\":\"19" + (50 + i) + "-01-01\"")
          .append("}");
    }
    assertEquals(201, api.send("POST", "/v1/customers", bulk.append("]").toString()).status());
  }

  private List<String> names(String query) throws Exception {
    Response r = api.get("/v1/customers?" + query);
    assertEquals(200, r.status(), query + ": " + r.body());
    List<String> names = new ArrayList<>();
    r.json().forEach(row -> names.add(row.path("name").asText()));
    return names;
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }

  @Test
  void everyFilterOperatorOrderSelectCountAndOffset() throws Exception {
    seedCustomers();
    assertEquals(List.of("Grace"), names("name=eq.Grace"));
    assertEquals(6, names("name=neq.Grace").size());
    assertEquals(List.of("O'Brien'--", "Ken, Jr"), names("balance=gt.40"));
    assertEquals(List.of("Barbara", "O'Brien'--", "Ken, Jr"), names("balance=gte.40"));
    assertEquals(List.of("Ada"), names("balance=lt.10"));
    assertEquals(List.of("Ada", "Grace"), names("balance=lte.10"));
    assertEquals(List.of("Alan", "Ada"), names("name=like.A*&order=name.desc"));
    assertEquals(List.of("Ada", "Alan", "Barbara", "Grace"), names("name=ilike.*a*&name=not.like.O*&order=name"));
    assertEquals(List.of("Ken, Jr", "Ada"), names("name=in.(Ada," + enc("\"Ken, Jr\"") + ")&order=name.desc"));
    assertEquals(List.of("Edsger"), names("born=is.null"));
    assertEquals(6, names("born=not.is.null").size());
    assertEquals(List.of("Ada", "Alan", "Barbara", "Ken, Jr"), names("vip=is.true&order=name"));
    assertEquals(List.of("Grace", "Edsger", "O'Brien'--"), names("vip=eq.false"));
    assertEquals(List.of("Edsger", "Ken, Jr"), names("order=born.desc.nullsfirst&limit=2"));
    assertEquals(List.of("Ken, Jr", "O'Brien'--"), names("order=born.desc.nullslast&limit=2"));
    assertEquals(List.of("O'Brien'--"), names("name=eq." + enc("O'Brien'--")), "quotes are data");
    assertEquals(List.of("Alan", "Edsger"), names("order=id&offset=2&limit=2"));

    Response selected = api.get("/v1/customers?select=id,name&name=eq.Ada&count=exact");
    assertEquals("[\"id\",\"name\"]", ApiClient.JSON.writeValueAsString(iterable(selected.json().get(0).fieldNames())));
    assertEquals("1", selected.header("x-total-count"));
    assertEquals("0-0/1", selected.header("content-range"));
    Response counted = api.send("GET", "/v1/customers?limit=2&vip=is.true", null, null, "Prefer", "count=exact");
    assertEquals("4", counted.header("x-total-count"));
    assertEquals("0-1/4", counted.header("content-range"));
    assertTrue(counted.header("link").contains("vip=is.true") && counted.header("link").contains("rel=\"next\""));
    assertEquals("*/0", api.get("/v1/customers?name=eq.nobody&count=exact").header("content-range"));
  }

  private static List<String> iterable(java.util.Iterator<String> it) {
    List<String> list = new ArrayList<>();
    it.forEachRemaining(list::add);
    return list;
  }

  @Test
  void cursorPagesNeitherSkipNorRepeatRowsWhileRowsAreInserted() throws Exception {
    exec(db, "INSERT INTO customers (email, name, balance, born) SELECT 'seed' || g || '@x', 'n' || (g % 7), "
        + "g % 13, CASE WHEN g % 5 = 0 THEN NULL ELSE DATE '2000-01-01' + g END FROM generate_series(1, 600) g");
    Set<Long> original = new HashSet<>();
    rows(db, "SELECT id FROM customers").forEach(r -> original.add(Long.parseLong(r)));
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger inserted = new AtomicInteger();
    Thread writer = new Thread(() -> {
      ApiClient other = new ApiClient(server.port());
      try {
        while (!stop.get()) {
          int n = inserted.incrementAndGet();
          Response r = other.send("POST", "/v1/customers", "{\"email\":\"late" + n + "@x\",\"name\":\"late\","
              + "\"balance\":" + (n % 13) + ",\"born\":" + (n % 3 == 0 ? "null" : "\"2001-02-03\"") + "}");
          if (r.status() != 201) {
            throw new AssertionError(r.body());
          }
        }
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    writer.start();
    try {
      for (String order : List.of("", "&order=balance.desc,born.asc", "&order=born.desc.nullslast,name")) {
        List<Long> seen = new ArrayList<>();
        String path = "/v1/customers?select=id&limit=37" + order;
        int pages = 0;
        while (path != null) {
          Response page = api.get(path);
          assertEquals(200, page.status(), page.body());
          page.json().forEach(row -> seen.add(row.get("id").asLong()));
          String cursor = page.header("x-next-cursor");
          path = cursor == null ? null : "/v1/customers?select=id&limit=37" + order + "&cursor=" + cursor;
          pages++;
        }
        assertEquals(seen.size(), new HashSet<>(seen).size(), "no row repeated (order '" + order + "')");
        assertTrue(new HashSet<>(seen).containsAll(original), "no row skipped (order '" + order + "')");
        assertTrue(pages >= 17, "paged " + pages + " times");
      }
    } finally {
      stop.set(true);
      writer.join();
    }
    assertTrue(inserted.get() > 1, "rows were inserted while paging: " + inserted.get());
    assertEquals(400, api.get("/v1/customers?order=name&cursor=" + api.get("/v1/customers?limit=1")
        .header("x-next-cursor")).status(), "a cursor only works with the order it came from");
    assertEquals(400, api.get("/v1/customers?cursor=bm90LWEtY3Vyc29y").status());
  }

  @Test
  void bodiesAreValidatedBeforeAnySqlWithEveryOffendingField() throws Exception {
    Response bad = api.send("POST", "/v1/customers", "{\"email\":\"" + "x".repeat(81) + "\",\"nam\":\"typo\","
        + "\"vip\":\"yes\",\"born\":\"24/11/2026\",\"token\":\"not-a-uuid\",\"balance\":123456789.5,"
        + "\"created_at\":\"2026-11-24T10:00:00\",\"photo\":7}");
    assertEquals(400, bad.status());
    assertEquals("application/problem+json", bad.header("content-type"));
    assertEquals(400, bad.json().get("status").asInt());
    Map<String, String> errors = new java.util.TreeMap<>();
    bad.json().get("errors").forEach(e -> errors.put(e.get("pointer").asText(), e.get("detail").asText()));
    assertEquals(Set.of("/email", "/nam", "/vip", "/born", "/token", "/balance", "/created_at", "/photo", "/name"),
        errors.keySet(), errors.toString());
    assertTrue(errors.get("/email").contains("longer than 80"), errors.get("/email"));
    assertTrue(errors.get("/nam").startsWith("unknown field"));
    assertEquals("required", errors.get("/name"));
    assertTrue(errors.get("/balance").contains("numeric(10,2)"));
    Response nulls = api.send("POST", "/v1/orders", "[{\"id\":1,\"customer_id\":null,\"status\":\"x\"},"
        + "{\"id\":2,\"customer_id\":1,\"status\":\"x\",\"total_cents\":5}]");
    assertEquals(400, nulls.status());
    assertEquals("/0/customer_id", nulls.json().at("/errors/0/pointer").asText());
    assertEquals("must not be null", nulls.json().at("/errors/0/detail").asText());
    assertEquals("/1/total_cents", nulls.json().at("/errors/1/pointer").asText());
    assertEquals(400, api.send("POST", "/v1/customers", "{\"email\":").status(), "malformed JSON");
    assertEquals(400, api.send("POST", "/v1/customers", "[]").status(), "an empty bulk");
    assertEquals(415, api.send("POST", "/v1/customers", "{}", "text/plain", null, null).status());
    assertEquals(400, api.send("PATCH", "/v1/customers/1", "{}").status(), "nothing to change");
    assertEquals(400, api.send("PATCH", "/v1/customers/1", "{\"id\":2}").status(), "keys do not change");
    assertEquals(400, api.send("POST", "/v1/order_lines", "{\"order_id\":1,\"line_no\":3000000000,\"sku\":\"a\","
        + "\"qty\":1}").status(), "out of int range");
    assertEquals(List.of("0"), rows(db, "SELECT count(*) FROM customers"));
    assertEquals(List.of("0"), rows(db, "SELECT count(*) FROM orders"), "nothing half-written");
  }

  @Test
  void databaseErrorsMapToTheRightStatusAndBulkCreatesAreAllOrNothing() throws Exception {
    assertEquals(201, api.send("POST", "/v1/customers", "{\"id\":1,\"email\":\"a@x\",\"name\":\"A\"}").status());
    Response unique = api.send("POST", "/v1/customers", "{\"id\":2,\"email\":\"a@x\",\"name\":\"B\"}");
    assertEquals(409, unique.status());
    assertTrue(unique.json().get("detail").asText().contains("unique"), unique.body());
    Response foreign = api.send("POST", "/v1/orders", "{\"id\":1,\"customer_id\":42,\"status\":\"new\"}");
    assertEquals(409, foreign.status());
    assertTrue(foreign.json().get("detail").asText().contains("foreign key"), foreign.body());
    assertEquals(201, api.send("POST", "/v1/orders", "{\"id\":1,\"customer_id\":1,\"status\":\"new\"}").status());
    assertEquals(409, api.send("DELETE", "/v1/customers/1", null).status(), "still referenced");
    Response check = api.send("POST", "/v1/order_lines", "{\"order_id\":1,\"line_no\":1,\"sku\":\"a\",\"qty\":0}");
    assertEquals(400, check.status(), check.body());
    Response half = api.send("POST", "/v1/order_lines", "[{\"order_id\":1,\"line_no\":1,\"sku\":\"a\",\"qty\":1},"
        + "{\"order_id\":9,\"line_no\":1,\"sku\":\"b\",\"qty\":1}]");
    assertEquals(409, half.status());
    assertEquals(List.of("0"), rows(db, "SELECT count(*) FROM order_lines"), "the bulk rolled back whole");
    exec(db, "ALTER TABLE orders ADD COLUMN region TEXT NOT NULL DEFAULT 'eu'", "ALTER TABLE orders ALTER COLUMN "
        + "region DROP DEFAULT");
    Response notNull = api.send("POST", "/v1/orders", "{\"id\":2,\"customer_id\":1,\"status\":\"new\"}");
    assertEquals(400, notNull.status(), "a NOT NULL the running version does not know about: " + notNull.body());
    assertTrue(notNull.json().get("detail").asText().contains("required value"), notNull.body());
  }

  @Test
  void hostileInputIsRefusedOrTreatedAsDataAndNeverBecomesSql() throws Exception {
    seedCustomers();
    List<String> hostile = List.of(
        "/v1/customers?" + enc("id;DROP TABLE customers") + "=eq.1",
        "/v1/customers?order=" + enc("id; DROP TABLE customers"),
        "/v1/customers?order=" + enc("name.desc;--"),
        "/v1/customers?select=*",
        "/v1/customers?select=" + enc("id,(SELECT 1)"),
        "/v1/customers?limit=1000000",
        "/v1/customers?limit=-1",
        "/v1/customers?name=" + enc("union.select"),
        "/v1/customers?id=in.(1,2" ,
        "/v1/customers?id=eq.1e400",
        "/v1/customers?balance=eq.1e900000000", // was a 900-million-character number: the server hung
        "/v1/customers?balance=gt.1e-900000000",
        "/v1/customers?offset=2000000000", // the database would read and drop two billion rows

        "/v1/customers?prefs=" + enc("eq.{}"),
        "/v1/customers?vip=like.t*",
        "/v1/customers?limit=1&limit=2",
        "/v1/customers/" + enc("1 OR 1=1"),
        "/v1/customers/" + enc("1'--"));
    for (String path : hostile) {
      Response r = api.get(path);
      assertEquals(400, r.status(), path + ": " + r.body());
      assertEquals("application/problem+json", r.header("content-type"), path);
    }
    // not percent-encoding (no Java client sends it; a raw socket does): was a 500 with a stack trace per request
    for (String raw : List.of("/v1/customers?name=eq.%zz", "/v1/customers?name=eq.%E2%8", "/v1/cust%omers")) {
      try (java.net.Socket socket = new java.net.Socket("127.0.0.1", server.port())) {
        socket.getOutputStream().write(("GET " + raw + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        String reply = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertTrue(reply.startsWith("HTTP/1.1 400"), raw + ": " + reply);
        assertTrue(reply.contains("not valid percent-encoding"), raw + ": " + reply);
      }
    }
    assertEquals(List.of(), names("name=" + enc("eq.x') OR 1=1 --")), "SQL in a value is only data");
    assertEquals(List.of(), names("name=eq." + enc("x' OR '1'='1")), "a quote is only data");
    assertEquals(List.of(), names("email=like." + enc("%' OR 1=1 --")));
    assertEquals(404, api.get("/v1/" + enc("customers;DROP TABLE orders")).status());
    assertEquals(404, api.get("/v2/customers").status());
    assertEquals(404, api.get("/v1/pg_catalog.pg_user").status());
    assertEquals(List.of("7"), rows(db, "SELECT count(*) FROM customers"), "nothing was dropped or changed");
    assertEquals(List.of("0"), rows(db, "SELECT count(*) FROM orders"));
  }

  @Test
  void hugeNumbersAreRefusedByTheirDigitCountsAndMadeUpMethodsAddNoMetricsLabels() throws Exception {
    seedCustomers();
    Response huge = api.send("PATCH", "/v1/customers/1", "{\"balance\": 1e900000000}");
    assertEquals(400, huge.status(), huge.body());
    assertTrue(huge.body().contains("digits before the decimal point"), huge.body());
    Response filter = api.get("/v1/customers?balance=eq.1e900000000");
    assertTrue(filter.json().get("detail").asText().contains("1E+900000000 has more than 8 digits"),
        filter.body());
    for (int i = 0; i < 50; i++) {
      assertEquals(200, api.send("MADEUP" + i, "/health", null).status());
    }
    String metrics = api.get("/metrics").body();
    assertFalse(metrics.contains("MADEUP"), "one label per made-up method would grow the metrics for ever");
    assertTrue(metrics.contains("cutover_api_requests_total{endpoint=\"OTHER /health\",status=\"200\"} 50"),
        metrics);
  }

  @Test
  void bodiesHeadsAndPagesAreBounded() throws Exception {
    server.close();
    server = ApiServer.start(ApiServerConfig.loopback(0).withBounds(4096, 1024).withPages(5, 10), db, "shop",
        List.of("customers"), ApiVersions.inMemory(), List.of());
    api = new ApiClient(server.port());
    seedCustomers();
    assertEquals(5, api.get("/v1/customers").json().size(), "the default page");
    assertEquals(400, api.get("/v1/customers?limit=11").status(), "the largest page");
    assertEquals(413, api.send("POST", "/v1/customers", "{\"name\":\"" + "x".repeat(5000) + "\"}").status());
    assertEquals(431, api.send("GET", "/v1/customers", null, null, "X-Big", "y".repeat(2000)).status());
    assertEquals(404, api.get("/v1/orders").status(), "only the tables asked for are exposed");
  }

  @Test
  void versionsKeepTheirContractWhenTheSchemaChangesAndSurviveARestart() throws Exception {
    assertEquals(201, api.send("POST", "/v1/customers", "{\"id\":1,\"email\":\"a@x\",\"name\":\"A\"}").status());
    String v1Spec = OpenApiDocument.specVersion(server.current());
    assertEquals(1, server.reload().version(), "no schema change, no new version");
    exec(db, "ALTER TABLE customers ADD COLUMN nickname VARCHAR(20)", "ALTER TABLE customers DROP COLUMN photo",
        "CREATE TABLE coupons (code TEXT PRIMARY KEY)");
    ApiModel v2 = server.reload();
    assertEquals(2, v2.version());
    assertFalse(OpenApiDocument.specVersion(v2).equals(v1Spec), "the spec version changed with the schema");
    assertTrue(api.get("/v2/customers/1").json().has("nickname"));
    JsonNode v1Row = api.get("/v1/customers/1").json();
    assertFalse(v1Row.has("nickname"), "v1 does not grow fields: " + v1Row);
    assertFalse(v1Row.has("photo"), "a dropped column is left out");
    assertTrue(v1Row.has("email") && v1Row.has("name"));
    Response v1Write = api.send("PATCH", "/v1/customers/1", "{\"nickname\":\"ace\"}");
    assertEquals(400, v1Write.status(), "v1 bodies keep v1's fields");
    assertEquals(200, api.send("PATCH", "/v2/customers/1", "{\"nickname\":\"ace\"}").status());
    assertEquals(404, api.get("/v1/coupons").status(), "new resources are v2's");
    assertEquals(200, api.get("/v2/coupons").status());
    JsonNode v1Doc = api.get("/v1/openapi.json").json();
    assertTrue(v1Doc.at("/components/schemas/customers/properties/photo/deprecated").asBoolean());
    assertEquals(v1Spec, v1Doc.at("/info/version").asText());
    assertEquals(OpenApiDocument.specVersion(v2), api.get("/openapi.json").json().at("/info/version").asText());
    JsonNode index = api.get("/").json();
    assertEquals(2, index.get("versions").size());

    server.close();
    server = ApiServer.start(ApiServerConfig.loopback(0), db, "shop", List.of(), ApiVersions.open(dir.resolve("v")),
        List.of());
    api = new ApiClient(server.port());
    assertEquals(2, server.versions().size(), "a restart serves the same versions");
    assertEquals(v1Spec, api.get("/v1/openapi.json").json().at("/info/version").asText());
    exec(db, "DROP TABLE coupons");
    server.reload();
    assertEquals(410, api.get("/v2/coupons").status(), "a dropped table is gone, not missing");
    assertEquals(3, server.versions().size());
  }

  @Test
  void metricsHealthAndHooksAroundEveryRequest() throws Exception {
    server.close();
    List<String> seen = java.util.Collections.synchronizedList(new ArrayList<>());
    ApiHook auth = new ApiHook() {
      @Override
      public void before(ApiExchange exchange) {
        if (exchange.method().equals("POST") && !"secret".equals(exchange.header("x-api-key"))) {
          throw new ApiProblem(401, "Unauthorized", "an x-api-key is needed to write", List.of());
        }
        exchange.attributes().put("user", exchange.header("x-api-key"));
      }

      @Override
      public void after(ApiExchange exchange, int status, long nanos) {
        seen.add(exchange.endpoint() + " " + status + " " + exchange.attributes().get("user"));
      }
    };
    server = ApiServer.start(ApiServerConfig.loopback(0), db, "shop", List.of(), ApiVersions.inMemory(),
        List.of(auth));
    api = new ApiClient(server.port());
    Response refused = api.send("POST", "/v1/customers", "{\"email\":\"a@x\",\"name\":\"A\"}");
    assertEquals(401, refused.status());
    assertEquals(List.of("0"), rows(db, "SELECT count(*) FROM customers"), "a refused request writes nothing");
    assertEquals(201, api.send("POST", "/v1/customers", "{\"email\":\"a@x\",\"name\":\"A\"}", "application/json",
        "x-api-key", "secret").status());
    assertEquals(200, api.get("/v1/customers").status());
    assertEquals(404, api.get("/v1/customers/99").status());
    assertEquals(List.of("POST /v1/customers 401 null", "POST /v1/customers 201 secret",
        "GET /v1/customers 200 null", "GET /v1/customers/{key} 404 null"), seen);
    Response health = api.get("/health");
    assertEquals(200, health.status());
    assertEquals("UP", health.json().get("status").asText());
    Response metrics = api.get("/metrics");
    assertTrue(metrics.header("content-type").startsWith("text/plain; version=0.0.4"));
    assertTrue(metrics.body().contains("cutover_api_requests_total{endpoint=\"GET /v1/customers\",status=\"200\"} 1"),
        metrics.body());
    assertTrue(metrics.body().contains("cutover_api_requests_total{endpoint=\"POST /v1/customers\",status=\"401\"} 1"));
    assertTrue(metrics.body().contains("cutover_api_request_duration_seconds_count{endpoint=\"GET /v1/customers/{key}\"} 1"));
    assertTrue(metrics.body().contains("cutover_api_errors_total{endpoint=\"GET /v1/customers\"} 0"));
    assertNull(api.get("/v1/customers").header("x-next-cursor"));
    assertEquals("req-7", api.send("GET", "/v1/customers", null, null, "X-Request-Id", "req-7").header("x-request-id"));
  }
}
