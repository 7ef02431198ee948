package io.cutover.engine.validate;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.testing.Postgres;
import io.cutover.engine.testing.TestSupport;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A table pair on real PostgreSQL several times larger than the validating JVM's heap is validated exactly: the
 * rows are streamed with a cursor, never held.
 */
@Timeout(300)
class ConstantMemoryValidationTest {
  private static final int ROWS = 100_000;
  private static final String HEAP = "-Xmx40m";

  @Test
  void validatesATableLargerThanTheHeap() throws Exception {
    DataSource monolith = Postgres.newDatabase("big_monolith");
    DataSource service = Postgres.newDatabase("big_service");
    for (DataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE big (id BIGINT PRIMARY KEY, body TEXT NOT NULL, n INT)",
          "INSERT INTO big SELECT g, repeat(md5(g::text), 25), g % 1000 FROM generate_series(1, " + ROWS + ") g");
    }
    exec(monolith, "DELETE FROM big WHERE id = 777");
    exec(service, "DELETE FROM big WHERE id = 50000", "UPDATE big SET n = -1 WHERE id = 99999");
    long tableBytes = Long.parseLong(rows(monolith, "SELECT pg_total_relation_size('big')").get(0));

    List<String> command = new ArrayList<>(TestSupport.javaCommand(ValidationWorker.class, TestSupport.url(monolith),
        TestSupport.url(service), "postgres", "big"));
    command.add(command.indexOf("-cp"), HEAP);
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, waitFor(process), out);
    List<String> lines = out.lines().filter(l -> !l.contains(" INFO ") && !l.contains(" DEBUG ")).toList();
    assertEquals(List.of("50000 MISSING_ON_SERVICE []", "777 MISSING_ON_MONOLITH []", "99999 COLUMNS_DIFFER [n]"),
        lines.subList(0, 3).stream().sorted().toList(), out);
    String[] summary = lines.get(3).split(" ");
    assertEquals(ROWS - 1, Long.parseLong(summary[1]));
    assertEquals(ROWS - 1, Long.parseLong(summary[2]));
    long heap = Long.parseLong(summary[4]);
    assertTrue(tableBytes > 2 * heap, "each table (" + tableBytes + " bytes) is more than twice the heap (" + heap
        + ")");
  }

  private static int waitFor(Process process) throws IOException, InterruptedException {
    return process.waitFor();
  }
}
