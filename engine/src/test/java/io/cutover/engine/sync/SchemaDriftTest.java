package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Schema drift: a column added on one side only, then a type changed on one side, pause that table's sync with a
 * reason naming the column while another table goes on; nothing journaled is lost and the table resumes, in
 * order, once the schemas agree.
 */
@Timeout(120)
class SchemaDriftTest {
  @TempDir Path dir;
  private H2SyncFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  private void await(String what, BooleanSupplier condition) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what + "; paused: " + fixture.sync.paused());
      }
      fixture.pipeline.publish(BidirectionalSync.tick()).join();
      Thread.sleep(50);
    }
  }

  private BooleanSupplier same(String sql) {
    return () -> {
      try {
        return rows(fixture.monolith, sql).equals(rows(fixture.service, sql));
      } catch (Exception e) {
        return false;
      }
    };
  }

  @Test
  void shouldPauseADriftingTableWithAClearReasonKeepOthersGoingAndResumeWhenSchemasAgree() throws Exception {
    fixture = new H2SyncFixture(dir, "catalog", new String[] {"item", "note"}, new String[] {"item", "note"},
        b -> b.table(TableMapping.identity("item"), ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER))
            .table(TableMapping.identity("note"), ConflictPolicy.LAST_WRITER_WINS));
    for (var side : List.of(fixture.monolith, fixture.service)) {
      exec(side, "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(40), stock INT NOT NULL)",
          "CREATE TABLE note (id INT PRIMARY KEY, body VARCHAR(100))",
          "INSERT INTO item VALUES (1, 'bolt', 10)");
    }
    fixture.start();
    exec(fixture.monolith, "UPDATE item SET stock = stock - 1 WHERE id = 1");
    fixture.awaitQuiet();
    assertEquals(List.of("1|bolt|9"), rows(fixture.service, "SELECT * FROM item"));

    // The service adds a column the monolith does not have, and uses it.
    exec(fixture.service, "ALTER TABLE item ADD COLUMN colour VARCHAR(10)",
        "UPDATE item SET colour = 'red', stock = stock + 5 WHERE id = 1");
    await("item to pause", () -> {
      try {
        return fixture.sync.paused().containsKey("item");
      } catch (Exception e) {
        return false;
      }
    });
    String reason = fixture.sync.paused().get("item");
    assertTrue(reason.contains("colour") && reason.contains("monolith"), reason);
    // Meanwhile: the monolith keeps selling (held, in order), and another table syncs as usual.
    exec(fixture.monolith, "UPDATE item SET stock = stock - 2 WHERE id = 1", "INSERT INTO note VALUES (1, 'hello')");
    await("note to sync while item is paused", same("SELECT * FROM note"));
    assertEquals(List.of("1|bolt|7"), rows(fixture.monolith, "SELECT id, name, stock FROM item"));

    // The monolith gets the column too: the schemas agree, held changes apply in order, nothing lost.
    exec(fixture.monolith, "ALTER TABLE item ADD COLUMN colour VARCHAR(10)");
    await("item to resume", same("SELECT id, name, stock, colour FROM item"));
    assertTrue(fixture.sync.paused().isEmpty());
    assertEquals(List.of("1|bolt|12|red"), rows(fixture.monolith, "SELECT id, name, stock, colour FROM item"));

    // A type changed on one side only: the service's name becomes a number. Numbers still go over as text;
    // text that is no number cannot go the other way: that is the conflict that pauses the table.
    exec(fixture.service, "UPDATE item SET name = '6' WHERE id = 1", "ALTER TABLE item ALTER COLUMN name INT",
        "UPDATE item SET name = 7 WHERE id = 1");
    await("the number to reach the monolith as text", same("SELECT id, stock FROM item"));
    await("name 7 in the monolith", () -> {
      try {
        return rows(fixture.monolith, "SELECT name FROM item").equals(List.of("7"));
      } catch (Exception e) {
        return false;
      }
    });
    exec(fixture.monolith, "UPDATE item SET name = 'hex bolt' WHERE id = 1");
    await("item to pause on the type", () -> {
      try {
        return fixture.sync.paused().getOrDefault("item", "").contains("name");
      } catch (Exception e) {
        return false;
      }
    });
    assertTrue(fixture.sync.paused().get("item").contains("'hex bolt'"), fixture.sync.paused().toString());
    exec(fixture.service, "ALTER TABLE item ALTER COLUMN name VARCHAR(40)");
    await("item to resume", () -> {
      try {
        return fixture.sync.paused().isEmpty();
      } catch (Exception e) {
        return false;
      }
    });
    await("the held rename to land", same("SELECT id, name, stock, colour FROM item"));
    assertEquals(List.of("1|hex bolt|12|red"), rows(fixture.service, "SELECT id, name, stock, colour FROM item"));
  }

}
