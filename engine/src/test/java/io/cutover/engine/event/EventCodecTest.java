package io.cutover.engine.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class EventCodecTest {

  @Test
  void anyEventSurvivesTheBinaryCodecAndTheProtobufMapping() {
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
    qt().withExamples(2_000).forAll(ChangeEvents.events()).checkAssert(event -> {
      int length = EventCodec.encode(event, buffer, 7);
      assertEquals(event, EventCodec.decode(buffer, 7, length));
      assertEquals(event.operation(), EventCodec.operation(buffer, 7));
      assertEquals(event.hlc(), EventCodec.hlc(buffer, 7));
      assertEquals(event.position().value(), EventCodec.positionValue(buffer, 7));
      assertEquals(event, ChangeEventProtos.fromProto(ChangeEventProtos.toProto(event)));
    });
  }

  @Test
  void anEncodedEventNamesItsTableWithoutBeingDecoded() {
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
    qt().withExamples(1_000).forAll(ChangeEvents.events()).checkAssert(event -> {
      int length = EventCodec.encode(event, buffer, 0);
      assertTrue(EventCodec.tableIs(buffer, 0, length, event.table().getBytes(StandardCharsets.UTF_8)));
      assertTrue(!EventCodec.tableIs(buffer, 0, length, (event.table() + "x").getBytes(StandardCharsets.UTF_8)));
      // a cut-off event is no table's
      assertTrue(!EventCodec.tableIs(buffer, 0, EventCodec.HEADER_BYTES + 2,
          event.table().getBytes(StandardCharsets.UTF_8)) || event.table().isEmpty());
    });
  }

  @Test
  void keyHashDependsOnTableAndKeyOnly() {
    ChangeEvent a = insert("orders", 1, "x");
    ChangeEvent sameRow = insert("orders", 1, "other value");
    ChangeEvent otherRow = insert("orders", 2, "x");
    ChangeEvent otherTable = insert("payments", 1, "x");
    assertEquals(keyHash(a), keyHash(sameRow));
    assertNotEquals(keyHash(a), keyHash(otherRow));
    assertNotEquals(keyHash(a), keyHash(otherTable));
    ChangeEvent laterTransaction = ChangeEvent.builder(Side.MONOLITH, "orders", Operation.DELETE)
        .key(a.key()).transactionId("tx-99").origin("cutover-repair").build();
    assertEquals(keyHash(a), keyHash(laterTransaction));
    assertEquals(keyHash(a), EventCodec.keyHash("orders", a.key()));
    assertEquals(keyHash(otherRow), EventCodec.keyHash("orders", otherRow.key()));
  }

  @Test
  void shouldKeepNullDistinctFromAbsentAndDecimalScale() {
    ChangeEvent event = ChangeEvent.builder(Side.service("payments"), "payments", Operation.UPDATE)
        .key(Row.of("id", Value.of(UUID.fromString("00000000-0000-0000-0000-00000000002a"))))
        .before(Row.of("id", Value.of(1), "amount", Value.of(new BigDecimal("12.50"))))
        .after(Row.of("id", Value.of(1), "note", Value.NULL))
        .changedColumns(List.of("note"))
        .build();
    ChangeEvent decoded = roundTrip(event);
    assertTrue(decoded.after().has("note"));
    assertTrue(decoded.after().get("note").isNull());
    assertTrue(!decoded.after().has("amount"));
    assertEquals(new BigDecimal("12.50"), decoded.before().get("amount").asDecimal());
    assertEquals(2, decoded.before().get("amount").asDecimal().scale());
  }

  @Test
  void shouldRejectMalformedBytesWithAClearMessage() {
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
    int length = EventCodec.encode(insert("orders", 1, "x"), buffer, 0);
    IllegalArgumentException shortOne = assertThrows(IllegalArgumentException.class,
        () -> EventCodec.decode(buffer, 0, 10));
    assertTrue(shortOne.getMessage().contains("shorter than its header"), shortOne.getMessage());
    IllegalArgumentException truncated = assertThrows(IllegalArgumentException.class,
        () -> EventCodec.decode(buffer, 0, length - 3));
    assertTrue(truncated.getMessage().contains("malformed"), truncated.getMessage());
    IllegalArgumentException extra = assertThrows(IllegalArgumentException.class,
        () -> EventCodec.decode(buffer, 0, length + 4));
    assertTrue(extra.getMessage().contains("malformed"), extra.getMessage());
    buffer.putByte(0, (byte) 9);
    IllegalArgumentException version = assertThrows(IllegalArgumentException.class,
        () -> EventCodec.decode(buffer, 0, length));
    assertTrue(version.getMessage().contains("format version 9"), version.getMessage());
  }

  @Test
  void shouldValidateEventsNamingTheField() {
    assertThrows(IllegalArgumentException.class, () -> ChangeEvent.builder(Side.MONOLITH, "", Operation.INSERT)
        .key(Row.of("id", Value.of(1))).after(Row.EMPTY).build());
    IllegalArgumentException noKey = assertThrows(IllegalArgumentException.class,
        () -> ChangeEvent.builder(Side.MONOLITH, "t", Operation.INSERT).key(Row.EMPTY).after(Row.EMPTY).build());
    assertTrue(noKey.getMessage().contains("no primary-key"), noKey.getMessage());
    assertThrows(IllegalArgumentException.class, () -> ChangeEvent.builder(Side.MONOLITH, "t", Operation.DELETE)
        .key(Row.of("id", Value.of(1))).after(Row.EMPTY).build());
    assertThrows(IllegalArgumentException.class, () -> ChangeEvent.builder(Side.MONOLITH, "t", Operation.UPDATE)
        .key(Row.of("id", Value.of(1))).build());
    assertThrows(IllegalArgumentException.class, () -> ChangeEvent.builder(Side.MONOLITH, "t", Operation.INSERT)
        .key(Row.of("id", Value.of(1))).before(Row.EMPTY).after(Row.EMPTY).build());
    assertThrows(IllegalArgumentException.class, () -> Side.service("Bad Name"));
    assertThrows(IllegalArgumentException.class, () -> Row.of("id"));
    assertThrows(IllegalArgumentException.class, () -> Row.of(1, Value.of(1)));
    assertThrows(IllegalArgumentException.class, () -> Row.of("id", Value.of(1), "id", Value.of(2)));
    assertThrows(IllegalArgumentException.class, () -> Operation.ofCode((byte) 9));
    assertThrows(IllegalArgumentException.class, () -> ValueType.ofCode((byte) 99));
  }

  @Test
  void valuesExposeTheirTypedForms() {
    assertEquals(42, Value.of(42).asLong());
    assertEquals(1.5, Value.of(1.5).asDouble());
    assertTrue(Value.of(true).asBoolean());
    assertEquals("{}", Value.json("{}").asString());
    assertEquals(3, Value.of(new byte[] {1, 2, 3}).asBytes().length);
    assertEquals(19_000, Value.date(19_000).asLong());
    assertEquals(Value.of(new byte[] {1}), Value.of(new byte[] {1}));
    assertEquals(Value.of(new byte[] {1}).hashCode(), Value.of(new byte[] {1}).hashCode());
    assertThrows(IllegalStateException.class, () -> Value.of("x").asLong());
    assertThrows(IllegalStateException.class, () -> Value.of(1).asString());
    assertThrows(IllegalStateException.class, () -> Value.NULL.asBoolean());
    assertEquals("NULL", Value.NULL.toString());
    assertEquals("'a'", Value.of("a").toString());
    assertEquals("monolith", Side.MONOLITH.toString());
    assertEquals("service:payments", Side.service("payments").toString());
    assertEquals(List.of("id"), Row.of("id", Value.of(1)).names());
    for (Value v : List.of(Value.of(true), Value.of(1), Value.of(1.0), Value.timestampMicros(1), Value.date(1),
        Value.of(new byte[0]), Value.of(BigDecimal.ONE), Value.of(new UUID(1, 2)))) {
      assertTrue(!v.toString().isEmpty());
    }
  }

  @Test
  void xxHash64MatchesTheReferenceImplementation() {
    assertEquals(0xef46db3751d8e999L, xx(""));
    assertEquals(0xd24ec4f1a98c6e5bL, xx("a"));
    assertEquals(0x44bc2cf5ad770999L, xx("abc"));
    assertEquals(0xfbcea83c8a378bf1L, xx("Nobody inspects the spammish repetition"));
    assertEquals(0x4d4163f9e2896a35L, xx("0123456789abcdef0123456789abcdef0123456789ABCDEF"));
  }

  private static long xx(String text) {
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    return XxHash64.hash(new UnsafeBuffer(bytes), 0, bytes.length, 0);
  }

  static ChangeEvent insert(String table, long id, String value) {
    return ChangeEvent.builder(Side.MONOLITH, table, Operation.INSERT)
        .key(Row.of("id", Value.of(id)))
        .after(Row.of("id", Value.of(id), "v", Value.of(value)))
        .build();
  }

  private static long keyHash(ChangeEvent event) {
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
    EventCodec.encode(event, buffer, 0);
    return EventCodec.keyHash(buffer, 0);
  }

  private static ChangeEvent roundTrip(ChangeEvent event) {
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
    return EventCodec.decode(buffer, 0, EventCodec.encode(event, buffer, 0));
  }
}
