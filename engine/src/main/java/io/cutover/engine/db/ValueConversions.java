package io.cutover.engine.db;

import io.cutover.engine.event.Value;
import java.math.BigDecimal;
import java.util.Locale;
import java.util.UUID;

/**
 * Values written to a column of another, compatible type: unchanged when the column takes the value as it is,
 * converted when the conversion loses nothing, refused otherwise. The conversions: numbers and booleans to text and
 * text holding them back; integers to decimals and decimals without a fraction to integers; booleans to integers
 * (1, 0) and integers 0 and 1 to booleans; UUIDs and JSON to text and text holding them back; dates to timestamps
 * (midnight) and midnight timestamps to dates; ISO text to dates and timestamps; integers to dates (days since the
 * epoch) and timestamps (microseconds since the epoch), as Debezium writes them. Both appliers (one-way and bi-directional sync) use it, so a mapping
 * may join columns whose types differ. Stateless.
 */
public final class ValueConversions {
  private ValueConversions() {}

  /**
   * A value as a column of a type takes it.
   *
   * @param value the value.
   * @param type the column's type name, as JDBC metadata gives it (any case).
   * @return the value to write, or null when it cannot be written there without loss.
   */
  public static Value toColumn(Value value, String type) {
    String t = type.toUpperCase(Locale.ROOT);
    if (fits(value, t)) {
      return value;
    }
    switch (value.type()) {
      case BOOL -> {
        if (isInteger(t) || isNumber(t)) {
          return Value.of(value.asBoolean() ? 1L : 0L);
        }
      }
      case INT -> {
        if (isBoolean(t) && (value.asLong() == 0 || value.asLong() == 1)) {
          return Value.of(value.asLong() == 1);
        }
        // Debezium's conventions for temporal columns: days since the epoch, microseconds since the epoch
        if (t.equals("DATE") && value.asLong() >= Integer.MIN_VALUE && value.asLong() <= Integer.MAX_VALUE) {
          return Value.date((int) value.asLong());
        }
        if (t.contains("TIMESTAMP")) {
          return isZoned(t) ? Value.timestampMicros(value.asLong()) : Value.localTimestampMicros(value.asLong());
        }
      }
      case STRING -> {
        Value temporal = temporal(value.asString().trim(), t);
        if (temporal != null) {
          return temporal;
        }
      }
      case DECIMAL -> {
        if (isInteger(t)) {
          try {
            return Value.of(value.asDecimal().longValueExact());
          } catch (ArithmeticException fraction) {
            return null;
          }
        }
      }
      case DATE -> {
        if (t.contains("TIMESTAMP")) {
          return Value.localTimestampMicros(value.asLong() * 86_400_000_000L);
        }
      }
      case LOCAL_TIMESTAMP -> {
        if (t.equals("DATE") && value.asLong() % 86_400_000_000L == 0) {
          return Value.date((int) Math.floorDiv(value.asLong(), 86_400_000_000L));
        }
      }
      default -> { }
    }
    String text = switch (value.type()) {
      case STRING, JSON -> value.asString();
      case INT -> Long.toString(value.asLong());
      case DECIMAL -> value.asDecimal().toPlainString();
      case DOUBLE -> Double.toString(value.asDouble());
      case BOOL -> Boolean.toString(value.asBoolean());
      case UUID -> value.asUuid().toString();
      default -> null;
    };
    if (text == null) {
      return null;
    }
    Value asText = Value.of(text);
    if (fits(asText, t) && !t.equals("UUID") && !t.contains("JSON")) {
      return asText;
    }
    String trimmed = text.trim();
    if (t.equals("UUID")) {
      try {
        UUID uuid = UUID.fromString(trimmed);
        return uuid.toString().equalsIgnoreCase(trimmed) ? Value.of(uuid) : null;
      } catch (IllegalArgumentException notAUuid) {
        return null;
      }
    }
    if (t.contains("JSON")) {
      return Value.json(text);
    }
    if (isBoolean(t)) {
      return switch (trimmed.toLowerCase(Locale.ROOT)) {
        case "true" -> Value.of(true);
        case "false" -> Value.of(false);
        default -> null;
      };
    }
    try {
      Value asInt = Value.of(Long.parseLong(trimmed));
      if (fits(asInt, t)) {
        return asInt;
      }
    } catch (NumberFormatException notAnInteger) {
      // try a decimal
    }
    try {
      Value asDecimal = Value.of(new BigDecimal(trimmed));
      return fits(asDecimal, t) ? asDecimal : null;
    } catch (NumberFormatException notANumber) {
      return null;
    }
  }

  /**
   * Whether a column of a type takes a value as it is.
   *
   * @param value the value.
   * @param type the column's type name (any case).
   * @return true when no conversion is needed.
   */
  public static boolean fits(Value value, String type) {
    String t = type.toUpperCase(Locale.ROOT);
    boolean text = isText(t);
    boolean number = isNumber(t);
    return switch (value.type()) {
      case NULL -> true;
      case STRING -> text || t.contains("ENUM") || t.equals("NAME");
      case INT -> number;
      case DOUBLE, DECIMAL -> number && !isInteger(t);
      case BOOL -> isBoolean(t);
      case BYTES -> t.contains("BINARY") || t.contains("BYTEA") || t.contains("BLOB");
      case DATE -> t.equals("DATE");
      case TIMESTAMP, LOCAL_TIMESTAMP -> t.contains("TIMESTAMP");
      case UUID -> t.equals("UUID");
      case JSON -> t.contains("JSON") || text;
    };
  }

  /**
   * The type names of a table's columns, as {@link #toColumn} takes them.
   *
   * @param c a connection to the table's database.
   * @param table the table (any case).
   * @return column name (lower case) to type name (upper case); empty when there is no such table.
   * @throws java.sql.SQLException if the catalog cannot be read.
   */
  public static java.util.Map<String, String> columnTypes(java.sql.Connection c, String table)
      throws java.sql.SQLException {
    java.util.Map<String, String> types = new java.util.HashMap<>();
    for (String name : new String[] {table, table.toUpperCase(Locale.ROOT), table.toLowerCase(Locale.ROOT)}) {
      try (java.sql.ResultSet rs = c.getMetaData().getColumns(null, c.getSchema(), name, null)) {
        while (rs.next()) {
          types.put(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT), rs.getString("TYPE_NAME")
              .toUpperCase(Locale.ROOT));
        }
      }
      if (!types.isEmpty()) {
        break;
      }
    }
    return types;
  }

  private static boolean isZoned(String t) {
    return t.contains("TZ") || t.contains("WITH TIME ZONE");
  }

  /** ISO text in a date or timestamp column; null when it is not temporal text for that column. */
  private static Value temporal(String text, String t) {
    try {
      if (t.equals("DATE")) {
        return Value.date((int) java.time.LocalDate.parse(text).toEpochDay());
      }
      if (t.contains("TIMESTAMP")) {
        if (isZoned(t)) {
          java.time.Instant instant = java.time.OffsetDateTime.parse(text).toInstant();
          return Value.timestampMicros(Value.epochMicros(instant));
        }
        java.time.LocalDateTime local = java.time.LocalDateTime.parse(text);
        return Value.localTimestampMicros(java.time.temporal.ChronoUnit.MICROS.between(
            java.time.LocalDateTime.of(1970, 1, 1, 0, 0), local));
      }
    } catch (java.time.format.DateTimeParseException notTemporal) {
      return null;
    }
    return null;
  }

  private static boolean isText(String t) {
    return t.contains("CHAR") || t.contains("TEXT") || t.contains("CLOB");
  }

  private static boolean isInteger(String t) {
    return t.contains("INT") && !t.contains("INTERVAL") && !t.contains("POINT") || t.equals("SERIAL")
        || t.equals("BIGSERIAL");
  }

  private static boolean isNumber(String t) {
    return isInteger(t) || t.contains("NUMERIC") || t.contains("DECIMAL") || t.contains("FLOAT")
        || t.contains("DOUBLE") || t.contains("REAL");
  }

  private static boolean isBoolean(String t) {
    return t.contains("BOOL") || t.equals("BIT");
  }
}
