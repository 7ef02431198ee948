package io.cutover.engine.db;

import io.cutover.engine.event.Value;
import io.cutover.engine.event.ValueType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Rows as one JSON parameter, for PostgreSQL: a run of upserts of any length goes as one statement of one text
 * ({@code INSERT ... SELECT ... FROM json_to_recordset(?::json) AS x(column type, ...) ON CONFLICT ...}), prepared
 * once on the server and sent in one round trip, where rows as {@code VALUES} tuples need a statement text per row
 * count and a round trip per statement. The server reads each field with the column's own input function, and only
 * the columns given (a column left out keeps its default, as before). A value goes as JSON only where its text reads
 * back exactly as the bound parameter wrote it: numbers and text anywhere, a timestamp with a zone only into a
 * column with one, a local timestamp only into one without, a date only into a date, a double only into a floating
 * column, a decimal only into a numeric one, bytes only into bytea; never a JSON document (spliced in unchecked it
 * could carry keys of its own). A row with any other value is refused: the caller writes it the other way.
 */
public final class JsonRows {
  private static final char[] HEX = "0123456789abcdef".toCharArray();
  private static final long MICROS_PER_DAY = 86_400_000_000L;

  private JsonRows() {}

  /**
   * A one-row insert statement over rows given as a JSON array of objects instead (PostgreSQL only).
   *
   * @param oneRow the statement, its row a {@code VALUES} tuple of one parameter per column.
   * @param columns the columns given, in the tuple's order.
   * @param types the columns' SQL types, in the same order ({@link #sqlTypes}).
   * @return the statement: one parameter, the rows ({@link #append}).
   */
  public static String rows(String oneRow, List<String> columns, List<String> types) {
    Dialect d = Dialect.POSTGRESQL;
    StringBuilder record = new StringBuilder();
    for (int i = 0; i < columns.size(); i++) {
      record.append(i == 0 ? "" : ", ").append(d.name(columns.get(i))).append(' ').append(types.get(i));
    }
    String tuple = "VALUES (" + String.join(", ", java.util.Collections.nCopies(columns.size(), "?")) + ")";
    String cols = columns.stream().map(d::name).collect(Collectors.joining(", "));
    return oneRow.replace(tuple, "SELECT " + cols + " FROM json_to_recordset(?::json) AS x(" + record + ")");
  }

  /**
   * A table's columns and their SQL types as PostgreSQL names them ({@code format_type}: qualified where the
   * search path needs it), without length or precision: the insert's assignment to the live column applies those,
   * as it did to a bound parameter, so a column widened later is not cut to its old precision here.
   *
   * @param c a connection to the database.
   * @param table the table (as written in statements).
   * @return lower-case column name to type; empty if there is no such table.
   * @throws SQLException if the catalog cannot be read.
   */
  public static Map<String, String> sqlTypes(Connection c, String table) throws SQLException {
    Map<String, String> types = new HashMap<>();
    try (PreparedStatement ps = c.prepareStatement("SELECT attname, format_type(atttypid, -1) FROM "
        + "pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          types.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(2));
        }
      }
    }
    return types;
  }

  /**
   * The JSON names of columns: as PostgreSQL stores an unquoted identifier.
   *
   * @param columns the columns.
   * @return their field names, in order.
   */
  public static String[] fields(List<String> columns) {
    String[] out = new String[columns.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = "\"" + columns.get(i).toLowerCase(Locale.ROOT) + "\":";
    }
    return out;
  }

  /**
   * Appends one row as a JSON object.
   *
   * @param out where to.
   * @param fields the columns' field names ({@link #fields}).
   * @param types the columns' SQL types ({@link #sqlTypes}), in the same order.
   * @param values the row's values, in the columns' order.
   * @return false, with {@code out} as it was, when a value has no exact text form for its column here.
   */
  public static boolean append(StringBuilder out, String[] fields, String[] types, List<Value> values) {
    int start = out.length();
    out.append(start == 0 || out.charAt(start - 1) == '[' ? "{" : ",{");
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(fields[i]);
      if (!value(out, values.get(i), types[i])) {
        out.setLength(start);
        return false;
      }
    }
    out.append('}');
    return true;
  }

  private static boolean value(StringBuilder out, Value v, String type) {
    if (!takes(type, v.type())) {
      return false;
    }
    switch (v.type()) {
      case NULL -> out.append("null");
      case BOOL -> out.append(v.asBoolean() ? "true" : "false");
      case INT -> out.append(v.asLong());
      case DOUBLE -> {
        double d = v.asDouble();
        if (Double.isNaN(d)) {
          out.append("\"NaN\"");
        } else if (Double.isInfinite(d)) {
          out.append(d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        } else {
          out.append(d);
        }
      }
      case DECIMAL -> out.append(v.asDecimal().toPlainString());
      case STRING -> string(out, v.asString());
      case BYTES -> {
        out.append("\"\\\\x");
        for (byte b : v.asBytes()) {
          out.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
        }
        out.append('"');
      }
      case UUID -> out.append('"').append(v.asUuid()).append('"');
      case DATE -> {
        out.append('"');
        if (!date(out, v.asLong())) {
          return false;
        }
        out.append('"');
      }
      case LOCAL_TIMESTAMP, TIMESTAMP -> {
        long micros = v.asLong();
        long days = Math.floorDiv(micros, MICROS_PER_DAY);
        long inDay = Math.floorMod(micros, MICROS_PER_DAY);
        out.append('"');
        if (!date(out, days)) {
          return false;
        }
        out.append('T');
        two(out, inDay / 3_600_000_000L);
        out.append(':');
        two(out, inDay / 60_000_000L % 60);
        out.append(':');
        two(out, inDay / 1_000_000L % 60);
        long fraction = inDay % 1_000_000L;
        out.append('.');
        for (long div = 100_000L; div > 0; div /= 10) {
          out.append((char) ('0' + fraction / div % 10));
        }
        out.append(v.type() == ValueType.TIMESTAMP ? "+00\"" : "\"");
      }
    }
    return true;
  }

  /** Whether a column of a type reads a value of a kind from its JSON text exactly as from a bound parameter. */
  private static boolean takes(String type, ValueType kind) {
    if (type.endsWith("[]")) {
      return kind == ValueType.NULL || kind == ValueType.STRING; // an array's own text form
    }
    return switch (kind) {
      case NULL, STRING, UUID -> true;
      case INT -> type.equals("bigint") || type.equals("integer") || type.equals("smallint")
          || type.startsWith("numeric") || type.equals("double precision") || type.equals("real")
          || type.equals("text") || type.startsWith("character") || type.equals("bpchar");
      case BOOL -> type.equals("boolean");
      // into real, a bound double is rounded from its binary value, the text from its decimal: not always alike
      case DOUBLE -> type.equals("double precision");
      case DECIMAL -> type.startsWith("numeric");
      case BYTES -> type.equals("bytea");
      case DATE -> type.equals("date");
      case TIMESTAMP -> type.startsWith("timestamp") && type.endsWith("with time zone");
      case LOCAL_TIMESTAMP -> type.startsWith("timestamp") && type.endsWith("without time zone");
      case JSON -> false;
    };
  }

  /** Years 1 to 9999 only: the ISO form both sides read the same way. */
  private static boolean date(StringBuilder out, long epochDay) {
    if (epochDay < -719_162L || epochDay > 2_932_896L) { // 0001-01-01 .. 9999-12-31
      return false;
    }
    java.time.LocalDate date = java.time.LocalDate.ofEpochDay(epochDay);
    int year = date.getYear();
    out.append((char) ('0' + year / 1000)).append((char) ('0' + year / 100 % 10))
        .append((char) ('0' + year / 10 % 10)).append((char) ('0' + year % 10)).append('-');
    two(out, date.getMonthValue());
    out.append('-');
    two(out, date.getDayOfMonth());
    return true;
  }

  private static void two(StringBuilder out, long n) {
    out.append((char) ('0' + n / 10)).append((char) ('0' + n % 10));
  }

  private static void string(StringBuilder out, String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        default -> {
          if (c < 0x20) {
            out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }
}
