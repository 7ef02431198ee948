package io.cutover.engine.apply;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.event.Side;
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
}
