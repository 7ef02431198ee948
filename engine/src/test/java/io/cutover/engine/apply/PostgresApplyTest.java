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
      // 901 changes, 300 rows (the last image each) in statements of 256, 16, 16, 4, 4 and 4 rows
      assertEquals(6, writer.batches, "statements sent");
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

  /** Adds the writes mirroring an update of a row (its first column the key) to the service. */
  private static void mirror(List<SideWriter.Indexed> writes, long index, String table, Row after) {
    String key = after.names().get(0);
    Mirror.writes(SERVICE, ChangeEvent.builder(Side.MONOLITH, table, Operation.UPDATE)
        .key(Row.of(key, after.get(key))).after(after).build(), index, false, writes);
  }

  private static final Side SERVICE = Side.service("svc");
}
