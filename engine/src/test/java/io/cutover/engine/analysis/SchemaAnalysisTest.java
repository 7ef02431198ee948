package io.cutover.engine.analysis;

import static io.cutover.engine.testing.TestSupport.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * From a real database to a plan: the schema read over JDBC on H2 and PostgreSQL (keys, composite foreign keys,
 * indexes), access patterns from a JSON-lines log and from PostgreSQL's pg_stat_statements, and the four output
 * files, the plan accepted by the engine's configuration loader as is.
 */
class SchemaAnalysisTest {
  @TempDir Path dir;

  private static final String[] SHOP = {
      "CREATE TABLE currencies (code VARCHAR(3) PRIMARY KEY, name VARCHAR(40))",
      "CREATE TABLE customers (id BIGINT PRIMARY KEY, email VARCHAR(80), currency VARCHAR(3) REFERENCES currencies)",
      "CREATE TABLE customer_addresses (customer_id BIGINT REFERENCES customers, n INT, street VARCHAR(80), "
          + "PRIMARY KEY (customer_id, n))",
      "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer_id BIGINT REFERENCES customers, "
          + "currency VARCHAR(3) REFERENCES currencies)",
      "CREATE TABLE order_items (order_id BIGINT REFERENCES orders, line INT, sku VARCHAR(20), "
          + "PRIMARY KEY (order_id, line))",
      "CREATE TABLE shipments (id BIGINT PRIMARY KEY, order_id BIGINT, line INT, "
          + "FOREIGN KEY (order_id, line) REFERENCES order_items (order_id, line))",
      "CREATE TABLE products (sku VARCHAR(20) PRIMARY KEY, title VARCHAR(80), currency VARCHAR(3) REFERENCES currencies)",
      "CREATE TABLE stock (sku VARCHAR(20) PRIMARY KEY REFERENCES products, qty INT)",
      "CREATE INDEX orders_by_customer ON orders (customer_id)"};

  @Test
  void readsAnH2SchemaAnalyzesItAndWritesAPlanTheEngineLoads() throws Exception {
    JdbcDataSource h2 = new JdbcDataSource();
    String url = "jdbc:h2:mem:shop-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1";
    h2.setURL(url);
    exec(h2, SHOP);
    exec(h2, "CREATE TABLE cutover_changes (seq BIGINT PRIMARY KEY)");
    Schema schema = Schema.read(h2);
    assertEquals(List.of("currencies", "customer_addresses", "customers", "order_items", "orders", "products",
        "shipments", "stock"), schema.tables().stream().map(Schema.Table::name).toList(), "Cutover's tables left out");
    Schema.Table shipments = schema.table("shipments");
    assertEquals(List.of(new Schema.ForeignKey("shipments", List.of("order_id", "line"), "order_items",
        List.of("order_id", "line"))), shipments.foreignKeys());
    assertEquals(List.of("customer_id", "n"), schema.table("customer_addresses").primaryKey());
    assertTrue(schema.table("orders").indexes().stream().anyMatch(i -> i.name().equals("orders_by_customer")
        && i.columns().equals(List.of("customer_id")) && !i.unique()), schema.table("orders").indexes().toString());

    Path log = dir.resolve("access.jsonl");
    Files.writeString(log, String.join("\n",
        "# one line per kind of transaction",
        "{\"tx\": \"place_order\", \"reads\": [\"customers\", \"products\", \"currencies\"], "
            + "\"writes\": [\"orders\", \"order_items\", \"stock\"], \"count\": 1200}",
        "{\"tx\": \"ship\", \"reads\": [\"orders\"], \"writes\": [\"shipments\"], \"count\": 900}",
        "{\"tx\": \"restock\", \"writes\": [\"stock\", \"products\"], \"count\": 300}",
        "",
        "{\"tx\": \"signup\", \"writes\": [\"customers\", \"customer_addresses\"], \"count\": 400}",
        "{\"tx\": \"browse\", \"reads\": [\"products\", \"stock\", \"currencies\", \"unknown_table\"]}"));
    List<Transaction> transactions = AccessLog.read(log);
    assertEquals(5, transactions.size());
    assertEquals(1, transactions.get(4).count());
    Analysis analysis = BoundaryAnalyzer.analyze(schema, transactions, Hints.NONE, 1);
    assertEquals("currencies", analysis.referenceTables().get(0).table());
    assertEquals(analysis.serviceOf("orders"), analysis.serviceOf("order_items"));
    assertEquals(analysis.serviceOf("customers"), analysis.serviceOf("customer_addresses"));

    List<Path> files = AnalysisWriter.write(analysis, dir.resolve("out"), url, "sa");
    assertEquals(List.of("plan.yaml", "report.md", "graph.dot", "analysis.json"),
        files.stream().map(f -> f.getFileName().toString()).toList());
    MigrationConfig plan = MigrationConfig.load(dir.resolve("out/plan.yaml"));
    assertEquals(analysis.services().size(), plan.services().size());
    assertEquals(url, plan.monolith().url());
    long replicated = plan.tables().stream().filter(t -> t.source().equals("currencies")).count();
    assertEquals(analysis.referenceTables().get(0).usedBy().size(), replicated);
    assertTrue(plan.tables().stream().filter(t -> t.source().equals("currencies")).noneMatch(
        MigrationConfig.TableConfig::bidirectional), "reference data flows one way");
    String report = Files.readString(dir.resolve("out/report.md"));
    assertTrue(report.contains("## Shared reference data") && report.contains("currencies"), report);
    assertTrue(report.contains("observed transactions would span services"), report);
    String dot = Files.readString(dir.resolve("out/graph.dot"));
    assertTrue(dot.startsWith("digraph services {") && dot.contains("subgraph cluster_0"), dot);
    String json = Files.readString(dir.resolve("out/analysis.json"));
    assertTrue(json.contains("\"referenceTables\": [") && json.contains("\"modularity\": "), json);
    assertTrue(json.contains("\"usedBy\""), json);
  }

  @Test
  void readsAPostgresSchemaAndItsStatementStatistics() throws Exception {
    DataSource pg = Postgres.newDatabase("analyze_shop");
    exec(pg, SHOP);
    exec(pg, "CREATE EXTENSION IF NOT EXISTS pg_stat_statements", "SELECT pg_stat_statements_reset()");
    try (Connection c = pg.getConnection(); Statement st = c.createStatement()) {
      st.execute("INSERT INTO currencies VALUES ('EUR', 'euro')");
      st.execute("INSERT INTO customers VALUES (1, 'a@b', 'EUR')");
      for (int i = 0; i < 5; i++) {
        st.execute("INSERT INTO orders VALUES (" + (10 + i) + ", 1, 'EUR')");
        st.execute("SELECT o.id FROM orders o JOIN order_items i ON i.order_id = o.id WHERE o.customer_id = " + i);
      }
      st.execute("UPDATE stock SET qty = qty - 1 WHERE sku IN (SELECT sku FROM products WHERE title = 'x')");
    }
    Schema schema = Schema.read(pg);
    assertEquals(8, schema.tables().size());
    assertEquals(List.of("order_id", "line"), schema.table("shipments").foreignKeys().get(0).columns());
    List<Transaction> statements = AccessLog.fromPgStatStatements(pg);
    assertTrue(statements.stream().anyMatch(t -> t.reads().equals(Set.of("orders", "order_items")) && t.count() == 5),
        statements.toString());
    assertTrue(statements.stream().anyMatch(t -> t.writes().equals(Set.of("stock"))
        && t.reads().equals(Set.of("products"))), statements.toString());
    Analysis analysis = BoundaryAnalyzer.analyze(schema, statements, Hints.NONE, 1);
    assertTrue(analysis.services().size() >= 2, analysis.services().toString());
    AnalysisWriter.write(analysis, dir.resolve("pg"), TestSupport.url(pg), "postgres");
    MigrationConfig plan = MigrationConfig.load(dir.resolve("pg/plan.yaml"));
    assertTrue(plan.services().values().stream().allMatch(s -> s.url().startsWith("jdbc:postgresql://")),
        plan.services().toString());
  }

  @Test
  void refusesMalformedAccessLogsNamingTheLine() throws Exception {
    Map<String, String> bad = Map.of(
        "{\"tx\": \"a\", \"writes\": [\"t\"], \"count\": 0}", "'count' must be a whole number of at least 1",
        "{\"tx\": \"a\", \"wrties\": [\"t\"]}", "unknown key 'wrties'",
        "{\"writes\": [\"t\"]}", "'tx' must be a non-empty string",
        "{\"tx\": \"a\", \"reads\": \"t\"}", "'reads' must be a list of table names",
        "{\"tx\": \"a\", \"reads\": [1]}", "'reads' must be a list of table names, found 1",
        "[1, 2]", "expected a JSON object",
        "{\"tx\": \"a\", \"count\": 1.5}", "whole numbers only",
        "{\"tx\": \"a\" \"count\": 1}", "expected '}'",
        "{\"tx\": \"a\", \"tx\": \"b\"}", "key 'tx' appears twice",
        "{\"tx\": \"unterminated}", "unterminated string");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      Path file = dir.resolve("bad.jsonl");
      Files.writeString(file, "{\"tx\": \"ok\", \"writes\": [\"t\"]}\n" + e.getKey() + "\n");
      IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> AccessLog.read(file));
      assertTrue(error.getMessage().startsWith(file + " line 2: "), error.getMessage());
      assertTrue(error.getMessage().contains(e.getValue()), e.getKey() + " -> " + error.getMessage());
    }
    Path ok = dir.resolve("ok.jsonl");
    Files.writeString(ok, "{\"tx\": \"\\u0041\\n\", \"reads\": [\"A\"], \"writes\": [\"a\"], \"count\": 2, }\n");
    assertThrows(IllegalArgumentException.class, () -> AccessLog.read(ok), "trailing commas are not JSON");
    Files.writeString(ok, "{\"tx\": \"\\u0041\\n\", \"reads\": [\"A\", \"b\"], \"writes\": [\"a\"], \"count\": 2}\n");
    Transaction t = AccessLog.read(ok).get(0);
    assertEquals("A\n", t.id());
    assertEquals(Set.of("b"), t.reads(), "a table both read and written counts as written");
    assertEquals(Map.of("reads", Set.of("a", "b"), "writes", Set.of("c")), AccessLog.tablesOf(
        "INSERT INTO public.\"c\" SELECT * FROM a, b x WHERE true"));
  }

  @Test
  void groupsAdventureWorksCloseToItsOwnModules() throws Exception {
    SchemaOutline outline = SchemaOutline.read(Path.of("..", "docs", "schemas", "adventureworks.txt"));
    assertEquals(68, outline.schema().tables().size());
    Analysis analysis = BoundaryAnalyzer.analyze(outline.schema(), List.of(), Hints.NONE, 1);
    Map<String, String> proposed = new java.util.HashMap<>();
    analysis.services().forEach(s -> s.tables().forEach(t -> proposed.put(t, s.name())));
    Map<String, String> truth = new java.util.HashMap<>(outline.modules());
    analysis.referenceTables().forEach(r -> truth.remove(r.table()));
    double ari = PlantedSchema.adjustedRandIndex(truth, proposed);
    // the figure in docs/BENCHMARKS.md section 8; the floor keeps a regression from passing unnoticed
    assertTrue(ari > 0.3, "ARI against the modules " + ari + ": " + analysis.services());
    assertEquals(analysis.serviceOf("product"), analysis.serviceOf("productsubcategory"));
    assertEquals(analysis.serviceOf("person"), analysis.serviceOf("emailaddress"));
    assertEquals(analysis.serviceOf("workorder"), analysis.serviceOf("workorderrouting"));
    Path bad = dir.resolve("bad.txt");
    Files.writeString(bad, "a.x: a.y\n");
    assertThrows(IllegalArgumentException.class, () -> SchemaOutline.read(bad));
    Files.writeString(bad, "nodot: \n");
    assertThrows(IllegalArgumentException.class, () -> SchemaOutline.read(bad));
  }
}
