package io.cutover.engine.sync.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
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
