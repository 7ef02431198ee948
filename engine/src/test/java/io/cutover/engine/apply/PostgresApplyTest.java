package io.cutover.engine.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The applier against a real PostgreSQL server: the embedded H2 monolith's changes land in a PostgreSQL service. */
@Timeout(120)
class PostgresApplyTest {
  @TempDir Path dir;

  @Test
  void shouldUpsertAndDeleteIntoRealPostgresqlExactlyOnce() throws Exception {
    JdbcDataSource monolith = new JdbcDataSource();
    monolith.setURL("jdbc:h2:mem:mono-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    exec(monolith, "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer VARCHAR(50), total DECIMAL(10,2), "
        + "paid BOOLEAN, placed TIMESTAMP WITH TIME ZONE, note VARCHAR(100))");
    DataSource service = Postgres.newDatabase("orders_svc");
    exec(service, "CREATE TABLE purchase (order_id BIGINT PRIMARY KEY, customer TEXT, total NUMERIC(10,2), "
        + "paid BOOLEAN, placed TIMESTAMPTZ)");
    TriggerCapture capture = TriggerCapture.builder(Side.MONOLITH, monolith).tables("orders")
        .pollInterval(Duration.ofMillis(2)).build();
    capture.install();
    try (JdbcApplier applier = JdbcApplier.builder("purchases", service)
             .map(TableMapping.renamed("orders", "purchase").withColumns(Map.of("id", "order_id",
                 "customer", "customer", "total", "total", "paid", "paid", "placed", "placed")))
             .build();
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir)).ringSize(256).build())
             .apply(applier).start()) {
      capture.start(pipeline);
      exec(monolith,
          "INSERT INTO orders VALUES (1, 'ada', 10.50, FALSE, TIMESTAMP WITH TIME ZONE '2026-11-24 10:00:00+01', 'x')",
          "INSERT INTO orders VALUES (2, 'bob', 3.00, FALSE, NULL, NULL)",
          "UPDATE orders SET paid = TRUE, total = 11.00 WHERE id = 1",
          "DELETE FROM orders WHERE id = 2");
      String query = "SELECT order_id, customer, total, paid, extract(epoch FROM placed)::bigint FROM purchase "
          + "ORDER BY order_id";
      List<String> expected = List.of("1|ada|11.00|t|1795510800");
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!rows(service, query).equals(expected) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(expected, rows(service, query));
      pipeline.awaitIdle(Duration.ofSeconds(10));
      assertEquals(List.of("purchases|" + pipeline.journal().lastIndex()),
          rows(service, "SELECT applier, journal_index FROM cutover_apply_position"));
    } finally {
      capture.close();
    }
  }

  @Test
  void aRunOfMirroredChangesGoesAsMultiRowStatementsEachRowItsLastImage() throws Exception {
    DataSource service = Postgres.newDatabase("mirror_svc");
    exec(service, "CREATE TABLE stock (sku BIGINT PRIMARY KEY, qty INT, label TEXT)");
    exec(service, "INSERT INTO stock VALUES (1007, 70, 'kept'), (8, 80, 'replaced')");
    List<SideWriter.Indexed> writes = new java.util.ArrayList<>();
    long index = 0;
    for (int round = 1; round <= 3; round++) {
      for (long sku = 1; sku <= 300; sku++) { // 900 changes of 300 rows: each row three times in one batch
        mirror(writes, ++index, "stock", Row.of("sku", Value.of(sku), "qty", Value.of(round * 1000L + sku), "label",
            Value.of("r" + round)));
      }
    }
    mirror(writes, ++index, "stock", Row.of("sku", Value.of(8L), "qty", Value.of(81L), "label", Value.NULL));
    try (SideWriter writer = new SideWriter("mirror", SERVICE, service, Map.of("stock", TableMapping.identity("stock")))) {
      writer.write(writes, index);
      assertEquals(List.of("1|3001|r3", "2|3002|r3", "8|81|null", "300|3300|r3", "1007|70|kept"), rows(service,
          "SELECT sku, qty, label FROM stock WHERE sku IN (1, 2, 8, 300, 1007) ORDER BY sku"));
      assertEquals(299, rows(service, "SELECT 1 FROM stock WHERE label = 'r3'").size());
      // 901 changes, 300 rows (the last image each) in one statement: the rows as one JSON parameter
      assertEquals(1, writer.batches, "statements sent");
      assertEquals(index, writer.position());
    }
  }

  @Test
  void rowsOfATableWithAnotherUniqueIndexAreWrittenInTheirOrder() throws Exception {
    DataSource service = Postgres.newDatabase("unique_svc");
    exec(service, "CREATE TABLE login (id BIGINT PRIMARY KEY, email TEXT UNIQUE)");
    exec(service, "INSERT INTO login VALUES (1, 'a'), (2, 'b')");
    List<SideWriter.Indexed> writes = new java.util.ArrayList<>();
    // the two rows swap their emails through a third value, as the source did
    String[][] steps = {{"1", "tmp"}, {"2", "a"}, {"1", "b"}};
    long index = 0;
    for (String[] step : steps) {
      mirror(writes, ++index, "login", Row.of("id", Value.of(Long.parseLong(step[0])), "email", Value.of(step[1])));
    }
    try (SideWriter writer = new SideWriter("swap", SERVICE, service, Map.of("login", TableMapping.identity("login")))) {
      writer.write(writes, index);
    }
    assertEquals(List.of("1|b", "2|a"), rows(service, "SELECT id, email FROM login ORDER BY id"));
  }

  /**
   * Rows go as one JSON parameter (one statement text and one round trip for any number of rows): every kind of
   * value lands as a bound parameter puts it, and values with no exact JSON form (a year past 9999, JSON
   * documents, a double into a real column) go the other way in the same batch.
   */
  @Test
  void rowsAsJsonLandExactlyAsTuplesWouldForEveryKindOfValue() throws Exception {
    DataSource service = Postgres.newDatabase("json_svc");
    String columns = "id BIGINT PRIMARY KEY, i INT, n NUMERIC(30,10), d DOUBLE PRECISION, r REAL, b BOOLEAN, "
        + "t TEXT, j JSONB, js JSON, y BYTEA, u UUID, dt DATE, ts TIMESTAMP, tz TIMESTAMPTZ, m mood, a INT[]";
    exec(service, "CREATE TYPE mood AS ENUM ('calm', 'busy')", "CREATE TABLE typed (" + columns + ")",
        "CREATE TABLE expected (" + columns + ")", "SET TIME ZONE 'UTC'");
    Row[] rows = {
        typed(1, Value.of(-7L), Value.of(new java.math.BigDecimal("12345678901234567890.0123456789")),
            Value.of(0.1), Value.NULL, Value.of(true),
            Value.of("quote \" back\\slash\nnew line\ttab \u0001 é 日本"),
            Value.NULL, Value.NULL, Value.of(new byte[] {0, 1, -1, 127}),
            Value.of(UUID.fromString("123e4567-e89b-12d3-a456-426614174000")), Value.date(-719_162),
            Value.localTimestampMicros(1_795_510_800_123_456L), Value.timestampMicros(-1L), Value.of("busy"),
            Value.of("{1,2,3}")),
        typed(2, Value.NULL, Value.NULL, Value.of(Double.NaN), Value.NULL, Value.of(false),
            Value.of(""), Value.NULL, Value.NULL, Value.of(new byte[0]), Value.NULL, Value.date(2_932_896),
            Value.localTimestampMicros(0L), Value.timestampMicros(253_402_300_799_999_999L), Value.NULL, Value.NULL),
        // no exact JSON form: JSON documents (spliced in, a text could bring keys of its own), a year past 9999
        typed(3, Value.of(3L), Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.of("tuple"),
            Value.json("{\"k\": [1, \"two\", null]}"), Value.json("[1, 2]"), Value.NULL, Value.NULL, Value.NULL,
            Value.NULL, Value.NULL, Value.NULL, Value.NULL),
        typed(4, Value.of(4L), Value.NULL, Value.NULL, Value.NULL, Value.NULL,
            Value.of("tuple too"), Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.date(2_932_897), Value.NULL,
            Value.NULL, Value.NULL, Value.NULL),
        // a double into a real column: a bound one is rounded from its binary value (to 1.0), a text one from its
        // shortest decimal (to 1.0000001)
        typed(5, Value.NULL, Value.NULL, Value.NULL, Value.of(1 + Math.pow(2, -24)), Value.NULL, Value.NULL,
            Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL),
        typed(6, Value.NULL, Value.NULL, Value.of(Double.NEGATIVE_INFINITY), Value.NULL, Value.NULL, Value.NULL,
            Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL, Value.NULL,
            Value.NULL)};
    List<SideWriter.Indexed> writes = new java.util.ArrayList<>();
    for (int i = 0; i < rows.length; i++) {
      mirror(writes, i + 1, "typed", rows[i]);
    }
    try (SideWriter writer = new SideWriter("json", SERVICE, service,
        Map.of("typed", TableMapping.identity("typed")))) {
      writer.write(writes, rows.length);
      assertEquals(4, writer.batches, "the JSON statement, then the three rows with no JSON form, one by one");
    }
    // what bound parameters write (the tuples' way), row by row; an enum and an array take no bound text
    List<String> bound = List.of("id", "i", "n", "d", "r", "b", "t", "j", "js", "y", "u", "dt", "ts", "tz");
    try (java.sql.Connection c = service.getConnection();
         java.sql.PreparedStatement insert = c.prepareStatement("INSERT INTO expected (" + String.join(", ", bound)
             + ") VALUES (" + String.join(", ", java.util.Collections.nCopies(bound.size(), "?")) + ")")) {
      for (Row row : rows) {
        for (int p = 0; p < bound.size(); p++) {
          io.cutover.engine.db.JdbcValues.bind(insert, p + 1, row.get(bound.get(p)));
        }
        insert.executeUpdate();
      }
    }
    exec(service, "UPDATE expected SET m = 'busy', a = '{1,2,3}' WHERE id = 1");
    String rowsAsText = "SELECT x::text FROM %s x ORDER BY id";
    assertEquals(rows(service, rowsAsText.formatted("expected")), rows(service, rowsAsText.formatted("typed")));
  }

  private static Row typed(long id, Value... values) {
    String[] names = {"i", "n", "d", "r", "b", "t", "j", "js", "y", "u", "dt", "ts", "tz", "m", "a"};
    Row.Builder row = Row.builder().put("id", Value.of(id));
    for (int i = 0; i < names.length; i++) {
      row.put(names[i], values[i]);
    }
    return row.build();
  }

  /**
   * Sync's conditional updates of a table whose rows commute, and its inserts of rows it never saw, go as
   * statements over rows given as JSON: each row's writes in their order (a row met again starts the next
   * statement), every delta once, a column the side changed meanwhile kept, a row not there counted as missed and
   * then filled in, and values without an exact JSON form written one by one.
   */
  @Test
  void runsOfConditionalUpdatesGoAsFewStatementsWithEachRowsConditionsAndOrder() throws Exception {
    DataSource service = Postgres.newDatabase("updates_svc");
    exec(service, "CREATE TABLE counters (id INT PRIMARY KEY, name TEXT, n BIGINT, r REAL)",
        "INSERT INTO counters SELECT g, 'v0', 0, 0 FROM generate_series(1, 200) g",
        "UPDATE counters SET name = 'mine' WHERE id = 7", // the side's own change, on its way to sync
        "CREATE TABLE statements (op TEXT)",
        "CREATE FUNCTION count_statement() RETURNS trigger LANGUAGE plpgsql AS "
            + "$$ BEGIN INSERT INTO statements VALUES (TG_OP); RETURN NULL; END $$",
        "CREATE TRIGGER counted AFTER INSERT OR UPDATE ON counters FOR EACH STATEMENT "
            + "EXECUTE FUNCTION count_statement()");
    List<SideWriter.Indexed> writes = new java.util.ArrayList<>();
    long index = 0;
    for (int round = 1; round <= 3; round++) { // one shape: a run in which every row comes three times
      for (int id = 1; id <= 200; id++) {
        writes.add(new SideWriter.Indexed(++index, new Write(SERVICE, "counters", Write.Type.UPDATE,
            Row.of("id", Value.of((long) id)), Row.of("name", Value.of("v" + round)),
            Row.of("name", Value.of("v" + (round - 1))), Row.of("n", Value.of(1L)))));
      }
    }
    writes.add(new SideWriter.Indexed(++index, new Write(SERVICE, "counters", Write.Type.UPDATE,
        Row.of("id", Value.of(999L)), Row.of("name", Value.of("v1")), Row.of("name", Value.of("v0")),
        Row.of("n", Value.of(1L)))));
    for (int id = 1; id <= 4; id++) { // a double has no exact JSON form for a real column
      writes.add(new SideWriter.Indexed(++index, new Write(SERVICE, "counters", Write.Type.UPDATE,
          Row.of("id", Value.of((long) id)), Row.of("r", Value.of(id + 0.1)), null, null)));
    }
    for (int id = 201; id <= 210; id++) { // rows sync never saw: an update, then the row filled in if missing
      Row key = Row.of("id", Value.of((long) id));
      writes.add(new SideWriter.Indexed(++index, new Write(SERVICE, "counters", Write.Type.UPDATE, key,
          Row.of("name", Value.of("v1")), Row.of("name", Value.of("v0")), Row.of("n", Value.of(1L)))));
      writes.add(new SideWriter.Indexed(index, new Write(SERVICE, "counters", Write.Type.INSERT_MISSING, key,
          Row.builder().put("id", Value.of((long) id)).put("name", Value.of("new")).put("n", Value.of(1L))
              .put("r", Value.of(0L)).build(), null)));
    }
    SideWriter writer = new SideWriter("updates-test", SERVICE, service, Map.of("counters",
        TableMapping.identity("counters")));
    try {
      assertEquals(11, writer.write(writes, index), "the updates of rows 999 and 201-210, not there, missed");
    } finally {
      writer.close();
    }
    assertEquals(List.of("1|v3|3|1.1", "2|v3|3|2.1", "7|mine|3|0", "200|v3|3|0", "201|new|1|0", "210|new|1|0"),
        rows(service, "SELECT id, name, n, r FROM counters WHERE id IN (1, 2, 7, 200, 201, 210) ORDER BY id"));
    assertEquals(List.of("0"), rows(service, "SELECT count(*) FROM counters WHERE id <= 200 AND (n <> 3 OR "
        + "(name <> 'v3' AND id <> 7))"));
    assertEquals(List.of("10"), rows(service, "SELECT count(*) FROM counters WHERE id > 200"));
    // the 611 updates of one shape in three statements (each row met again starts one), the doubles one each,
    // the ten inserts in one
    assertEquals(List.of("INSERT|1", "UPDATE|7"), rows(service,
        "SELECT op, count(*) FROM statements GROUP BY op ORDER BY op"));
  }

  /** Adds the writes mirroring an update of a row (its first column the key) to the service. */
  private static void mirror(List<SideWriter.Indexed> writes, long index, String table, Row after) {
    String key = after.names().get(0);
    Mirror.writes(SERVICE, ChangeEvent.builder(Side.MONOLITH, table, Operation.UPDATE)
        .key(Row.of(key, after.get(key))).after(after).build(), index, false, writes);
  }

  private static final Side SERVICE = Side.service("svc");
}
