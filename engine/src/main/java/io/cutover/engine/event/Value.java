package io.cutover.engine.event;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.Objects;
import java.util.UUID;

/**
 * One typed column value. Immutable and thread-safe. SQL NULL is {@link #NULL}; a column that is absent from a
 * row image has no {@code Value} at all, which is different.
 */
public final class Value {
  /** SQL NULL. */
  public static final Value NULL = new Value(ValueType.NULL, 0L, null);
  private static final Value TRUE = new Value(ValueType.BOOL, 1L, null);
  private static final Value FALSE = new Value(ValueType.BOOL, 0L, null);

  private final ValueType type;
  private final long bits;
  private final Object ref;

  private Value(ValueType type, long bits, Object ref) {
    this.type = type;
    this.bits = bits;
    this.ref = ref;
  }

  /**
   * A boolean.
   *
   * @param value the value.
   * @return the value.
   */
  public static Value of(boolean value) {
    return value ? TRUE : FALSE;
  }

  /**
   * An integer.
   *
   * @param value the value.
   * @return the value.
   */
  public static Value of(long value) {
    return new Value(ValueType.INT, value, null);
  }

  /**
   * A double.
   *
   * @param value the value.
   * @return the value.
   */
  public static Value of(double value) {
    return new Value(ValueType.DOUBLE, Double.doubleToLongBits(value), null);
  }

  /**
   * A decimal; scale is kept ({@code 12.50} is not {@code 12.5}). A negative scale, which SQL numerics never
   * have, is normalised to 0 (the same number).
   *
   * @param value never null.
   * @return the value.
   */
  public static Value of(BigDecimal value) {
    Objects.requireNonNull(value, "decimal value");
    return new Value(ValueType.DECIMAL, 0L, value.scale() < 0 ? value.setScale(0) : value);
  }

  /**
   * A string.
   *
   * @param value never null (use {@link #NULL}).
   * @return the value.
   */
  public static Value of(String value) {
    return new Value(ValueType.STRING, 0L, Objects.requireNonNull(value, "string value"));
  }

  /**
   * Bytes; the array is copied.
   *
   * @param value never null.
   * @return the value.
   */
  public static Value of(byte[] value) {
    return new Value(ValueType.BYTES, 0L, Objects.requireNonNull(value, "bytes value").clone());
  }

  /**
   * A UUID.
   *
   * @param value never null.
   * @return the value.
   */
  public static Value of(UUID value) {
    return new Value(ValueType.UUID, 0L, Objects.requireNonNull(value, "uuid value"));
  }

  /**
   * A timestamp with time zone.
   *
   * @param epochMicros microseconds since 1970-01-01T00:00Z.
   * @return the value.
   */
  public static Value timestampMicros(long epochMicros) {
    return new Value(ValueType.TIMESTAMP, epochMicros, null);
  }

  /**
   * Microseconds since 1970-01-01T00:00Z of an instant, for any year a database holds ({@code
   * ChronoUnit.MICROS.between} overflows before 1678 and after 2261: its nanoseconds do not fit a long).
   *
   * @param instant the instant.
   * @return the microseconds.
   */
  public static long epochMicros(java.time.Instant instant) {
    return Math.addExact(Math.multiplyExact(instant.getEpochSecond(), 1_000_000L), instant.getNano() / 1_000);
  }

  /**
   * A timestamp without time zone.
   *
   * @param micros microseconds since 1970-01-01T00:00 in no zone.
   * @return the value.
   */
  public static Value localTimestampMicros(long micros) {
    return new Value(ValueType.LOCAL_TIMESTAMP, micros, null);
  }

  /**
   * A date.
   *
   * @param epochDay days since 1970-01-01.
   * @return the value.
   */
  public static Value date(int epochDay) {
    return new Value(ValueType.DATE, epochDay, null);
  }

  /**
   * A JSON document as text.
   *
   * @param json never null.
   * @return the value.
   */
  public static Value json(String json) {
    return new Value(ValueType.JSON, 0L, Objects.requireNonNull(json, "json value"));
  }

  /**
   * The type.
   *
   * @return never null.
   */
  public ValueType type() {
    return type;
  }

  /**
   * Whether this is SQL NULL.
   *
   * @return true for {@link #NULL}.
   */
  public boolean isNull() {
    return type == ValueType.NULL;
  }

  /**
   * The boolean.
   *
   * @return the value.
   * @throws IllegalStateException if not {@link ValueType#BOOL}.
   */
  public boolean asBoolean() {
    expect(ValueType.BOOL);
    return bits != 0;
  }

  /**
   * The long of an INT, TIMESTAMP, LOCAL_TIMESTAMP or DATE value.
   *
   * @return the value.
   * @throws IllegalStateException for any other type.
   */
  public long asLong() {
    if (type != ValueType.INT && type != ValueType.TIMESTAMP && type != ValueType.LOCAL_TIMESTAMP
        && type != ValueType.DATE) {
      throw new IllegalStateException("value of type " + type + " has no long form");
    }
    return bits;
  }

  /**
   * The double.
   *
   * @return the value.
   * @throws IllegalStateException if not {@link ValueType#DOUBLE}.
   */
  public double asDouble() {
    expect(ValueType.DOUBLE);
    return Double.longBitsToDouble(bits);
  }

  /**
   * The decimal.
   *
   * @return the value.
   * @throws IllegalStateException if not {@link ValueType#DECIMAL}.
   */
  public BigDecimal asDecimal() {
    expect(ValueType.DECIMAL);
    return (BigDecimal) ref;
  }

  /**
   * The text of a STRING or JSON value.
   *
   * @return the value.
   * @throws IllegalStateException for any other type.
   */
  public String asString() {
    if (type != ValueType.STRING && type != ValueType.JSON) {
      throw new IllegalStateException("value of type " + type + " has no string form");
    }
    return (String) ref;
  }

  /**
   * A copy of the bytes.
   *
   * @return the value.
   * @throws IllegalStateException if not {@link ValueType#BYTES}.
   */
  public byte[] asBytes() {
    expect(ValueType.BYTES);
    return ((byte[]) ref).clone();
  }

  byte[] bytesNoCopy() {
    return (byte[]) ref;
  }

  /**
   * The UUID.
   *
   * @return the value.
   * @throws IllegalStateException if not {@link ValueType#UUID}.
   */
  public UUID asUuid() {
    expect(ValueType.UUID);
    return (UUID) ref;
  }

  long bits() {
    return bits;
  }

  private void expect(ValueType expected) {
    if (type != expected) {
      throw new IllegalStateException("value of type " + type + " is not " + expected);
    }
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Value other) || other.type != type || other.bits != bits) {
      return false;
    }
    if (ref instanceof byte[] bytes) {
      return Arrays.equals(bytes, (byte[]) other.ref);
    }
    return Objects.equals(ref, other.ref);
  }

  @Override
  public int hashCode() {
    int refHash = ref instanceof byte[] bytes ? Arrays.hashCode(bytes) : Objects.hashCode(ref);
    return 31 * (31 * type.hashCode() + Long.hashCode(bits)) + refHash;
  }

  @Override
  public String toString() {
    return switch (type) {
      case NULL -> "NULL";
      case BOOL -> Boolean.toString(bits != 0);
      case INT -> Long.toString(bits);
      case DATE, TIMESTAMP, LOCAL_TIMESTAMP -> type + ":" + bits;
      case DOUBLE -> Double.toString(Double.longBitsToDouble(bits));
      case BYTES -> "bytes[" + ((byte[]) ref).length + "]";
      case STRING, JSON -> "'" + ref + "'";
      case DECIMAL, UUID -> ref.toString();
    };
  }
}
