package io.cutover.engine.event;

/** What happened to the row; the byte code is part of the journal format. */
public enum Operation {
  /** A new row. */
  INSERT,
  /** An existing row changed. */
  UPDATE,
  /** A row was removed. */
  DELETE,
  /** A row read by a backfill. */
  SNAPSHOT_READ;

  private static final Operation[] BY_CODE = values();

  /**
   * The stable byte code.
   *
   * @return the code.
   */
  public byte code() {
    return (byte) ordinal();
  }

  /**
   * The operation of a code.
   *
   * @param code a stable code.
   * @return the operation.
   * @throws IllegalArgumentException if no operation has that code.
   */
  public static Operation ofCode(byte code) {
    if (code < 0 || code >= BY_CODE.length) {
      throw new IllegalArgumentException("unknown operation code " + code);
    }
    return BY_CODE[code];
  }
}
