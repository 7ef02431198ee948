package io.cutover.engine.db;

import io.cutover.engine.event.Value;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

/** Converts column values between JDBC objects and {@link Value}. Thread-safe (stateless). */
public final class JdbcValues {
  private static final LocalDateTime EPOCH = LocalDateTime.of(1970, 1, 1, 0, 0);

  private JdbcValues() {}

  /**
   * The value of a JDBC object as a driver or a trigger hands it over.
   *
   * @param column the column's name, for the error message.
   * @param object the object; null is SQL NULL.
   * @return the value.
   * @throws IllegalArgumentException naming the column and the Java type when the type cannot be mapped.
   */
  public static Value fromJdbc(String column, Object object) {
    if (object == null) {
      return Value.NULL;
    }
    if (object instanceof Integer || object instanceof Long || object instanceof Short || object instanceof Byte) {
      return Value.of(((Number) object).longValue());
    }
    if (object instanceof BigInteger big) {
      return Value.of(new BigDecimal(big));
    }
    if (object instanceof BigDecimal decimal) {
      return Value.of(decimal);
    }
    if (object instanceof Double || object instanceof Float) {
      return Value.of(((Number) object).doubleValue());
    }
    if (object instanceof String text) {
      return Value.of(text);
    }
    if (object instanceof Boolean bool) {
      return Value.of(bool);
    }
    if (object instanceof byte[] bytes) {
      return Value.of(bytes);
    }
    if (object instanceof UUID uuid) {
      return Value.of(uuid);
    }
    if (object instanceof Timestamp timestamp) {
      return Value.localTimestampMicros(micros(timestamp.toLocalDateTime()));
    }
    if (object instanceof LocalDateTime local) {
      return Value.localTimestampMicros(micros(local));
    }
    if (object instanceof OffsetDateTime offset) {
      return Value.timestampMicros(micros(offset.toInstant()));
    }
    if (object instanceof ZonedDateTime zoned) {
      return Value.timestampMicros(micros(zoned.toInstant()));
    }
    if (object instanceof Instant instant) {
      return Value.timestampMicros(micros(instant));
    }
    if (object instanceof java.sql.Date date) {
      return Value.date((int) date.toLocalDate().toEpochDay());
    }
    if (object instanceof LocalDate date) {
      return Value.date((int) date.toEpochDay());
    }
    throw new IllegalArgumentException("column '" + column + "' has values of type " + object.getClass().getName()
        + ", which Cutover cannot map yet");
  }

  /**
   * Binds a value to a statement parameter.
   *
   * @param statement the statement.
   * @param index the 1-based parameter index.
   * @param value the value.
   * @throws SQLException if the driver refuses it.
   */
  public static void bind(PreparedStatement statement, int index, Value value) throws SQLException {
    switch (value.type()) {
      case NULL -> statement.setNull(index, Types.NULL);
      case BOOL -> statement.setBoolean(index, value.asBoolean());
      case INT -> statement.setLong(index, value.asLong());
      case DOUBLE -> statement.setDouble(index, value.asDouble());
      case DECIMAL -> statement.setBigDecimal(index, value.asDecimal());
      case STRING -> statement.setString(index, value.asString());
      case JSON -> statement.setObject(index, value.asString(), Types.OTHER);
      case BYTES -> statement.setBytes(index, value.asBytes());
      case UUID -> statement.setObject(index, value.asUuid());
      case DATE -> statement.setObject(index, LocalDate.ofEpochDay(value.asLong()));
      case LOCAL_TIMESTAMP -> statement.setObject(index, EPOCH.plus(value.asLong(), ChronoUnit.MICROS));
      case TIMESTAMP -> statement.setObject(index,
          OffsetDateTime.ofInstant(Instant.EPOCH.plus(value.asLong(), ChronoUnit.MICROS), ZoneOffset.UTC));
    }
  }

  private static long micros(LocalDateTime local) {
    return ChronoUnit.MICROS.between(EPOCH, local);
  }

  private static long micros(Instant instant) {
    return Value.epochMicros(instant);
  }
}
