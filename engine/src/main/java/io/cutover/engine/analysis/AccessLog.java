package io.cutover.engine.analysis;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Reads how the application uses the monolith: a transaction log in JSON lines, or PostgreSQL's
 * {@code pg_stat_statements}.
 *
 * <p>The JSON-lines format: one object per line, blank lines and lines starting with {@code #} ignored.
 * <pre>
 * {"tx": "place_order", "reads": ["customers", "products"], "writes": ["orders", "order_items"], "count": 1200}
 * </pre>
 * {@code tx} names the transaction (required); {@code reads} and {@code writes} list tables (either may be
 * absent; a table in both counts as written); {@code count} is how often it ran (default 1). Unknown keys are
 * refused, so a typo does not silently drop data.
 */
public final class AccessLog {
  private static final Pattern WRITE = Pattern.compile(
      "\\b(?:INSERT\\s+INTO|UPDATE(?:\\s+ONLY)?|DELETE\\s+FROM(?:\\s+ONLY)?|MERGE\\s+INTO)\\s+([\\w.\"]+)",
      Pattern.CASE_INSENSITIVE);
  private static final Pattern READ = Pattern.compile("\\b(?:FROM|JOIN|USING)\\s+([\\w.\"]+(?:\\s*,\\s*[\\w.\"]+"
      + "(?:\\s+(?:AS\\s+)?\\w+)?)*)", Pattern.CASE_INSENSITIVE);

  private AccessLog() {}

  /**
   * Reads a JSON-lines transaction log.
   *
   * @param file the log.
   * @return its transactions, in file order.
   * @throws IOException if the file cannot be read.
   * @throws IllegalArgumentException naming the file, line and problem when a line is malformed.
   */
  public static List<Transaction> read(Path file) throws IOException {
    List<Transaction> out = new ArrayList<>();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int number = 0;
      while ((line = in.readLine()) != null) {
        number++;
        String trimmed = line.strip();
        if (trimmed.isEmpty() || trimmed.startsWith("#")) {
          continue;
        }
        try {
          out.add(transaction(new Json(trimmed).document()));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(file + " line " + number + ": " + e.getMessage(), e);
        }
      }
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Transaction transaction(Object value) {
    if (!(value instanceof Map<?, ?> map)) {
      throw new IllegalArgumentException("expected a JSON object");
    }
    for (Object key : map.keySet()) {
      if (!Set.of("tx", "reads", "writes", "count").contains(key)) {
        throw new IllegalArgumentException("unknown key '" + key + "' (expected tx, reads, writes, count)");
      }
    }
    if (!(map.get("tx") instanceof String id) || id.isEmpty()) {
      throw new IllegalArgumentException("'tx' must be a non-empty string");
    }
    Set<String> writes = tables(map.get("writes"), "writes");
    Set<String> reads = tables(map.get("reads"), "reads");
    reads.removeAll(writes);
    Object count = map.containsKey("count") ? map.get("count") : Long.valueOf(1);
    if (!(count instanceof Long n) || n < 1) {
      throw new IllegalArgumentException("'count' must be a whole number of at least 1, was " + count);
    }
    return new Transaction(id, reads, writes, n);
  }

  private static Set<String> tables(Object value, String key) {
    Set<String> out = new TreeSet<>();
    if (value == null) {
      return out;
    }
    if (!(value instanceof List<?> list)) {
      throw new IllegalArgumentException("'" + key + "' must be a list of table names");
    }
    for (Object table : list) {
      if (!(table instanceof String name) || name.isEmpty()) {
        throw new IllegalArgumentException("'" + key + "' must be a list of table names, found " + table);
      }
      out.add(name.toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /**
   * Reads PostgreSQL's {@code pg_stat_statements} for the current database: each statement becomes one
   * "transaction" (tables read in FROM/JOIN, written by INSERT/UPDATE/DELETE/MERGE) with its call count. It sees
   * statements, not transactions: tables written by separate statements of one transaction are not tied.
   *
   * @param ds the monolith.
   * @return the statements as transactions; empty when the extension is not installed.
   * @throws SQLException if the view exists but cannot be read.
   */
  public static List<Transaction> fromPgStatStatements(DataSource ds) throws SQLException {
    List<Transaction> out = new ArrayList<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT 1 FROM pg_extension WHERE extname = 'pg_stat_statements'")) {
        if (!rs.next()) {
          return out;
        }
      }
      try (ResultSet rs = st.executeQuery("SELECT queryid, query, calls FROM pg_stat_statements WHERE dbid = "
          + "(SELECT oid FROM pg_database WHERE datname = current_database()) AND calls > 0")) {
        while (rs.next()) {
          Map<String, Set<String>> tables = tablesOf(rs.getString(2));
          if (!tables.get("reads").isEmpty() || !tables.get("writes").isEmpty()) {
            out.add(new Transaction("statement " + rs.getLong(1), tables.get("reads"), tables.get("writes"),
                rs.getLong(3)));
          }
        }
      }
    }
    return out;
  }

  /**
   * The tables a SQL statement reads and writes (a lexical reading, good for the statements ORMs write).
   *
   * @param sql the statement.
   * @return {@code reads} and {@code writes}.
   */
  static Map<String, Set<String>> tablesOf(String sql) {
    Set<String> writes = new TreeSet<>();
    Matcher w = WRITE.matcher(sql);
    while (w.find()) {
      writes.add(name(w.group(1)));
    }
    Set<String> reads = new TreeSet<>();
    Matcher r = READ.matcher(sql);
    while (r.find()) {
      for (String part : r.group(1).split(",")) {
        String table = part.strip().split("\\s+")[0];
        if (!table.isEmpty() && !table.startsWith("(")) {
          reads.add(name(table));
        }
      }
    }
    reads.removeAll(writes);
    reads.removeIf(t -> t.equals("select") || t.equals("lateral") || t.equals("only"));
    Map<String, Set<String>> out = new LinkedHashMap<>();
    out.put("reads", reads);
    out.put("writes", writes);
    return out;
  }

  private static String name(String qualified) {
    String last = qualified.substring(qualified.lastIndexOf('.') + 1);
    return last.replace("\"", "").toLowerCase(Locale.ROOT);
  }

  /** A small strict JSON reader (objects, arrays, strings, whole numbers, true/false/null). */
  private static final class Json {
    private final String text;
    private int p;

    Json(String text) {
      this.text = text;
    }

    Object document() {
      Object value = value();
      blanks();
      if (p != text.length()) {
        throw error("unexpected text after the object");
      }
      return value;
    }

    private IllegalArgumentException error(String what) {
      return new IllegalArgumentException("malformed JSON at column " + (p + 1) + ": " + what);
    }

    private void blanks() {
      while (p < text.length() && Character.isWhitespace(text.charAt(p))) {
        p++;
      }
    }

    private Object value() {
      blanks();
      if (p >= text.length()) {
        throw error("unexpected end");
      }
      char c = text.charAt(p);
      if (c == '{') {
        Map<String, Object> map = new LinkedHashMap<>();
        p++;
        blanks();
        if (peek('}')) {
          return map;
        }
        do {
          blanks();
          if (p >= text.length() || text.charAt(p) != '"') {
            throw error("expected a key in quotes");
          }
          String key = string();
          blanks();
          expect(':');
          if (map.put(key, value()) != null) {
            throw error("key '" + key + "' appears twice");
          }
          blanks();
        } while (peek(','));
        expect('}');
        return map;
      }
      if (c == '[') {
        List<Object> list = new ArrayList<>();
        p++;
        blanks();
        if (peek(']')) {
          return list;
        }
        do {
          list.add(value());
          blanks();
        } while (peek(','));
        expect(']');
        return list;
      }
      if (c == '"') {
        return string();
      }
      for (String word : new String[] {"true", "false", "null"}) {
        if (text.startsWith(word, p)) {
          p += word.length();
          return word.equals("null") ? null : Boolean.valueOf(word);
        }
      }
      int start = p;
      if (c == '-') {
        p++;
      }
      while (p < text.length() && Character.isDigit(text.charAt(p))) {
        p++;
      }
      if (p == start || (p < text.length() && ".eE".indexOf(text.charAt(p)) >= 0)) {
        throw error("expected a value (whole numbers only)");
      }
      try {
        return Long.parseLong(text.substring(start, p));
      } catch (NumberFormatException e) {
        throw error("number out of range");
      }
    }

    private boolean peek(char c) {
      if (p < text.length() && text.charAt(p) == c) {
        p++;
        return true;
      }
      return false;
    }

    private void expect(char c) {
      blanks();
      if (!peek(c)) {
        throw error("expected '" + c + "'");
      }
    }

    private String string() {
      StringBuilder out = new StringBuilder();
      p++;
      while (p < text.length()) {
        char c = text.charAt(p++);
        if (c == '"') {
          return out.toString();
        }
        if (c == '\\') {
          if (p >= text.length()) {
            break;
          }
          char e = text.charAt(p++);
          switch (e) {
            case 'n' -> out.append('\n');
            case 't' -> out.append('\t');
            case 'r' -> out.append('\r');
            case 'b' -> out.append('\b');
            case 'f' -> out.append('\f');
            case 'u' -> {
              if (p + 4 > text.length()) {
                throw error("short \\u escape");
              }
              out.append((char) Integer.parseInt(text.substring(p, p + 4), 16));
              p += 4;
            }
            default -> out.append(e);
          }
        } else {
          out.append(c);
        }
      }
      throw error("unterminated string");
    }
  }
}
