package io.cutover.engine.validate.internal;

import io.cutover.engine.event.Row;
import io.cutover.engine.event.Value;
import io.cutover.engine.event.XxHash64;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import org.agrona.ExpandableArrayBuffer;

/**
 * Hashes rows in a canonical encoding, so that equal data hashes equal whichever database holds it:
 * <ul>
 *   <li>numbers by value: {@code 10.50} = {@code 10.5} = {@code 10.5e0}, and integral decimals equal integers;</li>
 *   <li>timestamps as microseconds from the epoch: with a time zone as the instant in UTC, without one as the
 *       same wall-clock time in UTC (so a service's {@code timestamp} equals a monolith's {@code timestamptz} held
 *       in UTC);</li>
 *   <li>uuid as its lower-case text (equal to a text column holding it); JSON without insignificant blanks;</li>
 *   <li>text as UTF-8; NULL, the empty string, 0 and false all different.</li>
 * </ul>
 * A row's hash is 128 bits (two independently seeded xxHash64 lanes) over its columns in a fixed order, names
 * included. Not thread-safe: one per thread (it reuses its buffer).
 */
public final class RowHasher {
  private static final long SEED_A = 0x6A09E667F3BCC908L;
  private static final long SEED_B = 0xBB67AE8584CAA73BL;
  private static final long SEED_KEY = 0x3C6EF372FE94F82BL;
  private static final byte NULL = 0;
  private static final byte BOOL = 1;
  private static final byte INTEGER = 2;
  private static final byte DECIMAL = 3;
  private static final byte FLOAT = 4;
  private static final byte TEXT = 5;
  private static final byte JSON = 6;
  private static final byte BYTES = 7;
  private static final byte TIME = 8;
  private static final byte DATE = 9;
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  private final ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(256);
  private long laneB;

  /**
   * The hash of a key (the row's bucket in a tree).
   *
   * @param key the key's values, in key-column order.
   * @return 64 bits.
   */
  public long keyHash(List<Value> key) {
    int p = 0;
    for (Value value : key) {
      p = put(p, value);
    }
    return XxHash64.hash(buffer, 0, p, SEED_KEY);
  }

  /**
   * The canonical bytes of a key (equal for equal data on either side).
   *
   * @param key the key's values, in key-column order.
   * @return a new array.
   */
  public byte[] keyBytes(List<Value> key) {
    int p = 0;
    for (Value value : key) {
      p = put(p, value);
    }
    byte[] out = new byte[p];
    buffer.getBytes(0, out);
    return out;
  }

  /**
   * Hashes a row; the first lane is returned, the second is then {@link #laneB()}.
   *
   * @param columns the column names, in the fixed order every caller uses.
   * @param row the row.
   * @return lane A of the 128-bit hash.
   */
  public long hash(List<String> columns, Row row) {
    int p = 0;
    for (String column : columns) {
      p += buffer.putStringUtf8(p, column);
      Value value = row.get(column);
      p = put(p, value == null ? Value.NULL : value);
    }
    laneB = XxHash64.hash(buffer, 0, p, SEED_B);
    return XxHash64.hash(buffer, 0, p, SEED_A);
  }

  /**
   * Lane B of the last {@link #hash}.
   *
   * @return 64 bits.
   */
  public long laneB() {
    return laneB;
  }

  /**
   * Whether two values are the same data (the canonical encodings are equal).
   *
   * @param a a value, or null for absent (treated as NULL).
   * @param b another.
   * @return true if they encode the same.
   */
  public boolean same(Value a, Value b) {
    int end = put(0, a == null ? Value.NULL : a);
    int start = end;
    int end2 = put(start, b == null ? Value.NULL : b);
    if (end2 - start != end) {
      return false;
    }
    for (int i = 0; i < end; i++) {
      if (buffer.getByte(i) != buffer.getByte(start + i)) {
        return false;
      }
    }
    return true;
  }

  private int put(int p, Value value) {
    switch (value.type()) {
      case NULL -> buffer.putByte(p++, NULL);
      case BOOL -> {
        buffer.putByte(p++, BOOL);
        buffer.putByte(p++, (byte) (value.asBoolean() ? 1 : 0));
      }
      case INT -> p = putInteger(p, value.asLong());
      case DECIMAL -> p = putDecimal(p, value.asDecimal());
      case DOUBLE -> {
        double d = value.asDouble();
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          buffer.putByte(p++, FLOAT);
          buffer.putLong(p, Double.doubleToLongBits(d));
          p += Long.BYTES;
        } else {
          p = putDecimal(p, BigDecimal.valueOf(d));
        }
      }
      case STRING -> p = putText(p, TEXT, value.asString());
      case UUID -> p = putText(p, TEXT, value.asUuid().toString().toLowerCase(Locale.ROOT));
      case JSON -> p = putText(p, JSON, compactJson(value.asString()));
      case BYTES -> {
        byte[] bytes = value.asBytes();
        buffer.putByte(p++, BYTES);
        buffer.putInt(p, bytes.length);
        buffer.putBytes(p + Integer.BYTES, bytes);
        p += Integer.BYTES + bytes.length;
      }
      case TIMESTAMP, LOCAL_TIMESTAMP -> {
        buffer.putByte(p++, TIME);
        buffer.putLong(p, value.asLong());
        p += Long.BYTES;
      }
      case DATE -> {
        buffer.putByte(p++, DATE);
        buffer.putInt(p, (int) value.asLong());
        p += Integer.BYTES;
      }
    }
    return p;
  }

  private int putInteger(int p, long value) {
    buffer.putByte(p, INTEGER);
    buffer.putLong(p + 1, value);
    return p + 1 + Long.BYTES;
  }

  private int putDecimal(int p, BigDecimal value) {
    BigDecimal canonical = value.signum() == 0 ? BigDecimal.ZERO : value.stripTrailingZeros();
    if (canonical.scale() <= 0) {
      BigInteger integer = canonical.toBigIntegerExact();
      if (integer.compareTo(LONG_MIN) >= 0 && integer.compareTo(LONG_MAX) <= 0) {
        return putInteger(p, integer.longValue());
      }
    }
    byte[] unscaled = canonical.unscaledValue().toByteArray();
    buffer.putByte(p++, DECIMAL);
    buffer.putInt(p, canonical.scale());
    buffer.putInt(p + Integer.BYTES, unscaled.length);
    buffer.putBytes(p + 2 * Integer.BYTES, unscaled);
    return p + 2 * Integer.BYTES + unscaled.length;
  }

  private int putText(int p, byte tag, String text) {
    buffer.putByte(p, tag);
    byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
    buffer.putInt(p + 1, bytes.length);
    buffer.putBytes(p + 1 + Integer.BYTES, bytes);
    return p + 1 + Integer.BYTES + bytes.length;
  }

  /** JSON text without the blanks outside strings (PostgreSQL's jsonb and H2 print it differently). */
  static String compactJson(String json) {
    StringBuilder out = new StringBuilder(json.length());
    boolean inString = false;
    boolean escaped = false;
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (inString) {
        out.append(c);
        if (escaped) {
          escaped = false;
        } else if (c == '\\') {
          escaped = true;
        } else if (c == '"') {
          inString = false;
        }
      } else if (c == '"') {
        inString = true;
        out.append(c);
      } else if (!Character.isWhitespace(c)) {
        out.append(c);
      }
    }
    return out.toString();
  }
}
