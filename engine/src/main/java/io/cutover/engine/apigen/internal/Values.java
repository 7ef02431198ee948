package io.cutover.engine.apigen.internal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.cutover.engine.apigen.ApiGenerator;
import io.cutover.engine.apigen.ApiModel.Field;
import io.cutover.engine.db.Dialect;
import java.io.IOException;
import java.math.BigDecimal;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Base64;
import java.util.Locale;
import java.util.UUID;

/**
 * Field values between JSON, query text and JDBC, by {@link io.cutover.engine.apigen.ApiModel.FieldKind}. Parsing
 * throws {@link IllegalArgumentException} with a message fit for a problem response. Stateless.
 */
public final class Values {
  private Values() {}

  /**
   * A body value as the Java object to bind.
   *
   * @param f the field.
   * @param node the JSON value (not JSON null).
   * @return the object.
   * @throws IllegalArgumentException saying what was expected.
   */
  public static Object fromJson(Field f, JsonNode node) {
    switch (f.kind()) {
      case INT32, INT64 -> {
        if (!node.isIntegralNumber() || !node.canConvertToLong()
            || f.kind() == io.cutover.engine.apigen.ApiModel.FieldKind.INT32 && !node.canConvertToInt()) {
          throw new IllegalArgumentException("expected " + (f.kind().name().equals("INT32") ? "a 32-bit" : "a 64-bit")
              + " integer, got " + describe(node));
        }
        return range(f, node.longValue());
      }
      case DOUBLE -> {
        if (!node.isNumber()) {
          throw new IllegalArgumentException("expected a number, got " + describe(node));
        }
        return node.doubleValue();
      }
      case DECIMAL -> {
        if (!node.isNumber() && !(node.isTextual() && isDecimal(node.textValue()))) {
          throw new IllegalArgumentException("expected a number, got " + describe(node));
        }
        BigDecimal value;
        try {
          value = node.isNumber() ? node.decimalValue() : new BigDecimal(node.textValue());
        } catch (NumberFormatException e) { // a double beyond its range: Infinity
          throw new IllegalArgumentException("expected a number numeric can hold, got " + clip(node.toString()));
        }
        return decimal(f, value);
      }
      case BOOLEAN -> {
        if (!node.isBoolean()) {
          throw new IllegalArgumentException("expected true or false, got " + describe(node));
        }
        return node.booleanValue();
      }
      case JSON -> {
        return node.toString();
      }
      default -> {
        if (!node.isTextual()) {
          throw new IllegalArgumentException("expected a string, got " + describe(node));
        }
        return fromText(f, node.textValue());
      }
    }
  }

  /**
   * A value written as text (a filter, a key in a path, a cursor) as the Java object to bind.
   *
   * @param f the field.
   * @param text the text.
   * @return the object.
   * @throws IllegalArgumentException saying what was expected.
   */
  public static Object fromText(Field f, String text) {
    try {
      return switch (f.kind()) {
        case INT32, INT64 -> range(f, Long.parseLong(text));
        case DOUBLE -> Double.parseDouble(text);
        case DECIMAL -> decimal(f, new BigDecimal(text));
        case BOOLEAN -> switch (text) {
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          default -> throw new IllegalArgumentException("expected true or false, got '" + clip(text) + "'");
        };
        case DATE -> LocalDate.parse(text);
        case TIME -> LocalTime.parse(text);
        case LOCAL_TIMESTAMP -> LocalDateTime.parse(text);
        case TIMESTAMP -> OffsetDateTime.parse(text);
        case UUID -> uuid(text);
        case BYTES -> Base64.getDecoder().decode(text);
        case TEXT, JSON -> {
          if (f.maxLength() > 0 && text.codePointCount(0, text.length()) > f.maxLength()) {
            throw new IllegalArgumentException("longer than " + f.maxLength() + " characters");
          }
          yield text;
        }
      };
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("expected " + article(f) + ", got '" + clip(text) + "'");
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("expected " + article(f) + ", got '" + clip(text) + "'");
    }
  }

  private static String article(Field f) {
    return switch (f.kind()) {
      case INT32, INT64 -> "an integer";
      case DOUBLE, DECIMAL -> "a number";
      case DATE -> "a date like 2026-11-24";
      case TIME -> "a time like 10:15:30";
      case LOCAL_TIMESTAMP -> "a date and time like 2026-11-24T10:15:30";
      case TIMESTAMP -> "a date and time with an offset like 2026-11-24T10:15:30Z";
      default -> "a " + f.kind().name().toLowerCase(Locale.ROOT);
    };
  }

  private static Object range(Field f, long value) {
    boolean small = f.dbType().equals("int2") || f.dbType().equals("smallint");
    if (f.kind() == io.cutover.engine.apigen.ApiModel.FieldKind.INT32
        && (value < (small ? Short.MIN_VALUE : Integer.MIN_VALUE) || value > (small ? Short.MAX_VALUE
            : Integer.MAX_VALUE))) {
      throw new IllegalArgumentException(value + " is out of range for " + f.dbType());
    }
    return value;
  }

  /** The most digits PostgreSQL's unconstrained {@code numeric} holds before the decimal point. */
  static final int MAX_INTEGER_DIGITS = 131_072;
  /** ... and after it. */
  static final int MAX_FRACTION_DIGITS = 16_383;

  /**
   * A decimal within the column's precision, checked on its digit counts before it is ever written out in full
   * ({@code 1e900000000} is a short text and a 900-million-character plain number).
   */
  private static BigDecimal decimal(Field f, BigDecimal value) {
    long integerDigits = (long) value.precision() - value.scale();
    long allowed = f.precision() > 0 ? f.precision() - f.scale() : MAX_INTEGER_DIGITS;
    if (integerDigits > allowed) {
      throw new IllegalArgumentException(shown(value) + " has more than " + allowed + " digits before the decimal "
          + "point (" + (f.precision() > 0 ? "numeric(" + f.precision() + "," + f.scale() + ")" : "the most numeric "
          + "holds") + ")");
    }
    if (value.scale() > MAX_FRACTION_DIGITS) {
      throw new IllegalArgumentException(shown(value) + " has more than " + MAX_FRACTION_DIGITS + " digits after "
          + "the decimal point (the most numeric holds)");
    }
    return value;
  }

  /** A number as an error message shows it: scientific notation, clipped. */
  private static String shown(BigDecimal value) {
    return clip(value.toString());
  }

  private static boolean isDecimal(String text) {
    try {
      new BigDecimal(text);
      return true;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  private static UUID uuid(String text) {
    try {
      UUID uuid = UUID.fromString(text);
      if (!uuid.toString().equalsIgnoreCase(text)) {
        throw new IllegalArgumentException("expected a UUID like 123e4567-e89b-12d3-a456-426614174000, got '"
            + clip(text) + "'");
      }
      return uuid;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("expected a UUID like 123e4567-e89b-12d3-a456-426614174000, got '"
          + clip(text) + "'");
    }
  }

  private static String describe(JsonNode node) {
    if (node.isTextual()) {
      return "the string '" + clip(node.textValue()) + "'";
    }
    return node.getNodeType().name().toLowerCase(Locale.ROOT) + " " + clip(node.toString());
  }

  /**
   * Text cut to a length fit for an error message.
   *
   * @param text the text.
   * @return at most 60 characters of it.
   */
  public static String clip(String text) {
    return text.length() <= 60 ? text : text.substring(0, 57) + "...";
  }

  /**
   * The SQL placeholder of a field's value ({@code ? FORMAT JSON} for JSON on H2, else {@code ?}).
   *
   * @param dialect the database.
   * @param f the field.
   * @return the placeholder.
   */
  public static String placeholder(Dialect dialect, Field f) {
    return dialect == Dialect.H2 && f.kind() == io.cutover.engine.apigen.ApiModel.FieldKind.JSON ? "? FORMAT JSON"
        : "?";
  }

  /**
   * Binds a value parsed by this class.
   *
   * @param statement the statement.
   * @param index the 1-based parameter.
   * @param dialect the database.
   * @param f the field.
   * @param value the value, or null for SQL NULL.
   * @throws SQLException if the driver refuses it.
   */
  public static void bind(PreparedStatement statement, int index, Dialect dialect, Field f, Object value)
      throws SQLException {
    if (value == null) {
      statement.setNull(index, Types.NULL);
      return;
    }
    switch (f.kind()) {
      case INT32, INT64 -> statement.setLong(index, (Long) value);
      case DOUBLE -> statement.setDouble(index, (Double) value);
      case DECIMAL -> statement.setBigDecimal(index, (BigDecimal) value);
      case BOOLEAN -> statement.setBoolean(index, (Boolean) value);
      case BYTES -> statement.setBytes(index, (byte[]) value);
      case JSON -> {
        if (dialect == Dialect.POSTGRESQL) {
          statement.setObject(index, value, Types.OTHER);
        } else {
          statement.setString(index, (String) value);
        }
      }
      case TEXT -> {
        if (dialect == Dialect.POSTGRESQL && !ApiGenerator.plainText(f.dbType())) {
          statement.setObject(index, value, Types.OTHER);
        } else {
          statement.setString(index, (String) value);
        }
      }
      default -> statement.setObject(index, value);
    }
  }

  /**
   * Writes a column of the current row as JSON.
   *
   * @param out the generator, positioned where the value goes.
   * @param rs the result set.
   * @param column the 1-based column.
   * @param f the field.
   * @throws SQLException if the column cannot be read.
   * @throws IOException if the generator fails.
   */
  public static void write(JsonGenerator out, ResultSet rs, int column, Field f) throws SQLException, IOException {
    switch (f.kind()) {
      case INT32, INT64 -> {
        long v = rs.getLong(column);
        if (rs.wasNull()) {
          out.writeNull();
        } else {
          out.writeNumber(v);
        }
      }
      case DOUBLE -> {
        double v = rs.getDouble(column);
        if (rs.wasNull()) {
          out.writeNull();
        } else {
          out.writeNumber(v);
        }
      }
      case BOOLEAN -> {
        boolean v = rs.getBoolean(column);
        if (rs.wasNull()) {
          out.writeNull();
        } else {
          out.writeBoolean(v);
        }
      }
      case DECIMAL -> {
        BigDecimal v = rs.getBigDecimal(column);
        if (v == null) {
          out.writeNull();
        } else {
          out.writeNumber(v);
        }
      }
      case JSON -> {
        String v = rs.getString(column);
        if (v == null) {
          out.writeNull();
        } else {
          out.writeRawValue(v);
        }
      }
      case BYTES -> {
        byte[] v = rs.getBytes(column);
        if (v == null) {
          out.writeNull();
        } else {
          out.writeString(Base64.getEncoder().encodeToString(v));
        }
      }
      default -> {
        String v = text(rs, column, f);
        if (v == null) {
          out.writeNull();
        } else {
          out.writeString(v);
        }
      }
    }
  }

  /**
   * A column of the current row as the text {@link #fromText} reads back (for cursors and locations).
   *
   * @param rs the result set.
   * @param column the 1-based column.
   * @param f the field.
   * @return the text, or null for SQL NULL.
   * @throws SQLException if the column cannot be read.
   */
  public static String text(ResultSet rs, int column, Field f) throws SQLException {
    return switch (f.kind()) {
      case DATE -> string(rs.getObject(column, LocalDate.class));
      case TIME -> {
        LocalTime v = rs.getObject(column, LocalTime.class);
        yield v == null ? null : DateTimeFormatter.ISO_LOCAL_TIME.format(v);
      }
      case LOCAL_TIMESTAMP -> {
        LocalDateTime v = rs.getObject(column, LocalDateTime.class);
        yield v == null ? null : DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(v);
      }
      case TIMESTAMP -> {
        OffsetDateTime v = rs.getObject(column, OffsetDateTime.class);
        yield v == null ? null : DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(v.withOffsetSameInstant(
            ZoneOffset.UTC));
      }
      case BOOLEAN -> {
        boolean v = rs.getBoolean(column);
        yield rs.wasNull() ? null : Boolean.toString(v);
      }
      case UUID -> string(rs.getObject(column));
      case DECIMAL -> {
        BigDecimal v = rs.getBigDecimal(column);
        yield v == null ? null : v.toPlainString();
      }
      case BYTES -> {
        byte[] v = rs.getBytes(column);
        yield v == null ? null : Base64.getEncoder().encodeToString(v);
      }
      default -> rs.getString(column);
    };
  }

  private static String string(Object value) {
    return value == null ? null : value.toString();
  }
}
