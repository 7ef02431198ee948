package io.cutover.engine.capture;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.url;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cutover's own writes on PostgreSQL (made under a replication origin) are never captured, whether the server
 * drops them ({@code origin 'none'}, PostgreSQL 16+) or the decoder skips them (older servers): no echo.
 */
@Timeout(60)
class PostgresOriginFilterTest {
  @TempDir Path dir;

  @ParameterizedTest(name = "server filter {0}")
  @ValueSource(booleans = {true, false})
  void shouldCaptureApplicationWritesAndNeverCutoversOwn(boolean serverFilter) throws Exception {
    DataSource db = Postgres.newDatabase("origin" + serverFilter);
    exec(db, "CREATE TABLE note (id INT PRIMARY KEY, body TEXT)");
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    String slot = "origin_filter_" + serverFilter;
    PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH, url(db), user).tables("note")
        .slot(slot).serverOriginFilter(serverFilter).build();
    capture.install();
    List<String> seen = new CopyOnWriteArrayList<>();
    ChangeHandler sink = new ChangeHandler() {
      @Override
      public String name() {
        return "sink";
      }

      @Override
      public void onChange(ChangeRecord change) {
        seen.add(change.decode().after().get("body").asString());
      }
    };
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("j")))
        .build()).apply(sink).start()) {
      capture.start(pipeline);
      exec(db, "INSERT INTO note VALUES (1, 'application')");
      try (Connection c = db.getConnection()) {
        ApplySessions.mark(c, "origin-test-" + serverFilter);
        try (Statement st = c.createStatement()) {
          st.execute("INSERT INTO note VALUES (2, 'cutover')");
          st.execute("UPDATE note SET body = 'cutover again' WHERE id = 1");
        }
      }
      exec(db, "INSERT INTO note VALUES (3, 'application again')");
      long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
      while (seen.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      Thread.sleep(500);
      assertEquals(List.of("application", "application again"), seen);
    } finally {
      capture.close();
      capture.uninstall();
      try (Connection c = db.getConnection()) {
        ApplySessions.dropOrigin(c, "origin-test-" + serverFilter);
      }
    }
  }
}
