package io.cutover.engine.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** One-way sync between two real PostgreSQL databases: logical decoding in, mapped upserts out. */
@Timeout(120)
class PostgresToPostgresSyncTest {
  @TempDir Path dir;

  @Test
  void shouldSyncInsertsUpdatesAndDeletesOfEveryCommonTypeMappedIntoTheService() throws Exception {
    DataSource monolith = Postgres.newDatabase("shop");
    DataSource service = Postgres.newDatabase("payments");
    String columns = "amount NUMERIC(12,2), paid BOOLEAN, ratio DOUBLE PRECISION, paid_at TIMESTAMPTZ, "
        + "booked TIMESTAMP, due DATE, ref UUID, raw BYTEA, meta JSONB, note TEXT";
    exec(monolith, "CREATE TABLE payment (id BIGINT PRIMARY KEY, order_id INT NOT NULL, " + columns
        + ", internal_flag BOOLEAN)");
    exec(service, "CREATE TABLE payments (payment_id BIGINT PRIMARY KEY, order_ref INT NOT NULL, " + columns + ")");
    String url;
    try (Connection c = monolith.getConnection()) {
      url = c.getMetaData().getURL();
    }
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH, url, user).tables("payment")
        .slot("cutover_p2p").replicaIdentityFull(true).build();
    capture.install();
    Map<String, String> mapping = new LinkedHashMap<>();
    mapping.put("id", "payment_id");
    mapping.put("order_id", "order_ref");
    for (String column : List.of("amount", "paid", "ratio", "paid_at", "booked", "due", "ref", "raw", "meta",
        "note")) {
      mapping.put(column, column);
    }
    try (JdbcApplier applier = JdbcApplier.builder("payments", service)
             .map(TableMapping.renamed("payment", "payments").withColumns(mapping)).build();
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir)).ringSize(256).build())
             .apply(applier).start()) {
      capture.start(pipeline);
      exec(monolith,
          "INSERT INTO payment VALUES (1, 10, 19.99, FALSE, 0.25, '2026-11-24 10:00:00+01', '2026-11-24 10:00:00.5', "
              + "'2026-12-01', '123e4567-e89b-12d3-a456-426614174000', '\\x0102ff', '{\"card\": \"visa\"}', "
              + "'first', TRUE)",
          "INSERT INTO payment VALUES (2, 11, 5.00, FALSE, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'it''s', FALSE)",
          "UPDATE payment SET paid = TRUE, paid_at = '2026-11-24 12:00:00+00' WHERE id = 1",
          "BEGIN; UPDATE payment SET amount = 6.00 WHERE id = 2; INSERT INTO payment (id, order_id) VALUES (3, 12); "
              + "COMMIT",
          "DELETE FROM payment WHERE id = 3",
          // far from 1970 (java.time's microsecond difference of instants overflows before 1678 and after 2261)
          "INSERT INTO payment (id, order_id, paid_at, booked) VALUES (4, 13, '9999-12-31 23:59:59.999999+00', "
              + "'1500-06-01 12:00:00.000005'), (5, 14, '1500-06-01 12:00:00+00', '9999-12-31 23:59:59')");
      String query = "SELECT * FROM %s ORDER BY 1";
      String expected = "SELECT id, order_id, amount, paid, ratio, paid_at, booked, due, ref, raw, meta, note "
          + "FROM payment ORDER BY 1";
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (!rows(service, String.format(query, "payments")).equals(rows(monolith, expected))
          && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(rows(monolith, expected), rows(service, String.format(query, "payments")));
      assertEquals(4, rows(service, "SELECT 1 FROM payments").size());
      assertEquals(List.of("it's"), rows(service, "SELECT note FROM payments WHERE payment_id = 2"));
    } finally {
      capture.uninstall();
    }
  }
}
