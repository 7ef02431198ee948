package io.cutover.engine.event;

/** The type of a {@link Value}; the byte code is part of the journal format and never changes. */
public enum ValueType {
  /** SQL NULL. */
  NULL(0),
  /** boolean. */
  BOOL(1),
  /** Every integer type, as a long. */
  INT(2),
  /** real and double precision. */
  DOUBLE(3),
  /** numeric/decimal, scale preserved. */
  DECIMAL(4),
  /** text, varchar, char. */
  STRING(5),
  /** bytea, binary. */
  BYTES(6),
  /** timestamp with time zone, as UTC microseconds since the epoch. */
  TIMESTAMP(7),
  /** date, as days since 1970-01-01. */
  DATE(8),
  /** timestamp without time zone, as microseconds since 1970-01-01T00:00 in no zone. */
  LOCAL_TIMESTAMP(9),
  /** uuid. */
  UUID(10),
  /** json/jsonb, as text. */
  JSON(11);

  private static final ValueType[] BY_CODE = values();
  private final byte code;

  ValueType(int code) {
    this.code = (byte) code;
  }

  /**
   * The stable byte code.
   *
   * @return the code.
   */
  public byte code() {
    return code;
  }

  /**
   * The type of a byte code.
   *
   * @param code a stable code.
   * @return the type.
   * @throws IllegalArgumentException if no type has that code.
   */
  public static ValueType ofCode(byte code) {
    if (code < 0 || code >= BY_CODE.length) {
      throw new IllegalArgumentException("unknown value type code " + code);
    }
    return BY_CODE[code];
  }
}
