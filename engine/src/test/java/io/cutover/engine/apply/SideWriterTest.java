package io.cutover.engine.apply;

import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.sync.H2SyncFixture;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

class SideWriterTest {
  private static final Side SERVICE = Side.service("svc");

  @Test
  void updatesOfATableAlternatingShapesGoInFewRoundTripsAndEachRowKeepsItsOrder() throws Exception {
    DataSource ds = H2SyncFixture.h2("regroup");
    execute(ds, "CREATE TABLE counters (id INT PRIMARY KEY, name VARCHAR(20), n INT)");
    for (int id = 1; id <= 50; id++) {
      execute(ds, "INSERT INTO counters VALUES (" + id + ", 'v0', 0)");
    }
    List<SideWriter.Indexed> writes = new ArrayList<>();
    int[] expectedN = new int[51];
    long index = 0;
    for (int round = 1; round <= 4; round++) {
      for (int id = 1; id <= 50; id++) {
        boolean counts = (id + round) % 2 == 0; // two shapes, alternating row by row
        Row values = Row.of("name", Value.of("v" + round));
        Row expected = Row.of("name", Value.of("v" + (round - 1))); // only holds if this row's order holds
        Row deltas = counts ? Row.of("n", Value.of(1L)) : null;
        if (counts) {
          expectedN[id]++;
        }
        writes.add(new SideWriter.Indexed(++index, new Write(SERVICE, "counters", Write.Type.UPDATE,
            Row.of("id", Value.of((long) id)), values, expected, deltas)));
      }
    }
    SideWriter writer = new SideWriter("regroup-test", SERVICE, ds, Map.of("counters",
        TableMapping.identity("counters")));
    try {
      assertEquals(0, writer.write(writes, index));
      assertTrue(writer.batches <= 8, "200 updates in two shapes over four rounds: one batch per shape and round, "
          + "not one per change of shape; was " + writer.batches);
    } finally {
      writer.close();
    }
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id, name, n FROM counters ORDER BY id")) {
      while (rs.next()) {
        assertEquals("v4", rs.getString(2), "row " + rs.getInt(1) + " took its four updates in order");
        assertEquals(expectedN[rs.getInt(1)], rs.getInt(3), "row " + rs.getInt(1) + " counted every delta once");
      }
    }
  }

  @Test
  void aTableWithAnotherUniqueColumnKeepsTheSourceOrder() throws Exception {
    DataSource ds = H2SyncFixture.h2("unique");
    execute(ds, "CREATE TABLE users (id INT PRIMARY KEY, email VARCHAR(20) UNIQUE, n INT)");
    execute(ds, "INSERT INTO users VALUES (1, 'y', 0), (2, 'x', 0), (3, 'w', 0)");
    // In the source, user 1 gave up 'y' before user 2 took it; grouping by shape would run user 2's update
    // (email and counter, the shape of the first statement) before user 1's (email only) and collide.
    List<SideWriter.Indexed> writes = List.of(
        update(1, 3, "v", "w", true),
        update(2, 1, "z", "y", false),
        update(3, 2, "y", "x", true));
    SideWriter writer = new SideWriter("unique-test", SERVICE, ds, Map.of("users", TableMapping.identity("users")));
    try {
      assertEquals(0, writer.write(writes, 3));
    } finally {
      writer.close();
    }
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT email FROM users ORDER BY id")) {
      List<String> emails = new ArrayList<>();
      while (rs.next()) {
        emails.add(rs.getString(1));
      }
      assertEquals(List.of("z", "y", "v"), emails);
    }
  }

  /**
   * Changes held while their table was paused are released in order, each perhaps with several writes to one side:
   * every write of a change runs, and a release replayed after a crash runs none of those the side committed.
   */
  @Test
  void everyWriteOfAReleasedHeldChangeRunsOnceAcrossAReplay() throws Exception {
    DataSource ds = H2SyncFixture.h2("held");
    execute(ds, "CREATE TABLE item (id INT PRIMARY KEY, colour VARCHAR(20), n INT)");
    execute(ds, "INSERT INTO item VALUES (1, NULL, 0)");
    Row key = Row.of("id", Value.of(1L));
    List<SideWriter.Indexed> release = List.of(
        new SideWriter.Indexed(7, new Write(SERVICE, "item", Write.Type.UPDATE, key, Row.of("colour",
            Value.of("red")), null), true),
        new SideWriter.Indexed(7, new Write(SERVICE, "item", Write.Type.UPDATE, key, Row.EMPTY, null,
            Row.of("n", Value.of(5L))), true),
        new SideWriter.Indexed(9, new Write(SERVICE, "item", Write.Type.UPDATE, key, Row.EMPTY, null,
            Row.of("n", Value.of(-2L))), true));
    for (int run = 0; run < 2; run++) {
      SideWriter writer = new SideWriter("held-test", SERVICE, ds, Map.of("item", TableMapping.identity("item")));
      try {
        writer.write(release, 20 + run);
      } finally {
        writer.close();
      }
      try (Connection c = ds.getConnection(); Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT colour, n FROM item")) {
        rs.next();
        assertEquals("red|3", rs.getString(1) + "|" + rs.getInt(2), "run " + run + ": both writes of change 7 and "
            + "the one of change 9, once");
      }
    }
  }

  static java.util.stream.Stream<DataSource> databases() {
    return java.util.stream.Stream.of(H2SyncFixture.h2("versions"), io.cutover.engine.testing.Postgres
        .newDatabase("versions"));
  }

  /**
   * On a side keeping row versions, a column is set only where the side has no change sync has not seen, even when
   * the row holds the expected value; its counter deltas wait too (they would be missing from that change's
   * image, which reconciling answers with what it lacks); a delete waits the same way.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.MethodSource("databases")
  void writesWaitForTheSidesUnseenChangesWhateverTheValuesSay(DataSource ds) throws Exception {
    execute(ds, "CREATE TABLE item (id BIGINT PRIMARY KEY, name VARCHAR(20), stock INT)");
    execute(ds, "INSERT INTO item VALUES (1, 'a', 0), (2, 'b', 0), (3, 'c', 0), (4, 'd', 0), (5, 'e', 0)");
    SideWriter writer = new SideWriter("versions-test", SERVICE, ds, Map.of("item", TableMapping.identity("item")));
    try {
      assertEquals(io.cutover.engine.db.RowVersions.Kind.NONE, writer.versions(), "no version table, no conditions");
      writer.close();
      execute(ds, io.cutover.engine.db.RowVersions.CREATE);
      for (long[] version : new long[][] {{1, 5}, {2, 9}, {4, 7}, {5, 7}}) {
        execute(ds, "INSERT INTO cutover_row_versions VALUES ('item', '" + io.cutover.engine.db.RowVersions.key(
            Map.of("id", Value.of(version[0]))) + "', " + version[1] + ")");
      }
      assertEquals(io.cutover.engine.db.RowVersions.Kind.SEQUENCE, writer.versions());
      List<SideWriter.Indexed> writes = List.of(
          versioned(1, Write.Type.UPDATE, "x", "a", 5),
          versioned(2, Write.Type.UPDATE, "y", "b", 5),
          versioned(3, Write.Type.UPDATE, "z", null, 0),
          versioned(4, Write.Type.DELETE, null, "d", 5),
          versioned(5, Write.Type.DELETE, null, "e", 7));
      writer.write(writes, 5);
    } finally {
      writer.close();
    }
    List<String> rows = new ArrayList<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT id, name, stock FROM item ORDER BY id")) {
      while (rs.next()) {
        rows.add(rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getInt(3));
      }
    }
    assertEquals(List.of("1|x|1", "2|b|0", "3|z|1", "4|d|0"), rows, "row 2 changed after what sync saw (9 > 5): "
        + "its name and count stay; row 4 likewise is not deleted");
  }

  /**
   * An application transaction holding the row, not yet committed, when the batch starts: the writer waits for it
   * and then sees its version (a check inside the UPDATE would read the statement's older snapshot and pass). The
   * application wrote the very value the write expects, so the values alone would let the write through.
   */
  @Test
  void aWriteWaitsForAnUncommittedApplicationChangeAndSeesItsVersion() throws Exception {
    DataSource ds = io.cutover.engine.testing.Postgres.newDatabase("versionlock");
    execute(ds, "CREATE TABLE item (id BIGINT PRIMARY KEY, name VARCHAR(20), stock INT)");
    execute(ds, "INSERT INTO item VALUES (1, 'a', 0)");
    execute(ds, io.cutover.engine.db.RowVersions.CREATE);
    String key = io.cutover.engine.db.RowVersions.key(Map.of("id", Value.of(1L)));
    execute(ds, "INSERT INTO cutover_row_versions VALUES ('item', '" + key + "', 5)");
    SideWriter writer = new SideWriter("versionlock-test", SERVICE, ds, Map.of("item", TableMapping.identity("item")));
    java.util.concurrent.CountDownLatch holding = new java.util.concurrent.CountDownLatch(1);
    Thread application = new Thread(() -> {
      try (Connection c = ds.getConnection()) {
        c.setAutoCommit(false);
        try (Statement st = c.createStatement()) {
          st.execute("UPDATE item SET name = 'a' WHERE id = 1"); // as its trigger would, in its transaction:
          st.execute("UPDATE cutover_row_versions SET seq = 6 WHERE row_key = '" + key + "'");
        }
        holding.countDown();
        Thread.sleep(150);
        c.commit();
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    try {
      application.start();
      holding.await();
      writer.write(List.of(versioned(1, Write.Type.UPDATE, "s", "a", 5)), 1);
      application.join();
    } finally {
      writer.close();
    }
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT name, stock FROM item")) {
      rs.next();
      assertEquals("a|0", rs.getString(1) + "|" + rs.getInt(2), "the application's write stays, and so does the "
          + "count: the delta waits for the application's change to be reconciled");
    }
  }

  private static SideWriter.Indexed versioned(long id, Write.Type type, String name, String was, long seen) {
    Row key = Row.of("id", Value.of(id));
    Write write = type == Write.Type.DELETE
        ? new Write(SERVICE, "item", type, key, null, Row.of("name", Value.of(was)))
        : new Write(SERVICE, "item", type, key, Row.of("name", Value.of(name)),
            was == null ? null : Row.of("name", Value.of(was)), Row.of("stock", Value.of(1L)));
    return new SideWriter.Indexed(id, write.seen(seen));
  }

  /**
   * After a crash the journal replays from the state store's position, in batches of the replay's own making:
   * the first may end before the batch this side committed last. Its position must not move back, or the writes
   * between the two would run a second time (docs/defects/sync-crash-soak-2026-12-07.md, cause 1).
   */
  @Test
  void aReplayedBatchEndingEarlierDoesNotMoveThePositionBackNorWriteADeltaTwice() throws Exception {
    DataSource ds = H2SyncFixture.h2("replay-split");
    execute(ds, "CREATE TABLE counters (id INT PRIMARY KEY, n INT)");
    execute(ds, "INSERT INTO counters VALUES (11, 0), (12, 0), (13, 0), (14, 0)");
    Map<String, TableMapping> mappings = Map.of("counters", TableMapping.identity("counters"));
    SideWriter first = new SideWriter("replay-test", SERVICE, ds, mappings);
    try {
      first.write(List.of(delta(11), delta(12), delta(13)), 13); // committed, then the engine is killed
    } finally {
      first.close();
    }
    SideWriter restarted = new SideWriter("replay-test", SERVICE, ds, mappings);
    try {
      restarted.write(List.of(delta(11)), 11); // the replay's first batch ends earlier
      restarted.write(List.of(delta(12), delta(13), delta(14)), 14);
    } finally {
      restarted.close();
    }
    assertEquals(List.of("11|1", "12|1", "13|1", "14|1"), rows(ds, "SELECT id, n FROM counters ORDER BY id"),
        "every delta counted once across the replay");
    assertEquals(List.of("14"), rows(ds, "SELECT journal_index FROM cutover_apply_position WHERE applier = "
        + "'replay-test'"));
  }

  /**
   * Whether a side keeps row versions is part of every decision on it: a database out of reach must fail the
   * batch (decided again later), not answer "none", or the batch is decided without the versions and a delta can
   * land on a change of the side's that sync has not seen (docs/defects/sync-crash-soak-2026-12-07.md, cause 4).
   */
  @Test
  void aSideOutOfReachFailsTheBatchInsteadOfAnsweringItKeepsNoRowVersions() throws Exception {
    DataSource ds = H2SyncFixture.h2("versions-unreachable");
    execute(ds, io.cutover.engine.db.RowVersions.CREATE);
    boolean[] down = {true};
    DataSource flaky = (DataSource) java.lang.reflect.Proxy.newProxyInstance(getClass().getClassLoader(),
        new Class<?>[] {DataSource.class}, (proxy, method, args) -> {
          if (method.getName().equals("getConnection") && down[0]) {
            throw new SQLException("connection refused");
          }
          try {
            return method.invoke(ds, args);
          } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
          }
        });
    SideWriter writer = new SideWriter("versions-test", SERVICE, flaky, Map.of());
    try {
      IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
          writer::versions);
      assertTrue(e.getMessage().contains("connection refused"), e.getMessage());
      down[0] = false;
      assertEquals(io.cutover.engine.db.RowVersions.Kind.SEQUENCE, writer.versions());
    } finally {
      writer.close();
    }
  }

  private static SideWriter.Indexed delta(int id) {
    return new SideWriter.Indexed(id, new Write(SERVICE, "counters", Write.Type.UPDATE,
        Row.of("id", Value.of((long) id)), Row.EMPTY, null, Row.of("n", Value.of(1L))));
  }

  private static SideWriter.Indexed update(long index, int id, String email, String was, boolean counts) {
    return new SideWriter.Indexed(index, new Write(SERVICE, "users", Write.Type.UPDATE,
        Row.of("id", Value.of((long) id)), Row.of("email", Value.of(email)), Row.of("email", Value.of(was)),
        counts ? Row.of("n", Value.of(1L)) : null));
  }

  private static void execute(DataSource ds, String sql) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
