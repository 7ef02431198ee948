package io.cutover.engine.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import io.cutover.engine.event.Value;
import java.math.BigDecimal;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class ValueConversionsTest {
  @Test
  void timestampsFarFrom1970ConvertToo() {
    // java.time's microsecond difference of instants overflows before 1678 and after 2261
    assertEquals(Value.timestampMicros(253_402_300_799_999_999L),
        ValueConversions.toColumn(Value.of("9999-12-31T23:59:59.999999Z"), "TIMESTAMPTZ"));
    assertEquals(Value.timestampMicros(-14_831_769_600_000_000L),
        ValueConversions.toColumn(Value.of("1500-01-01T00:00:00Z"), "TIMESTAMPTZ"));
    assertEquals(-14_831_769_600_000_000L, Value.epochMicros(java.time.Instant.parse("1500-01-01T00:00:00Z")));
  }

  @Test
  void compatibleTypesConvertWithoutLossAndOthersAreRefused() {
    Value five = Value.of(5L);
    assertSame(five, ValueConversions.toColumn(five, "bigint"), "fits as it is");
    assertEquals(Value.of("5"), ValueConversions.toColumn(five, "VARCHAR"));
    assertEquals(Value.of(5L), ValueConversions.toColumn(Value.of(" 5 "), "INTEGER"));
    assertEquals(Value.of(new BigDecimal("2.50")), ValueConversions.toColumn(Value.of("2.50"), "NUMERIC"));
    assertNull(ValueConversions.toColumn(Value.of("2.5"), "INTEGER"), "a fraction does not fit an integer");
    assertEquals(Value.of(7L), ValueConversions.toColumn(Value.of(new BigDecimal("7.00")), "BIGINT"));
    assertNull(ValueConversions.toColumn(Value.of(new BigDecimal("7.5")), "BIGINT"));
    assertEquals(Value.of(1L), ValueConversions.toColumn(Value.of(true), "INTEGER"));
    assertEquals(Value.of(false), ValueConversions.toColumn(Value.of(0L), "BOOLEAN"));
    assertNull(ValueConversions.toColumn(Value.of(2L), "BOOLEAN"));
    assertEquals(Value.of(true), ValueConversions.toColumn(Value.of("true"), "BOOL"));
    assertNull(ValueConversions.toColumn(Value.of("yes"), "BOOL"));
    UUID id = UUID.fromString("123e4567-e89b-12d3-a456-426614174000");
    assertEquals(Value.of(id.toString()), ValueConversions.toColumn(Value.of(id), "CHARACTER VARYING"));
    assertEquals(Value.of(id), ValueConversions.toColumn(Value.of(id.toString()), "uuid"));
    assertNull(ValueConversions.toColumn(Value.of("not-a-uuid"), "UUID"));
    assertEquals(Value.json("{\"a\":1}"), ValueConversions.toColumn(Value.of("{\"a\":1}"), "JSONB"));
    Value json = Value.json("{\"a\":1}");
    assertSame(json, ValueConversions.toColumn(json, "TEXT"), "JSON goes into text as its text");
    assertEquals(Value.localTimestampMicros(2 * 86_400_000_000L), ValueConversions.toColumn(Value.date(2),
        "TIMESTAMP"));
    assertEquals(Value.date(3), ValueConversions.toColumn(Value.localTimestampMicros(3 * 86_400_000_000L), "DATE"));
    assertNull(ValueConversions.toColumn(Value.localTimestampMicros(3 * 86_400_000_000L + 1), "DATE"),
        "a time of day does not fit a date");
    assertNull(ValueConversions.toColumn(Value.of(new byte[] {1}), "INTEGER"));
    assertNull(ValueConversions.toColumn(Value.of(5L), "INTERVAL"), "an interval is not an integer");
    assertSame(Value.NULL, ValueConversions.toColumn(Value.NULL, "ANYTHING"));
  }
}
