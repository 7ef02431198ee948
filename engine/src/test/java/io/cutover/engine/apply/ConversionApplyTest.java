package io.cutover.engine.apply;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A monolith on H2 applied into a PostgreSQL service whose columns have other, compatible types: integers into text
 * keys, booleans into integers, UUIDs into text, whole decimals into bigints, dates into timestamps.
 */
@Timeout(60)
class ConversionApplyTest {
  @TempDir Path dir;

  @Test
  void valuesCrossIntoCompatibleColumnTypesWithoutLoss() throws Exception {
    JdbcDataSource monolith = new JdbcDataSource();
    monolith.setURL("jdbc:h2:mem:conv-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    exec(monolith, "CREATE TABLE things (id BIGINT PRIMARY KEY, flag BOOLEAN, ref UUID, qty DECIMAL(10,0), "
        + "born DATE, note VARCHAR(20))");
    DataSource service = Postgres.newDatabase("conv");
    exec(service, "CREATE TABLE things (id VARCHAR(20) PRIMARY KEY, flag INT, ref VARCHAR(36), qty BIGINT, "
        + "born TIMESTAMP, note TEXT)");
    try (JdbcApplier applier = JdbcApplier.builder("conv", service).source(Side.MONOLITH)
             .map(TableMapping.identity("things")).build();
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
             .build()).apply(applier).start();
         TriggerCapture capture = TriggerCapture.builder(Side.MONOLITH, monolith).tables("things")
             .pollInterval(Duration.ofMillis(2)).build()) {
      capture.install();
      capture.start(pipeline);
      exec(monolith, "INSERT INTO things VALUES (1, TRUE, '123e4567-e89b-12d3-a456-426614174000', 42, "
          + "DATE '2026-11-24', 'a')", "INSERT INTO things VALUES (2, FALSE, NULL, 7, NULL, 'b')",
          "UPDATE things SET flag = TRUE, qty = 8 WHERE id = 2", "DELETE FROM things WHERE id = 1",
          "INSERT INTO things VALUES (3, NULL, '00000000-0000-0000-0000-000000000001', 0, DATE '2000-01-01', NULL)");
      TestSupport.awaitSame(monolith, "SELECT COUNT(*) FROM things", service, "SELECT COUNT(*) FROM things",
          Duration.ofSeconds(20));
      long deadline = System.nanoTime() + 20_000_000_000L;
      List<String> expected = List.of("2|1|null|8|null|b",
          "3|null|00000000-0000-0000-0000-000000000001|0|2000-01-01 00:00:00|null");
      while (!rows(service, "SELECT * FROM things ORDER BY id").equals(expected) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertEquals(expected, rows(service, "SELECT * FROM things ORDER BY id"));
    }
  }
}
