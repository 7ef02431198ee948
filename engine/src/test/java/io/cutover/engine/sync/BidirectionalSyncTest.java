package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Bi-directional sync on the embedded H2 default: both directions, no echo, conflicts resolved by policy. */
@Timeout(120)
class BidirectionalSyncTest {
  @TempDir Path dir;
  private H2SyncFixture fixture;

  @AfterEach
  void close() {
    if (fixture != null) {
      fixture.close();
    }
  }

  /** users (monolith) <-> accounts (service, renamed columns); item <-> item with a counter column. */
  private H2SyncFixture fixture(ConflictPolicy itemPolicy) throws Exception {
    fixture = new H2SyncFixture(dir, "accounts", new String[] {"users", "item"}, new String[] {"accounts", "item"},
        b -> b.table(TableMapping.renamed("users", "accounts").withColumns(Map.of("id", "user_id", "name",
                "display_name", "last_login", "last_login", "password", "password")), ConflictPolicy.LAST_WRITER_WINS)
            .table(TableMapping.identity("item"), itemPolicy));
    exec(fixture.monolith, "CREATE TABLE users (id BIGINT PRIMARY KEY, name VARCHAR(100), last_login BIGINT, "
            + "password VARCHAR(100), newsletter BOOLEAN DEFAULT FALSE)",
        "CREATE TABLE item (id BIGINT PRIMARY KEY, name VARCHAR(100), stock INT NOT NULL)");
    exec(fixture.service, "CREATE TABLE accounts (user_id BIGINT PRIMARY KEY, display_name VARCHAR(100), "
            + "last_login BIGINT, password VARCHAR(100))",
        "CREATE TABLE item (id BIGINT PRIMARY KEY, name VARCHAR(100), stock INT NOT NULL)");
    fixture.start();
    return fixture;
  }

  private static final String USERS = "SELECT id, name, last_login, password FROM users ORDER BY id";
  private static final String ACCOUNTS = "SELECT user_id, display_name, last_login, password FROM accounts "
      + "ORDER BY user_id";
  private static final String ITEMS = "SELECT id, name, stock FROM item ORDER BY id";

  @Test
  void shouldSyncBothDirectionsThroughTheMappingWithoutEchoingAnyWriteBack() throws Exception {
    fixture(ConflictPolicy.LAST_WRITER_WINS);
    exec(fixture.monolith, "INSERT INTO users (id, name, last_login, password) VALUES (1, 'ada', 100, 'x')",
        "INSERT INTO users (id, name, last_login, password) VALUES (2, 'grace', 100, 'y')");
    exec(fixture.service, "INSERT INTO accounts VALUES (3, 'linus', 50, 'z')");
    fixture.awaitQuiet();
    exec(fixture.monolith, "UPDATE users SET last_login = 200 WHERE id = 1");
    exec(fixture.service, "UPDATE accounts SET password = 'x2' WHERE user_id = 1",
        "DELETE FROM accounts WHERE user_id = 2");
    fixture.awaitQuiet();
    List<String> expected = List.of("1|ada|200|x2", "3|linus|50|z");
    assertEquals(expected, rows(fixture.monolith, USERS));
    assertEquals(expected, rows(fixture.service, ACCOUNTS));
    // Every change was captured once, on the side an application made it; none of Cutover's writes came back.
    // (An echo would be captured on the other side, applied back, captured again: writes without bound.)
    long monolithWrites = 3;
    long serviceWrites = 3;
    Thread.sleep(300);
    fixture.awaitQuiet();
    assertEquals(monolithWrites, fixture.monolithCapture.published());
    assertEquals(serviceWrites, fixture.serviceCapture.published());
    assertEquals(monolithWrites + serviceWrites, fixture.pipeline.stats().published());
    SyncStats stats = fixture.sync.stats();
    assertEquals(3, stats.toService());
    assertEquals(3, stats.toMonolith());
    assertEquals(0, stats.conflicts());
  }

  @Test
  void shouldKeepEveryStockChangeFromBothSidesUnderTheCounterRule() throws Exception {
    fixture(ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER));
    exec(fixture.monolith, "INSERT INTO item VALUES (1, 'bolt', 10000)", "INSERT INTO item VALUES (2, 'nut', 500)");
    fixture.awaitQuiet();
    int perWriter = 150;
    ExecutorService writers = Executors.newFixedThreadPool(4);
    List<Future<?>> done = new ArrayList<>();
    for (DataSource side : List.of(fixture.monolith, fixture.service, fixture.monolith, fixture.service)) {
      done.add(writers.submit(() -> {
        try (Connection c = side.getConnection();
             PreparedStatement sell = c.prepareStatement("UPDATE item SET stock = stock - 1 WHERE id = 1");
             PreparedStatement restock = c.prepareStatement("UPDATE item SET stock = stock + 2 WHERE id = 2")) {
          for (int i = 0; i < perWriter; i++) {
            sell.executeUpdate();
            if (i % 3 == 0) {
              restock.executeUpdate();
            }
          }
        }
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get();
    }
    writers.shutdown();
    fixture.awaitQuiet();
    List<String> expected = List.of("1|bolt|" + (10000 - 4 * perWriter), "2|nut|" + (500 + 4 * 2 * 50));
    assertEquals(expected, rows(fixture.monolith, ITEMS));
    assertEquals(expected, rows(fixture.service, ITEMS));
    SyncStats stats = fixture.sync.stats();
    assertTrue(stats.conflicts() > 0, "concurrent writers on both sides collide: " + stats);
    assertEquals(stats.conflicts(), stats.conflictsByKind().get(Conflict.Kind.UPDATE_UPDATE));
    List<Conflict> log = fixture.sync.conflicts(5);
    assertTrue(log.get(0).decisions().get(0).startsWith("stock: counter"), log.get(0).toString());
    assertEquals(List.of("stock"), log.get(0).columns());
  }

  /**
   * The ABA race the row versions close: the service renames a row to the very value sync expects it to hold while
   * that rename is still on its way, so a condition on values alone takes the application's write for sync's own
   * and overwrites it; the application then writes the overwritten value again (a change that changes nothing),
   * and the newer rename's arrival put the row back to an older name on both sides.
   */
  @Test
  void shouldNeverTakeAServiceWriteOfTheValueSyncExpectsForItsOwn() throws Exception {
    fixture(ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER));
    exec(fixture.monolith, "INSERT INTO item VALUES (2, 'n2', 100)");
    fixture.awaitQuiet();
    fixture.monolithCapture.close();
    fixture.serviceCapture.close();
    exec(fixture.monolith, "UPDATE item SET name = 'c0' WHERE id = 2", "UPDATE item SET name = 'c1' WHERE id = 2");
    exec(fixture.service, "UPDATE item SET name = 'c0' WHERE id = 2");
    fixture.restartMonolithCapture();
    fixture.awaitQuiet(fixture.monolith);
    // 'c0 where n2' then 'c1 where c0' reached the service: its own c0, not yet seen, is left alone.
    assertEquals(List.of("2|c0|100"), rows(fixture.service, ITEMS));
    exec(fixture.service, "UPDATE item SET name = 'c1' WHERE id = 2");
    fixture.restartServiceCapture();
    fixture.awaitQuiet();
    // Each side's last rename was c1: so is the row, on both.
    assertEquals(List.of("2|c1|100"), rows(fixture.monolith, ITEMS));
    assertEquals(List.of("2|c1|100"), rows(fixture.service, ITEMS));
  }

  @Test
  void shouldParkAManualConflictWithoutBlockingOtherRowsAndApplyTheOperatorsChoice() throws Exception {
    fixture(ConflictPolicy.of(Rule.MANUAL));
    exec(fixture.monolith, "INSERT INTO item VALUES (1, 'bolt', 10)", "INSERT INTO item VALUES (2, 'nut', 5)");
    fixture.awaitQuiet();
    fixture.monolithCapture.close();
    exec(fixture.monolith, "UPDATE item SET name = 'bolt M6' WHERE id = 1");
    exec(fixture.service, "UPDATE item SET name = 'bolt M8' WHERE id = 1");
    fixture.awaitQuiet(fixture.service);
    fixture.restartMonolithCapture();
    fixture.awaitQuiet();
    List<Conflict> parked = fixture.sync.parked();
    assertEquals(1, parked.size());
    Conflict conflict = parked.get(0);
    assertEquals(Conflict.Outcome.PARKED, conflict.outcome());
    assertEquals(List.of("name"), conflict.columns());
    // Each side keeps its own value while parked; other rows keep syncing.
    assertEquals(List.of("1|bolt M6|10", "2|nut|5"), rows(fixture.monolith, ITEMS));
    assertEquals(List.of("1|bolt M8|10", "2|nut|5"), rows(fixture.service, ITEMS));
    exec(fixture.service, "UPDATE item SET stock = 4 WHERE id = 2");
    fixture.awaitQuiet();
    assertEquals(List.of("1|bolt M6|10", "2|nut|4"), rows(fixture.monolith, ITEMS));
    assertEquals(1, fixture.sync.stats().parked());

    fixture.pipeline.publish(BidirectionalSync.resolution(conflict.id(), Side.service("accounts"))).join();
    fixture.awaitQuiet();
    assertEquals(List.of("1|bolt M8|10", "2|nut|4"), rows(fixture.monolith, ITEMS));
    assertEquals(List.of("1|bolt M8|10", "2|nut|4"), rows(fixture.service, ITEMS));
    assertTrue(fixture.sync.parked().isEmpty());
    Conflict resolved = fixture.sync.conflicts(1).get(0);
    assertEquals(Conflict.Outcome.RESOLVED_BY_OPERATOR, resolved.outcome());
    assertEquals(0, fixture.sync.stats().parked());
    // Synced normally again afterwards.
    exec(fixture.monolith, "UPDATE item SET stock = 9 WHERE id = 1");
    fixture.awaitQuiet();
    assertEquals(List.of("1|bolt M8|9", "2|nut|4"), rows(fixture.service, ITEMS));
  }

  @Test
  void shouldApplyAnOperatorsValuesAndUseACustomResolverFromTheClasspath() throws Exception {
    fixture(ConflictPolicy.of(Rule.MANUAL).column("name", Rule.custom("longest")));
    exec(fixture.monolith, "INSERT INTO item VALUES (1, 'bolt', 10)");
    fixture.awaitQuiet();
    fixture.monolithCapture.close();
    exec(fixture.monolith, "UPDATE item SET name = 'hex bolt M6' WHERE id = 1");
    exec(fixture.service, "UPDATE item SET name = 'bolt M8', stock = 3 WHERE id = 1");
    fixture.awaitQuiet(fixture.service);
    fixture.restartMonolithCapture();
    fixture.awaitQuiet();
    assertEquals(List.of("1|hex bolt M6|3"), rows(fixture.monolith, ITEMS));
    assertEquals(List.of("1|hex bolt M6|3"), rows(fixture.service, ITEMS));

    fixture.monolithCapture.close();
    exec(fixture.monolith, "UPDATE item SET stock = 1 WHERE id = 1");
    exec(fixture.service, "UPDATE item SET stock = 2 WHERE id = 1");
    fixture.awaitQuiet(fixture.service);
    fixture.restartMonolithCapture();
    fixture.awaitQuiet();
    Conflict parked = fixture.sync.parked().get(0);
    fixture.pipeline.publish(BidirectionalSync.resolution(parked.id(), Row.of("stock", Value.of(7L)))).join();
    fixture.awaitQuiet();
    assertEquals(List.of("1|hex bolt M6|7"), rows(fixture.monolith, ITEMS));
    assertEquals(List.of("1|hex bolt M6|7"), rows(fixture.service, ITEMS));
  }

  @Test
  void shouldRefuseAPolicyNamingAResolverThatIsNotThere() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> BidirectionalSync.builder(
        "accounts", H2SyncFixture.h2("m"), H2SyncFixture.h2("s"), dir)
        .table(TableMapping.identity("item"), ConflictPolicy.of(Rule.custom("nobody"))).build());
    assertTrue(e.getMessage().contains("nobody") && e.getMessage().contains("longest"), e.getMessage());
  }
}
