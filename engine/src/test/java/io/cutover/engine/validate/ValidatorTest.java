package io.cutover.engine.validate;

import static io.cutover.engine.testing.TestSupport.exec;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.testing.TestSupport;
import io.cutover.engine.validate.internal.MerkleTree;
import io.cutover.engine.validate.internal.RowHasher;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;

class ValidatorTest {

  private static JdbcDataSource h2() {
    JdbcDataSource ds = new JdbcDataSource();
    ds.setURL("jdbc:h2:mem:validator-" + UUID.randomUUID() + ";DB_CLOSE_DELAY=-1");
    return ds;
  }

  @Test
  void canonicalEncodingEqualsEqualDataAndNothingElse() {
    RowHasher h = new RowHasher();
    assertTrue(h.same(Value.of(new BigDecimal("10.50")), Value.of(new BigDecimal("10.5"))));
    assertTrue(h.same(Value.of(5), Value.of(new BigDecimal("5.000"))));
    assertTrue(h.same(Value.of(2.5), Value.of(new BigDecimal("2.50"))));
    assertTrue(h.same(Value.of(new BigDecimal("0.00")), Value.of(0)));
    assertTrue(h.same(Value.timestampMicros(1_000), Value.localTimestampMicros(1_000)));
    UUID uuid = UUID.randomUUID();
    assertTrue(h.same(Value.of(uuid), Value.of(uuid.toString())));
    assertTrue(h.same(Value.json("{\"a\": [1, 2], \"b\": \"x y\"}"), Value.json("{\"a\":[1,2],\"b\":\"x y\"}")));
    assertTrue(h.same(null, Value.NULL));
    assertFalse(h.same(Value.json("{\"b\":\"x y\"}"), Value.json("{\"b\":\"xy\"}")));
    assertFalse(h.same(Value.NULL, Value.of("")));
    assertFalse(h.same(Value.of(0), Value.of(false)));
    assertFalse(h.same(Value.of(""), Value.of(false)));
    assertFalse(h.same(Value.of(new BigDecimal("10.5")), Value.of(new BigDecimal("10.51"))));
    assertFalse(h.same(Value.of(Double.NaN), Value.of(0)));
    assertFalse(h.same(Value.of(new BigDecimal("1e30")), Value.of(new BigDecimal("1e31"))));
    assertFalse(h.same(Value.date(1), Value.timestampMicros(86_400_000_000L)));
    assertFalse(h.same(Value.of(new byte[] {1}), Value.of(new byte[] {2})));
    assertTrue(h.same(Value.of(new BigDecimal("1e30")), Value.of(new BigDecimal("1000000000000000000000000000000"))));
    Row a = Row.of("id", Value.of(1), "n", Value.of("x"));
    long ha = h.hash(List.of("id", "n"), a);
    long hb = h.laneB();
    assertNotEquals(ha, hb, "two independent lanes");
    assertEquals(ha, h.hash(List.of("id", "n"), Row.of("n", Value.of("x"), "id", Value.of(new BigDecimal("1.0")))));
    assertNotEquals(ha, h.hash(List.of("id", "n"), Row.of("id", Value.of(1), "n", Value.of("y"))));
  }

  @Test
  void treesAreOrderIndependentUpdatableAndComparedToTheExactLeaves() {
    MerkleTree a = new MerkleTree(4);
    MerkleTree b = new MerkleTree(4);
    for (long i = 0; i < 100; i++) {
      a.add(i * 0x9E3779B97F4A7C15L, i, i * 7);
    }
    for (long i = 99; i >= 0; i--) {
      b.add(i * 0x9E3779B97F4A7C15L, i, i * 7);
    }
    assertEquals(a.root(), b.root());
    assertEquals(0, a.differingLeaves(b).length);
    long key = 42 * 0x9E3779B97F4A7C15L;
    b.remove(key, 42, 42 * 7);
    b.add(key, 43, 1);
    assertNotEquals(a.root(), b.root());
    assertEquals(List.of(a.leaf(key)), java.util.Arrays.stream(a.differingLeaves(b)).boxed().toList());
    b.remove(key, 43, 1);
    b.add(key, 42, 42 * 7);
    assertEquals(a.root(), b.root(), "a leaf is updated in place");
    assertEquals(100, a.rows());
    assertThrows(IllegalArgumentException.class, () -> a.differingLeaves(new MerkleTree(5)));
    assertThrows(IllegalArgumentException.class, () -> new MerkleTree(0));
  }

  @Test
  void validatesThroughRenamesSplitsAndFiltersAndCountsPastTheReportLimit() throws Exception {
    JdbcDataSource monolith = h2();
    JdbcDataSource service = h2();
    exec(monolith, "CREATE TABLE orders (id INT PRIMARY KEY, region VARCHAR(5), total NUMERIC(10,2), secret "
        + "VARCHAR(10))");
    exec(service, "CREATE TABLE eu_orders (order_id BIGINT PRIMARY KEY, amount NUMERIC(12,3), extra INT)");
    for (int i = 1; i <= 40; i++) {
      exec(monolith, "INSERT INTO orders VALUES (" + i + ", '" + (i % 2 == 0 ? "eu" : "us") + "', " + i + ".5, 's')");
      if (i % 2 == 0) {
        exec(service, "INSERT INTO eu_orders VALUES (" + i + ", " + i + ".500, " + i + ")");
      }
    }
    Map<String, String> columns = new LinkedHashMap<>();
    columns.put("id", "order_id");
    columns.put("total", "amount");
    TableMapping mapping = TableMapping.renamed("orders", "eu_orders").withColumns(columns)
        .withFilter(Map.of("region", Set.of("eu")));
    try (Validator validator = Validator.builder("eu", monolith, service).depth(3).batchRows(2).reportLimit(2)
        .build()) {
      ValidationReport clean = validator.validate(mapping);
      assertTrue(clean.consistent(), clean.summary());
      assertEquals(20, clean.monolithRows(), "only the rows the filter takes");
      assertTrue(clean.summary().contains("consistent"), clean.summary());
      exec(service, "UPDATE eu_orders SET amount = 0 WHERE order_id IN (2, 4, 6)", "UPDATE eu_orders SET extra = 0");
      ValidationReport report = validator.validate(mapping);
      assertEquals(3, report.discrepancyCount());
      assertEquals(2, report.discrepancies().size());
      assertTrue(report.truncated());
      Discrepancy d = report.discrepancies().get(0);
      assertEquals(List.of("amount"), d.columns(), "service-only columns are not compared");
      assertEquals("orders", d.table());
      assertTrue(d.describe().contains("differs in amount (monolith "), d.describe());
      assertTrue(report.summary().contains("3 discrepancies"), report.summary());
    }
  }

  @Test
  void badTablesAreNamed() throws Exception {
    JdbcDataSource monolith = h2();
    JdbcDataSource service = h2();
    exec(monolith, "CREATE TABLE a (id INT PRIMARY KEY, v INT)", "CREATE TABLE nokey (v INT)");
    exec(service, "CREATE TABLE a2 (other INT PRIMARY KEY, v INT)", "CREATE TABLE nokey (v INT)");
    try (Validator validator = Validator.builder("s", monolith, service).build()) {
      IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
          () -> validator.validate(TableMapping.identity("nope")));
      assertTrue(missing.getMessage().contains("table nope does not exist"), missing.getMessage());
      IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
          () -> validator.validate(TableMapping.identity("nokey")));
      assertTrue(noKey.getMessage().contains("no primary key"), noKey.getMessage());
      IllegalArgumentException unmapped = assertThrows(IllegalArgumentException.class,
          () -> validator.validate(TableMapping.renamed("a", "a2")));
      assertTrue(unmapped.getMessage().contains("key column other of a2 is not mapped"), unmapped.getMessage());
      IllegalArgumentException filter = assertThrows(IllegalArgumentException.class,
          () -> validator.validate(TableMapping.renamed("a", "a2").withColumns(Map.of("id", "other"))
              .withFilter(Map.of("zone", Set.of("x")))));
      assertTrue(filter.getMessage().contains("filter column zone"), filter.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> Validator.builder("s", monolith, service).depth(25));
    assertThrows(IllegalArgumentException.class, () -> Validator.builder("s", monolith, service).fetchSize(0));
    assertThrows(IllegalArgumentException.class, () -> Validator.builder("s", monolith, service).reportLimit(-1));
    assertThrows(IllegalArgumentException.class, () -> Validator.builder("s", monolith, service).batchRows(0));
    assertEquals(Authority.NEWEST, Authority.parse("Newest"));
    IllegalArgumentException authority = assertThrows(IllegalArgumentException.class, () -> Authority.parse("x"));
    assertTrue(authority.getMessage().contains("'x' is not one of monolith, service, newest"));
  }

  @Test
  void theAuditLogIsDurableAndReadByTimeRange() {
    Path dir = TestSupport.tempDir("cutover-audit");
    try {
      try (AuditLog audit = AuditLog.open(dir)) {
        audit.append(new AuditEntry(100, AuditEntry.Kind.VALIDATION, "s", "t", "scheduled", "ok"));
        audit.append(new AuditEntry(200, AuditEntry.Kind.DISCREPANCY, "s", "t", "scheduled", "x".repeat(40_000)));
        audit.append(new AuditEntry(300, AuditEntry.Kind.REPAIR, "s", "t", "operator", "fixed"));
      }
      try (AuditLog audit = AuditLog.open(dir)) {
        List<AuditEntry> all = audit.read(0, Long.MAX_VALUE);
        assertEquals(3, all.size());
        assertEquals(List.of(AuditEntry.Kind.DISCREPANCY, AuditEntry.Kind.REPAIR),
            audit.read(150, 301).stream().map(AuditEntry::kind).toList());
        assertTrue(all.get(1).detail().endsWith("... (cut)"));
        assertEquals(new AuditEntry(300, AuditEntry.Kind.REPAIR, "s", "t", "operator", "fixed"), all.get(2));
      }
    } finally {
      TestSupport.delete(dir);
    }
  }

  @Test
  void theClockRemembersEachSidesLatestStampAndForgetsQuietRowsWhenFull() throws Exception {
    ChangeClock clock = new ChangeClock(2, 1);
    assertEquals(ChangeClock.NAME, clock.name());
    Row key = Row.of("id", Value.of(1));
    clock.onChange(record(ChangeEvent.builder(Side.MONOLITH, "t", Operation.DELETE).key(key).hlc(10).build()));
    clock.onChange(record(ChangeEvent.builder(Side.service("s"), "t2", Operation.DELETE).key(key).hlc(20).build()));
    clock.onChange(record(ChangeEvent.builder(Side.MONOLITH, "t", Operation.DELETE).key(key).hlc(5).build()));
    clock.onBatchEnd();
    clock.onBatchEnd();
    assertEquals(10, clock.lastStamp(false, "t", key), "the latest stamp, not the last seen");
    assertEquals(20, clock.lastStamp(true, "t2", key));
    assertEquals(0, clock.lastStamp(true, "t", key));
    assertTrue(clock.lastChangeMillis("t", key) > 0);
    for (int i = 0; i < 2000; i++) {
      clock.onChange(record(ChangeEvent.builder(Side.MONOLITH, "t", Operation.INSERT).key(Row.of("id", Value.of(i + 5)))
          .after(Row.of("id", Value.of(i + 5))).hlc(1).build()));
    }
    Thread.sleep(5);
    clock.onBatchEnd();
    Thread.sleep(5);
    clock.onChange(record(ChangeEvent.builder(Side.MONOLITH, "t", Operation.DELETE).key(Row.of("id", Value.of(-1)))
        .hlc(1).build()));
    clock.onBatchEnd();
    assertEquals(0, clock.lastChangeMillis("t", key), "quiet rows are forgotten once the clock is full");
    assertTrue(clock.lastChangeMillis("t", Row.of("id", Value.of(-1))) > 0);
    assertThrows(IllegalArgumentException.class, () -> new ChangeClock(0, 1));
  }

  static ChangeRecord record(ChangeEvent event) {
    return io.cutover.engine.testing.TestSupport.record(1, event);
  }
}
