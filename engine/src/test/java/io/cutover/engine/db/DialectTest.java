package io.cutover.engine.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.event.Value;
import io.cutover.engine.event.ValueType;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

class DialectTest {

  @Test
  void shouldWriteEachDialectsUpsertAndDelete() {
    assertEquals("MERGE INTO accounts (user_id, name) KEY (user_id) VALUES (?, ?)",
        Dialect.H2.upsert("accounts", List.of("user_id", "name"), List.of("user_id")));
    assertEquals("INSERT INTO accounts (user_id, name) VALUES (?, ?) ON CONFLICT (user_id) DO UPDATE SET "
        + "name = EXCLUDED.name", Dialect.POSTGRESQL.upsert("accounts", List.of("user_id", "name"),
        List.of("user_id")));
    assertEquals("INSERT INTO link (a, b) VALUES (?, ?) ON CONFLICT (a, b) DO NOTHING",
        Dialect.POSTGRESQL.upsert("link", List.of("a", "b"), List.of("a", "b")));
    assertEquals("DELETE FROM link WHERE a = ? AND b = ?", Dialect.POSTGRESQL.deleteByKey("link", List.of("a", "b")));
  }

  @Test
  void shouldRefuseNamesThatAreNotPlainIdentifiers() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Dialect.H2.name("users; DROP TABLE users"));
    assertTrue(e.getMessage().contains("is not a usable table or column name"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Dialect.H2.name(null));
    assertThrows(IllegalArgumentException.class, () -> Dialect.H2.name("x".repeat(64)));
    assertEquals("order_lines", Dialect.POSTGRESQL.name("order_lines"));
  }

  @Test
  void shouldMapJdbcObjectsToTypedValues() {
    assertEquals(Value.of(5), JdbcValues.fromJdbc("c", (short) 5));
    assertEquals(Value.of(new BigDecimal("12345678901234567890")),
        JdbcValues.fromJdbc("c", new BigInteger("12345678901234567890")));
    assertEquals(ValueType.DOUBLE, JdbcValues.fromJdbc("c", 1.5f).type());
    assertEquals(Value.timestampMicros(1_000_000L), JdbcValues.fromJdbc("c", Instant.ofEpochSecond(1)));
    assertEquals(Value.timestampMicros(1_000_000L),
        JdbcValues.fromJdbc("c", ZonedDateTime.ofInstant(Instant.ofEpochSecond(1), ZoneId.of("Europe/Paris"))));
    assertEquals(Value.localTimestampMicros(1_000_000L),
        JdbcValues.fromJdbc("c", LocalDateTime.of(1970, 1, 1, 0, 0, 1)));
    assertEquals(Value.date(1), JdbcValues.fromJdbc("c", LocalDate.of(1970, 1, 2)));
    assertEquals(Value.date(1), JdbcValues.fromJdbc("c", java.sql.Date.valueOf("1970-01-02")));
    assertEquals(Value.NULL, JdbcValues.fromJdbc("c", null));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> JdbcValues.fromJdbc("shape", new java.awt.Point(1, 2)));
    assertTrue(e.getMessage().contains("column 'shape' has values of type java.awt.Point"), e.getMessage());
  }
}
