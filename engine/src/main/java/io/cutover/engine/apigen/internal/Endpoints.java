package io.cutover.engine.apigen.internal;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import io.cutover.engine.apigen.ApiModel.Field;
import io.cutover.engine.apigen.ApiModel.Resource;
import io.cutover.engine.apigen.ApiProblem;
import io.cutover.engine.apigen.ApiProblem.FieldError;
import io.cutover.engine.apigen.internal.Query.Sql;
import io.cutover.engine.db.Dialect;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The operations of the generated API over JDBC, one method per endpoint kind. Each takes a connection from the
 * caller and leaves it as it found it; writes run in one transaction each (a bulk create is all or nothing).
 * Stateless apart from the dialect.
 */
public final class Endpoints {
  private static final JsonFactory JSON = new JsonFactory();
  private final Dialect dialect;

  /**
   * Endpoints for one database; statement timeouts are the connections' (set when the pool opens them).
   *
   * @param dialect the database.
   */
  public Endpoints(Dialect dialect) {
    this.dialect = dialect;
  }

  /**
   * A response: status, headers and a JSON body.
   *
   * @param status the HTTP status.
   * @param headers extra headers.
   * @param body the JSON body, or empty for none.
   */
  public record Reply(int status, Map<String, String> headers, byte[] body) {}

  /**
   * {@code GET /vN/resource}: one page of rows.
   *
   * @param c the connection.
   * @param r the resource as the version shows it.
   * @param q the parsed query.
   * @param nextLink how to make the next page's link from its cursor (path and query), or null.
   * @return 200 with a JSON array.
   * @throws SQLException if the database fails.
   */
  public Reply list(Connection c, Resource r, Query q, java.util.function.Function<String, String> nextLink)
      throws SQLException {
    Set<Field> read = new LinkedHashSet<>(q.select());
    q.order().forEach(o -> read.add(o.field()));
    List<Field> columns = List.copyOf(read);
    Sql sql = new Sql().append("SELECT ").append(columnList(columns)).append(" FROM ").append(dialect.name(r.name()));
    q.where(sql, dialect, true);
    q.orderBy(sql, dialect);
    sql.append(" LIMIT " + (q.limit() + 1) + " OFFSET " + q.offset());
    Map<String, String> headers = new LinkedHashMap<>();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    int rows = 0;
    try (PreparedStatement s = prepare(c, sql.text())) {
      sql.bindAll(s, dialect);
      try (ResultSet rs = s.executeQuery(); JsonGenerator out = JSON.createGenerator(bytes)) {
        out.writeStartArray();
        List<String> last = null;
        while (rs.next()) {
          if (rows == q.limit()) {
            if (r.addressable() && last != null) {
              String cursor = Query.cursorAfter(q.order(), last);
              headers.put("X-Next-Cursor", cursor);
              if (nextLink != null) {
                headers.put("Link", "<" + nextLink.apply(cursor) + ">; rel=\"next\"");
              }
            }
            break;
          }
          writeRow(out, rs, columns, q.select());
          rows++;
          last = new ArrayList<>();
          for (Query.Order o : q.order()) {
            last.add(Values.text(rs, columns.indexOf(o.field()) + 1, o.field()));
          }
        }
        out.writeEndArray();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String total = "*";
    if (q.count()) {
      Sql count = new Sql().append("SELECT COUNT(*) FROM ").append(dialect.name(r.name()));
      q.where(count, dialect, false);
      try (PreparedStatement s = prepare(c, count.text())) {
        count.bindAll(s, dialect);
        try (ResultSet rs = s.executeQuery()) {
          rs.next();
          total = Long.toString(rs.getLong(1));
        }
      }
      headers.put("X-Total-Count", total);
    }
    headers.put("Content-Range", (rows == 0 ? "*" : q.offset() + "-" + (q.offset() + rows - 1)) + "/" + total);
    return new Reply(200, headers, bytes.toByteArray());
  }

  /**
   * {@code GET /vN/resource/key}.
   *
   * @param c the connection.
   * @param r the resource.
   * @param key the key values, parsed.
   * @param select the fields to return.
   * @return 200 with the row.
   * @throws SQLException if the database fails.
   * @throws ApiProblem 404 when there is no such row.
   */
  public Reply get(Connection c, Resource r, List<Object> key, List<Field> select) throws SQLException {
    byte[] row = readRow(c, r, key, select);
    if (row == null) {
      throw ApiProblem.notFound("no " + r.name() + " with key " + describe(r, key));
    }
    return new Reply(200, Map.of(), row);
  }

  /**
   * {@code POST /vN/resource}: one row, or an array in one transaction.
   *
   * @param c the connection.
   * @param r the resource.
   * @param body the parsed JSON body.
   * @param maxRows the most rows a bulk create takes.
   * @param location how to make a row's URL from its key path segment.
   * @return 201 with the row(s) as stored.
   * @throws SQLException if the database refuses (mapped to a problem by the caller).
   */
  public Reply create(Connection c, Resource r, JsonNode body, int maxRows,
      java.util.function.Function<String, String> location) throws SQLException {
    List<Map<Field, Object>> rows = Bodies.creates(r, body, maxRows);
    return inTransaction(c, () -> {
      List<List<Object>> keys = new ArrayList<>();
      for (Map<Field, Object> row : rows) {
        keys.add(insert(c, r, row));
      }
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      if (body.isArray()) {
        bytes.write('[');
        for (int i = 0; i < keys.size(); i++) {
          if (i > 0) {
            bytes.write(',');
          }
          bytes.write(readRow(c, r, keys.get(i), r.fields()));
        }
        bytes.write(']');
      } else {
        bytes.write(readRow(c, r, keys.get(0), r.fields()));
      }
      Map<String, String> headers = new LinkedHashMap<>();
      if (!body.isArray() && r.addressable()) {
        headers.put("Location", location.apply(keySegment(r, keys.get(0))));
      }
      return new Reply(201, headers, bytes.toByteArray());
    });
  }

  /**
   * {@code PUT /vN/resource/key}: replace the row, or create it under this key.
   *
   * @param c the connection.
   * @param r the resource.
   * @param key the key values.
   * @param body the parsed body.
   * @return 200 (replaced) or 201 (created) with the row.
   * @throws SQLException if the database refuses.
   */
  public Reply replace(Connection c, Resource r, List<Object> key, JsonNode body) throws SQLException {
    List<FieldError> errors = new ArrayList<>();
    Map<Field, Object> values = Bodies.row(r, body, Bodies.Mode.REPLACE, "", errors);
    for (int i = 0; i < r.key().size(); i++) {
      Field k = r.field(r.key().get(i));
      if (values.containsKey(k) && !same(values.get(k), key.get(i))) {
        errors.add(new FieldError("/" + k.name(), null, "differs from the key in the path"));
      }
    }
    Bodies.check(r, errors);
    return inTransaction(c, () -> {
      Sql sql = new Sql().append("UPDATE ").append(dialect.name(r.name())).append(" SET ");
      boolean first = true;
      for (Field f : r.fields()) {
        if (f.readOnly() || r.key().contains(f.name())) {
          continue;
        }
        sql.append(first ? "" : ", ").append(dialect.name(f.name())).append(" = ");
        first = false;
        if (values.containsKey(f)) {
          sql.bind(dialect, f, values.get(f));
        } else {
          sql.append(f.nullable() ? "NULL" : "DEFAULT");
        }
      }
      int changed = first ? exists(c, r, key) : update(c, r, sql, key);
      if (changed > 0) {
        return new Reply(200, Map.of(), readRow(c, r, key, r.fields()));
      }
      Map<Field, Object> row = new LinkedHashMap<>(values);
      for (int i = 0; i < r.key().size(); i++) {
        row.put(r.field(r.key().get(i)), key.get(i));
      }
      insert(c, r, row);
      return new Reply(201, Map.of(), readRow(c, r, key, r.fields()));
    });
  }

  /**
   * {@code PATCH /vN/resource/key}: change the given fields.
   *
   * @param c the connection.
   * @param r the resource.
   * @param key the key values.
   * @param body the parsed body.
   * @return 200 with the row.
   * @throws SQLException if the database refuses.
   * @throws ApiProblem 404 when there is no such row.
   */
  public Reply update(Connection c, Resource r, List<Object> key, JsonNode body) throws SQLException {
    List<FieldError> errors = new ArrayList<>();
    Map<Field, Object> values = Bodies.row(r, body, Bodies.Mode.UPDATE, "", errors);
    Bodies.check(r, errors);
    return inTransaction(c, () -> {
      Sql sql = new Sql().append("UPDATE ").append(dialect.name(r.name())).append(" SET ");
      boolean first = true;
      for (Map.Entry<Field, Object> v : values.entrySet()) {
        sql.append(first ? "" : ", ").append(dialect.name(v.getKey().name())).append(" = ")
            .bind(dialect, v.getKey(), v.getValue());
        first = false;
      }
      if (update(c, r, sql, key) == 0) {
        throw ApiProblem.notFound("no " + r.name() + " with key " + describe(r, key));
      }
      return new Reply(200, Map.of(), readRow(c, r, key, r.fields()));
    });
  }

  /**
   * {@code DELETE /vN/resource/key}.
   *
   * @param c the connection.
   * @param r the resource.
   * @param key the key values.
   * @return 204.
   * @throws SQLException if the database refuses (e.g. rows still reference it).
   * @throws ApiProblem 404 when there is no such row.
   */
  public Reply delete(Connection c, Resource r, List<Object> key) throws SQLException {
    return inTransaction(c, () -> {
      Sql sql = new Sql().append("DELETE FROM ").append(dialect.name(r.name()));
      whereKey(sql, r, key);
      try (PreparedStatement s = prepare(c, sql.text())) {
        sql.bindAll(s, dialect);
        if (s.executeUpdate() == 0) {
          throw ApiProblem.notFound("no " + r.name() + " with key " + describe(r, key));
        }
      }
      return new Reply(204, Map.of(), new byte[0]);
    });
  }

  /**
   * Parses the key segment of a row's path: the key's values in key order, comma-separated, each
   * percent-decoded (a comma inside a value is written {@code %2C}).
   *
   * @param r the resource.
   * @param segment the raw (still encoded) path segment.
   * @return the values.
   * @throws ApiProblem 400 when the count or a value is wrong.
   */
  public static List<Object> parseKey(Resource r, String segment) {
    String[] parts = segment.split(",", -1);
    if (parts.length != r.key().size()) {
      throw ApiProblem.badRequest("the key of " + r.name() + " is " + String.join(",", r.key()) + ": give "
          + r.key().size() + " value" + (r.key().size() == 1 ? "" : "s, comma-separated, in that order"),
          List.of());
    }
    List<Object> values = new ArrayList<>();
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < parts.length; i++) {
      Field f = r.field(r.key().get(i));
      try {
        values.add(Values.fromText(f, URLDecoder.decode(parts[i].replace("+", "%2B"), StandardCharsets.UTF_8)));
      } catch (IllegalArgumentException e) {
        errors.add(new FieldError(null, f.name(), "key " + f.name() + ": " + e.getMessage()));
      }
    }
    if (!errors.isEmpty()) {
      throw ApiProblem.badRequest("the key in the path is not a key of " + r.name() + ": " + errors.get(0).detail(),
          errors);
    }
    return values;
  }

  /**
   * Maps a database error to the problem a client should see: a unique or foreign-key violation is 409, a
   * missing required value or a bad value 400, a timeout, lost connection or serialization failure 503 (retry),
   * anything else 500.
   *
   * @param e the error.
   * @return the problem.
   */
  public static ApiProblem problem(SQLException e) {
    String state = e.getSQLState() == null ? "" : e.getSQLState();
    String message = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
    message = message.length() > 300 ? message.substring(0, 297) + "..." : message;
    if (state.equals("23505")) {
      return new ApiProblem(409, "Conflict", "a row with this unique value exists: " + message, List.of());
    }
    if (state.equals("23503") || state.equals("23506")) {
      return new ApiProblem(409, "Conflict", "a foreign key refused the write: " + message, List.of());
    }
    if (state.equals("23502")) {
      return ApiProblem.badRequest("a required value is missing: " + message, List.of());
    }
    if (state.startsWith("23") || state.startsWith("22")) {
      return ApiProblem.badRequest("the database refused the value: " + message, List.of());
    }
    if (state.equals("57014")) {
      return new ApiProblem(503, "Service Unavailable", "the query ran past the server's timeout", List.of());
    }
    if (state.startsWith("08") || state.equals("40001") || state.equals("40P01") || state.startsWith("HY")
        || e instanceof java.sql.SQLTransientException) {
      return new ApiProblem(503, "Service Unavailable", "the database is unavailable or busy (" + state
          + "); retry", List.of());
    }
    return new ApiProblem(500, "Internal Server Error", "the database failed (SQLSTATE " + state + ")", List.of());
  }

  private interface Work {
    Reply run() throws SQLException, IOException;
  }

  private Reply inTransaction(Connection c, Work work) throws SQLException {
    boolean auto = c.getAutoCommit();
    c.setAutoCommit(false);
    try {
      Reply reply = work.run();
      c.commit();
      return reply;
    } catch (SQLException | RuntimeException e) {
      c.rollback();
      throw e;
    } catch (IOException e) {
      c.rollback();
      throw new UncheckedIOException(e);
    } finally {
      c.setAutoCommit(auto);
    }
  }

  private List<Object> insert(Connection c, Resource r, Map<Field, Object> row) throws SQLException {
    Sql sql = new Sql().append("INSERT INTO ").append(dialect.name(r.name()));
    if (row.isEmpty()) {
      sql.append(" DEFAULT VALUES");
    } else {
      List<Field> fields = new ArrayList<>(row.keySet());
      sql.append(" (").append(columnList(fields)).append(") VALUES (");
      for (int i = 0; i < fields.size(); i++) {
        sql.append(i == 0 ? "" : ", ").bind(dialect, fields.get(i), row.get(fields.get(i)));
      }
      sql.append(")");
    }
    boolean keyGiven = r.key().stream().allMatch(k -> row.containsKey(r.field(k)));
    try (PreparedStatement s = keyGiven || !r.addressable() ? prepare(c, sql.text())
        : c.prepareStatement(sql.text(), Statement.RETURN_GENERATED_KEYS)) {
      sql.bindAll(s, dialect);
      s.executeUpdate();
      List<Object> key = new ArrayList<>();
      if (keyGiven) {
        r.key().forEach(k -> key.add(row.get(r.field(k))));
        return key;
      }
      if (!r.addressable()) {
        return key;
      }
      try (ResultSet generated = s.getGeneratedKeys()) {
        if (!generated.next()) {
          throw new SQLException("the database gave no generated key for the new " + r.name(), "HY000");
        }
        for (String k : r.key()) {
          Field f = r.field(k);
          key.add(Values.fromText(f, Values.text(generated, generated.findColumn(k), f)));
        }
      }
      return key;
    }
  }

  private int update(Connection c, Resource r, Sql sql, List<Object> key) throws SQLException {
    whereKey(sql, r, key);
    try (PreparedStatement s = prepare(c, sql.text())) {
      sql.bindAll(s, dialect);
      return s.executeUpdate();
    }
  }

  private int exists(Connection c, Resource r, List<Object> key) throws SQLException {
    return readRow(c, r, key, List.of(r.field(r.key().get(0)))) == null ? 0 : 1;
  }

  private byte[] readRow(Connection c, Resource r, List<Object> key, List<Field> select) throws SQLException {
    if (!r.addressable()) {
      return "{}".getBytes(StandardCharsets.UTF_8);
    }
    Sql sql = new Sql().append("SELECT ").append(columnList(select)).append(" FROM ").append(dialect.name(r.name()));
    whereKey(sql, r, key);
    try (PreparedStatement s = prepare(c, sql.text())) {
      sql.bindAll(s, dialect);
      try (ResultSet rs = s.executeQuery()) {
        if (!rs.next()) {
          return null;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (JsonGenerator out = JSON.createGenerator(bytes)) {
          writeRow(out, rs, select, select);
        }
        return bytes.toByteArray();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void whereKey(Sql sql, Resource r, List<Object> key) {
    for (int i = 0; i < r.key().size(); i++) {
      Field f = r.field(r.key().get(i));
      sql.append(i == 0 ? " WHERE " : " AND ").append(dialect.name(f.name())).append(" = ").bind(dialect, f,
          key.get(i));
    }
  }

  private static void writeRow(JsonGenerator out, ResultSet rs, List<Field> columns, List<Field> shown)
      throws SQLException, IOException {
    out.writeStartObject();
    for (Field f : shown) {
      out.writeFieldName(f.name());
      Values.write(out, rs, columns.indexOf(f) + 1, f);
    }
    out.writeEndObject();
  }

  private String columnList(List<Field> fields) {
    StringBuilder s = new StringBuilder();
    for (Field f : fields) {
      s.append(s.length() == 0 ? "" : ", ").append(dialect.name(f.name()));
    }
    return s.toString();
  }

  private static PreparedStatement prepare(Connection c, String sql) throws SQLException {
    return c.prepareStatement(sql);
  }

  private static boolean same(Object a, Object b) {
    if (a instanceof BigDecimal x && b instanceof BigDecimal y) {
      return x.compareTo(y) == 0;
    }
    return Objects.deepEquals(a, b);
  }

  /**
   * The path segment of a row's key, each value percent-encoded.
   *
   * @param r the resource.
   * @param key the key values.
   * @return e.g. {@code 42} or {@code 7,3}.
   */
  public static String keySegment(Resource r, List<Object> key) {
    List<String> parts = new ArrayList<>();
    for (Object v : key) {
      String text = v instanceof BigDecimal d ? d.toPlainString() : v instanceof byte[] b
          ? java.util.Base64.getEncoder().encodeToString(b) : String.valueOf(v);
      parts.add(URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return String.join(",", parts);
  }

  private static String describe(Resource r, List<Object> key) {
    List<String> parts = new ArrayList<>();
    for (int i = 0; i < key.size(); i++) {
      parts.add(r.key().get(i) + "=" + key.get(i));
    }
    return "(" + String.join(", ", parts) + ")";
  }
}
