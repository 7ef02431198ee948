package io.cutover.engine.event;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

/**
 * The compact binary encoding of a {@link ChangeEvent} that the journal stores. Little-endian, version 1.
 *
 * <pre>
 * offset  size  field
 *      0     1  format version (1)
 *      1     1  operation code
 *      2     1  flags: 1 before present, 2 after present, 4 side is a service
 *      3     1  source position kind
 *      4     4  Kafka partition
 *      8     8  hybrid-logical-clock timestamp
 *     16     8  commit time, microseconds
 *     24     8  source position value
 *     32     8  key hash: xxHash64 of the table name and the encoded key
 *     40        side name (if a service), table, transaction id, origin, topic (if Kafka): int length + UTF-8
 *               key row, before row (if present), after row (if present), changed columns
 * </pre>
 *
 * A row is an int count, then per column its name and a type byte and the value. The fixed header lets ring
 * handlers read the operation, clock, position and key hash with {@link #hlc}, {@link #keyHash} and the like
 * without decoding or allocating. Thread-safe (stateless).
 */
public final class EventCodec {
  /** The format version written. */
  public static final byte VERSION = 1;
  /** Bytes of the fixed header. */
  public static final int HEADER_BYTES = 40;
  private static final int OP = 1;
  private static final int FLAGS = 2;
  private static final int POSITION_KIND = 3;
  private static final int PARTITION = 4;
  private static final int HLC = 8;
  private static final int COMMIT_TIME = 16;
  private static final int POSITION = 24;
  private static final int KEY_HASH = 32;
  private static final int FLAG_BEFORE = 1;
  private static final int FLAG_AFTER = 2;
  private static final int FLAG_SERVICE = 4;

  private EventCodec() {}

  /**
   * Encodes an event; the buffer must be able to grow (an {@code ExpandableArrayBuffer}) or be large enough.
   *
   * @param event the event.
   * @param buffer where to write.
   * @param offset where the event starts.
   * @return the number of bytes written.
   */
  public static int encode(ChangeEvent event, MutableDirectBuffer buffer, int offset) {
    int flags = (event.before() != null ? FLAG_BEFORE : 0) | (event.after() != null ? FLAG_AFTER : 0)
        | (event.side().isMonolith() ? 0 : FLAG_SERVICE);
    SourcePosition position = event.position();
    buffer.putByte(offset, VERSION);
    buffer.putByte(offset + OP, event.operation().code());
    buffer.putByte(offset + FLAGS, (byte) flags);
    buffer.putByte(offset + POSITION_KIND, (byte) position.kind().ordinal());
    buffer.putInt(offset + PARTITION, position.partition());
    buffer.putLong(offset + HLC, event.hlc());
    buffer.putLong(offset + COMMIT_TIME, event.commitTimeMicros());
    buffer.putLong(offset + POSITION, position.value());
    int p = offset + HEADER_BYTES;
    if (!event.side().isMonolith()) {
      p += putString(buffer, p, event.side().service());
    }
    int tableStart = p;
    p += putString(buffer, p, event.table());
    int tableEnd = p;
    p += putString(buffer, p, event.transactionId());
    p += putString(buffer, p, event.origin());
    if (position.kind() == SourcePosition.Kind.KAFKA) {
      p += putString(buffer, p, position.topic());
    }
    int keyStart = p;
    p = putRow(buffer, p, event.key());
    buffer.putLong(offset + KEY_HASH, keyHash(buffer, tableStart, tableEnd, keyStart, p));
    if (event.before() != null) {
      p = putRow(buffer, p, event.before());
    }
    if (event.after() != null) {
      p = putRow(buffer, p, event.after());
    }
    List<String> changed = event.changedColumns();
    buffer.putInt(p, changed.size());
    p += Integer.BYTES;
    for (String column : changed) {
      p += putString(buffer, p, column);
    }
    return p - offset;
  }

  private static long keyHash(DirectBuffer buffer, int tableStart, int tableEnd, int keyStart, int keyEnd) {
    long tableHash = XxHash64.hash(buffer, tableStart, tableEnd - tableStart, 0);
    return XxHash64.hash(buffer, keyStart, keyEnd - keyStart, tableHash);
  }

  /**
   * Decodes an event.
   *
   * @param buffer holding it.
   * @param offset where it starts.
   * @param length its length.
   * @return the event.
   * @throws IllegalArgumentException if the bytes are not an event of a known version.
   */
  public static ChangeEvent decode(DirectBuffer buffer, int offset, int length) {
    if (length < HEADER_BYTES) {
      throw new IllegalArgumentException("encoded change event is " + length + " bytes, shorter than its header");
    }
    byte version = buffer.getByte(offset);
    if (version != VERSION) {
      throw new IllegalArgumentException("encoded change event has format version " + version + ", expected "
          + VERSION);
    }
    try {
      Reader in = new Reader(buffer, offset + HEADER_BYTES, offset + length);
      int flags = buffer.getByte(offset + FLAGS);
      Side side = (flags & FLAG_SERVICE) != 0 ? Side.service(in.string()) : Side.MONOLITH;
      String table = in.string();
      String txId = in.string();
      String origin = in.string();
      SourcePosition.Kind kind = SourcePosition.Kind.values()[buffer.getByte(offset + POSITION_KIND)];
      String topic = kind == SourcePosition.Kind.KAFKA ? in.string() : "";
      SourcePosition position = kind == SourcePosition.Kind.NONE ? SourcePosition.NONE
          : new SourcePosition(kind, buffer.getLong(offset + POSITION), topic, buffer.getInt(offset + PARTITION));
      Row key = in.row();
      Row before = (flags & FLAG_BEFORE) != 0 ? in.row() : null;
      Row after = (flags & FLAG_AFTER) != 0 ? in.row() : null;
      int changedCount = in.count();
      List<String> changed = new ArrayList<>(changedCount);
      for (int i = 0; i < changedCount; i++) {
        changed.add(in.string());
      }
      if (in.position != offset + length) {
        throw new IllegalArgumentException((offset + length - in.position) + " bytes left over");
      }
      return new ChangeEvent(side, table, operation(buffer, offset), key, before, after, changed, position, txId,
          buffer.getLong(offset + COMMIT_TIME), buffer.getLong(offset + HLC), origin);
    } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
      throw new IllegalArgumentException("encoded change event of " + length + " bytes is malformed: "
          + e.getMessage(), e);
    }
  }

  /**
   * The operation of an encoded event, without decoding it.
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @return the operation.
   */
  public static Operation operation(DirectBuffer buffer, int offset) {
    return Operation.ofCode(buffer.getByte(offset + OP));
  }

  /**
   * The hybrid-logical-clock timestamp of an encoded event.
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @return the timestamp.
   */
  public static long hlc(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + HLC);
  }

  /**
   * Overwrites the hybrid-logical-clock timestamp of an encoded event.
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @param hlc the timestamp.
   */
  public static void hlc(MutableDirectBuffer buffer, int offset, long hlc) {
    buffer.putLong(offset + HLC, hlc);
  }

  /**
   * The key hash of an encoded event: equal for every change to the same row of the same table.
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @return the hash.
   */
  public static long keyHash(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + KEY_HASH);
  }

  /**
   * Whether an encoded event changes a given table, read without decoding or allocating.
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @param length its length.
   * @param tableUtf8 the table's name as UTF-8 bytes, as the change names it.
   * @return true when the event's table is that one.
   */
  public static boolean tableIs(DirectBuffer buffer, int offset, int length, byte[] tableUtf8) {
    int end = offset + length;
    int p = offset + HEADER_BYTES;
    if ((buffer.getByte(offset + FLAGS) & FLAG_SERVICE) != 0) { // skip the service's name
      if (p + Integer.BYTES > end) {
        return false;
      }
      p += Integer.BYTES + buffer.getInt(p);
    }
    if (p < offset || p + Integer.BYTES > end || buffer.getInt(p) != tableUtf8.length
        || p + Integer.BYTES + tableUtf8.length > end) {
      return false;
    }
    p += Integer.BYTES;
    for (int i = 0; i < tableUtf8.length; i++) {
      if (buffer.getByte(p + i) != tableUtf8[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * The key hash a change to a row would carry ({@link #keyHash(DirectBuffer, int)}), computed from the table and
   * key (for lookups off the ring; allocates).
   *
   * @param table the table, as the change names it.
   * @param key the key, as the change carries it.
   * @return the hash.
   */
  public static long keyHash(String table, Row key) {
    org.agrona.ExpandableArrayBuffer buffer = new org.agrona.ExpandableArrayBuffer(128);
    int tableEnd = putString(buffer, 0, table);
    int keyEnd = putRow(buffer, tableEnd, key);
    return keyHash(buffer, 0, tableEnd, tableEnd, keyEnd);
  }

  /**
   * Whether an encoded event comes from a service (rather than the monolith).
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @return true for a service's change.
   */
  public static boolean fromService(DirectBuffer buffer, int offset) {
    return (buffer.getByte(offset + FLAGS) & FLAG_SERVICE) != 0;
  }

  /**
   * The source commit time of an encoded event.
   *
   * @param buffer the buffer.
   * @param offset where the event starts.
   * @return microseconds since the epoch, or 0 when unknown.
   */
  public static long commitTimeMicros(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + COMMIT_TIME);
  }

  /**
   * The source position value of an encoded event.
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @return the LSN, trigger sequence or offset; 0 when none.
   */
  public static long positionValue(DirectBuffer buffer, int offset) {
    return buffer.getLong(offset + POSITION);
  }

  /**
   * Overwrites the source position value of an encoded event (capture stamps a trigger sequence this way).
   *
   * @param buffer holding the event.
   * @param offset where it starts.
   * @param value the LSN, trigger sequence or offset.
   */
  public static void positionValue(MutableDirectBuffer buffer, int offset, long value) {
    buffer.putLong(offset + POSITION, value);
  }

  private static int putString(MutableDirectBuffer buffer, int index, String value) {
    return buffer.putStringUtf8(index, value);
  }

  private static int putRow(MutableDirectBuffer buffer, int index, Row row) {
    int p = index;
    buffer.putInt(p, row.size());
    p += Integer.BYTES;
    for (Map.Entry<String, Value> column : row.columns().entrySet()) {
      p += putString(buffer, p, column.getKey());
      p = putValue(buffer, p, column.getValue());
    }
    return p;
  }

  private static int putValue(MutableDirectBuffer buffer, int index, Value value) {
    int p = index;
    buffer.putByte(p++, value.type().code());
    switch (value.type()) {
      case NULL -> { }
      case BOOL -> buffer.putByte(p++, (byte) (value.asBoolean() ? 1 : 0));
      case INT, DOUBLE, TIMESTAMP, LOCAL_TIMESTAMP -> {
        buffer.putLong(p, value.bits());
        p += Long.BYTES;
      }
      case DATE -> {
        buffer.putInt(p, (int) value.bits());
        p += Integer.BYTES;
      }
      case DECIMAL -> {
        BigDecimal decimal = value.asDecimal();
        buffer.putInt(p, decimal.scale());
        p += Integer.BYTES;
        p = putBytes(buffer, p, decimal.unscaledValue().toByteArray());
      }
      case STRING, JSON -> p += putString(buffer, p, value.asString());
      case BYTES -> p = putBytes(buffer, p, value.bytesNoCopy());
      case UUID -> {
        UUID uuid = value.asUuid();
        buffer.putLong(p, uuid.getMostSignificantBits());
        buffer.putLong(p + Long.BYTES, uuid.getLeastSignificantBits());
        p += 2 * Long.BYTES;
      }
    }
    return p;
  }

  private static int putBytes(MutableDirectBuffer buffer, int index, byte[] bytes) {
    buffer.putInt(index, bytes.length);
    buffer.putBytes(index + Integer.BYTES, bytes);
    return index + Integer.BYTES + bytes.length;
  }

  /** A cursor over an encoded event's variable part. */
  private static final class Reader {
    private final DirectBuffer buffer;
    private final int limit;
    private int position;

    Reader(DirectBuffer buffer, int position, int limit) {
      this.buffer = buffer;
      this.position = position;
      this.limit = limit;
    }

    int count() {
      int count = buffer.getInt(need(Integer.BYTES));
      if (count < 0 || count > limit - position) {
        throw new IllegalArgumentException("count " + count + " at offset " + position + " is impossible");
      }
      position += Integer.BYTES;
      return count;
    }

    private int need(int bytes) {
      if (position + bytes > limit) {
        throw new IllegalArgumentException("needs " + bytes + " bytes at offset " + position + " past the end");
      }
      return position;
    }

    String string() {
      int length = count();
      byte[] bytes = new byte[length];
      buffer.getBytes(need(length), bytes);
      position += length;
      return new String(bytes, StandardCharsets.UTF_8);
    }

    byte[] bytes() {
      int length = count();
      byte[] bytes = new byte[length];
      buffer.getBytes(need(length), bytes);
      position += length;
      return bytes;
    }

    long int64() {
      long value = buffer.getLong(need(Long.BYTES));
      position += Long.BYTES;
      return value;
    }

    int int32() {
      int value = buffer.getInt(need(Integer.BYTES));
      position += Integer.BYTES;
      return value;
    }

    byte int8() {
      byte value = buffer.getByte(need(1));
      position++;
      return value;
    }

    Row row() {
      int count = count();
      Row.Builder row = Row.builder();
      for (int i = 0; i < count; i++) {
        String name = string();
        row.put(name, value());
      }
      return row.build();
    }

    Value value() {
      ValueType type = ValueType.ofCode(int8());
      return switch (type) {
        case NULL -> Value.NULL;
        case BOOL -> Value.of(int8() != 0);
        case INT -> Value.of(int64());
        case DOUBLE -> Value.of(Double.longBitsToDouble(int64()));
        case TIMESTAMP -> Value.timestampMicros(int64());
        case LOCAL_TIMESTAMP -> Value.localTimestampMicros(int64());
        case DATE -> Value.date(int32());
        case DECIMAL -> {
          int scale = int32();
          yield Value.of(new BigDecimal(new BigInteger(bytes()), scale));
        }
        case STRING -> Value.of(string());
        case JSON -> Value.json(string());
        case BYTES -> Value.of(bytes());
        case UUID -> Value.of(new UUID(int64(), int64()));
      };
    }
  }
}
