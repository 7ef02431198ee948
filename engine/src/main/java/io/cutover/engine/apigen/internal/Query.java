package io.cutover.engine.apigen.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.cutover.engine.apigen.ApiModel.Field;
import io.cutover.engine.apigen.ApiModel.Resource;
import io.cutover.engine.apigen.ApiProblem;
import io.cutover.engine.apigen.OpenApiDocument;
import io.cutover.engine.db.Dialect;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A list request in PostgREST syntax, parsed against a resource: {@code select}, filters, {@code order},
 * {@code limit}, {@code offset}, {@code cursor}, {@code count}. Every name is checked against the resource's
 * fields and every value parsed by its field's type before any SQL is made; the SQL holds only introspected
 * identifiers and {@code ?} parameters. Immutable.
 *
 * @param select the fields to return.
 * @param filters the filters, all of which must hold.
 * @param order the sort order; the key's columns come last, so the order is total when the table has a key.
 * @param limit the page size.
 * @param offset the rows to skip.
 * @param after the cursor's values (one per order column), or null on the first page.
 * @param count whether to count the matching rows.
 */
public record Query(List<Field> select, List<Filter> filters, List<Order> order, int limit, int offset,
    List<Object> after, boolean count) {
  /** The operators of PostgREST that Cutover serves. */
  public static final Set<String> OPERATORS = Set.of("eq", "neq", "gt", "gte", "lt", "lte", "like", "ilike", "in",
      "is");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int MAX_IN = 1000;
  private static final Set<String> RESERVED = Set.of("select", "order", "limit", "offset", "cursor", "count");

  /**
   * One filter.
   *
   * @param field the field.
   * @param operator one of {@link #OPERATORS}.
   * @param negated whether {@code not.} came first.
   * @param values the operand(s), parsed; for {@code is}, the single value null, TRUE or FALSE.
   */
  public record Filter(Field field, String operator, boolean negated, List<Object> values) {}

  /**
   * One sort column.
   *
   * @param field the field.
   * @param descending whether it sorts descending.
   * @param nullsFirst whether nulls come first.
   */
  public record Order(Field field, boolean descending, boolean nullsFirst) {}

  /**
   * Parses a list request.
   *
   * @param r the resource, with the fields this API version shows.
   * @param parameters the query parameters (each may repeat).
   * @param defaultPage the page size when no limit is given.
   * @param maxPage the largest page.
   * @param countHeader whether a {@code Prefer: count=exact} header asked for the count.
   * @return the query.
   * @throws ApiProblem 400 naming the parameter that is wrong.
   */
  public static Query parse(Resource r, Map<String, List<String>> parameters, int defaultPage, int maxPage,
      boolean countHeader) {
    List<Field> select = r.fields();
    List<Filter> filters = new ArrayList<>();
    List<Order> order = new ArrayList<>();
    int limit = defaultPage;
    int offset = 0;
    String cursor = null;
    boolean count = countHeader;
    for (Map.Entry<String, List<String>> p : parameters.entrySet()) {
      String name = p.getKey();
      if (RESERVED.contains(name) && p.getValue().size() > 1) {
        throw ApiProblem.badParameter(name, "given more than once");
      }
      String value = p.getValue().get(0);
      switch (name) {
        case "select" -> select = select(r, value);
        case "order" -> order = order(r, value);
        case "limit" -> {
          limit = number(name, value);
          if (limit > maxPage) {
            throw new ApiProblem(400, "Bad Request", "query parameter 'limit': " + limit + " is more than the "
                + "largest page, " + maxPage, List.of(new ApiProblem.FieldError(null, "limit", "at most " + maxPage)));
          }
        }
        case "offset" -> {
          offset = number(name, value);
          if (offset > MAX_OFFSET) {
            // the database reads and drops every skipped row: a page far in costs as much as all pages before it
            throw ApiProblem.badParameter(name, "at most " + MAX_OFFSET + "; page further with the cursor each "
                + "page's Link header gives");
          }
        }
        case "cursor" -> cursor = value;
        case "count" -> {
          if (!value.equals("exact")) {
            throw ApiProblem.badParameter(name, "the only count is 'exact'");
          }
          count = true;
        }
        default -> {
          Field f = r.field(name);
          if (f == null) {
            throw ApiProblem.badParameter(name, "no such field in " + r.name() + " (fields: "
                + String.join(", ", r.fields().stream().map(Field::name).toList()) + ")");
          }
          if (!OpenApiDocument.filterable(f)) {
            throw ApiProblem.badParameter(name, "fields of type " + f.dbType() + " cannot be filtered");
          }
          for (String filter : p.getValue()) {
            filters.add(filter(f, filter));
          }
        }
      }
    }
    for (String k : r.key()) {
      if (order.stream().noneMatch(o -> o.field().name().equals(k))) {
        order.add(new Order(r.field(k), false, false));
      }
    }
    List<Object> after = null;
    if (cursor != null) {
      if (offset != 0) {
        throw ApiProblem.badParameter("cursor", "use either a cursor or an offset, not both");
      }
      after = cursor(cursor, order);
    }
    return new Query(select, filters, order, limit, offset, after, count);
  }

  /** The largest {@code offset}: beyond it, cursors. */
  static final int MAX_OFFSET = 100_000;

  private static int number(String name, String value) {
    try {
      int n = Integer.parseInt(value);
      if (n < 0) {
        throw ApiProblem.badParameter(name, "must not be negative");
      }
      return n;
    } catch (NumberFormatException e) {
      throw ApiProblem.badParameter(name, "expected a whole number, got '" + Values.clip(value) + "'");
    }
  }

  private static List<Field> select(Resource r, String value) {
    Set<Field> fields = new LinkedHashSet<>();
    for (String name : value.split(",", -1)) {
      Field f = r.field(name.trim());
      if (f == null) {
        throw ApiProblem.badParameter("select", "no field '" + Values.clip(name) + "' in " + r.name());
      }
      fields.add(f);
    }
    return List.copyOf(fields);
  }

  private static List<Order> order(Resource r, String value) {
    List<Order> order = new ArrayList<>();
    for (String term : value.split(",", -1)) {
      String[] parts = term.trim().split("\\.", -1);
      Field f = r.field(parts[0]);
      if (f == null || !OpenApiDocument.filterable(f)) {
        throw ApiProblem.badParameter("order", "no sortable field '" + Values.clip(parts[0]) + "' in " + r.name());
      }
      boolean descending = false;
      Boolean nullsFirst = null;
      for (int i = 1; i < parts.length; i++) {
        switch (parts[i]) {
          case "asc" -> descending = false;
          case "desc" -> descending = true;
          case "nullsfirst" -> nullsFirst = true;
          case "nullslast" -> nullsFirst = false;
          default -> throw ApiProblem.badParameter("order", "'" + Values.clip(parts[i]) + "' is not asc, desc, "
              + "nullsfirst or nullslast");
        }
      }
      if (order.stream().anyMatch(o -> o.field().equals(f))) {
        throw ApiProblem.badParameter("order", "field '" + f.name() + "' is ordered twice");
      }
      // PostgreSQL's defaults, made explicit so both databases agree: nulls are larger than any value
      order.add(new Order(f, descending, nullsFirst == null ? descending : nullsFirst));
    }
    return order;
  }

  private static Filter filter(Field f, String text) {
    boolean negated = text.startsWith("not.");
    String rest = negated ? text.substring(4) : text;
    int dot = rest.indexOf('.');
    String operator = dot < 0 ? rest : rest.substring(0, dot);
    if (dot < 0 || !OPERATORS.contains(operator)) {
      throw ApiProblem.badParameter(f.name(), "'" + Values.clip(text) + "' is not op.value with op one of "
          + "eq, neq, gt, gte, lt, lte, like, ilike, in, is");
    }
    String operand = rest.substring(dot + 1);
    try {
      return switch (operator) {
        case "is" -> new Filter(f, operator, negated, java.util.Collections.singletonList(switch (operand) {
          case "null" -> null;
          case "true" -> Boolean.TRUE;
          case "false" -> Boolean.FALSE;
          default -> throw new IllegalArgumentException("is takes null, true or false, not '" + Values.clip(operand)
              + "'");
        }));
        case "in" -> new Filter(f, operator, negated, list(f, operand));
        case "like", "ilike" -> {
          if (f.kind() != io.cutover.engine.apigen.ApiModel.FieldKind.TEXT) {
            throw new IllegalArgumentException(operator + " applies to text fields only");
          }
          yield new Filter(f, operator, negated, List.of(operand.replace('*', '%')));
        }
        default -> new Filter(f, operator, negated, List.of(Values.fromText(f, operand)));
      };
    } catch (IllegalArgumentException e) {
      throw ApiProblem.badParameter(f.name(), e.getMessage());
    }
  }

  private static List<Object> list(Field f, String operand) {
    if (!operand.startsWith("(") || !operand.endsWith(")")) {
      throw new IllegalArgumentException("in takes a list in parentheses: in.(a,b,\"c,d\")");
    }
    List<Object> values = new ArrayList<>();
    String inside = operand.substring(1, operand.length() - 1);
    StringBuilder item = new StringBuilder();
    boolean quoted = false;
    boolean wasQuoted = false;
    for (int i = 0; i <= inside.length(); i++) {
      char c = i < inside.length() ? inside.charAt(i) : ',';
      if (quoted) {
        if (c == '\\' && i + 1 < inside.length()) {
          item.append(inside.charAt(++i));
        } else if (c == '"') {
          quoted = false;
        } else {
          item.append(c);
        }
      } else if (c == '"') {
        quoted = true;
        wasQuoted = true;
      } else if (c == ',') {
        if (item.length() > 0 || wasQuoted) {
          values.add(Values.fromText(f, item.toString()));
        }
        item.setLength(0);
        wasQuoted = false;
      } else {
        item.append(c);
      }
      if (values.size() > MAX_IN) {
        throw new IllegalArgumentException("in takes at most " + MAX_IN + " values");
      }
    }
    if (quoted) {
      throw new IllegalArgumentException("a quote in the in list is not closed");
    }
    if (values.isEmpty()) {
      throw new IllegalArgumentException("in needs at least one value");
    }
    return values;
  }

  /**
   * The cursor of the page after a row, from the row's order values.
   *
   * @param order the query's order.
   * @param values the last row's order values as text ({@link Values#text}), nulls included.
   * @return the opaque cursor.
   */
  public static String cursorAfter(List<Order> order, List<String> values) {
    ObjectNode node = JsonNodeFactory.instance.objectNode();
    node.put("o", signature(order));
    ArrayNode array = node.putArray("v");
    values.forEach(array::add);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(node.toString().getBytes(StandardCharsets.UTF_8));
  }

  private static List<Object> cursor(String cursor, List<Order> order) {
    JsonNode node;
    try {
      node = JSON.readTree(Base64.getUrlDecoder().decode(cursor));
    } catch (IllegalArgumentException | IOException e) {
      throw ApiProblem.badParameter("cursor", "not a cursor this API issued");
    }
    if (node == null || !node.path("o").isTextual() || !node.path("v").isArray()
        || node.path("v").size() != order.size()) {
      throw ApiProblem.badParameter("cursor", "not a cursor this API issued");
    }
    if (!node.path("o").textValue().equals(signature(order))) {
      throw ApiProblem.badParameter("cursor", "issued for another order: use it with the order of the page it came "
          + "from");
    }
    List<Object> values = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      JsonNode v = node.path("v").get(i);
      try {
        values.add(v.isNull() ? null : Values.fromText(order.get(i).field(), v.asText()));
      } catch (IllegalArgumentException e) {
        throw ApiProblem.badParameter("cursor", "not a cursor this API issued");
      }
    }
    return values;
  }

  private static String signature(List<Order> order) {
    StringBuilder s = new StringBuilder();
    for (Order o : order) {
      s.append(o.field().name()).append(o.descending() ? "-" : "+").append(o.nullsFirst() ? "f" : "l").append(',');
    }
    return s.toString();
  }

  /** SQL text and its parameters, in order. */
  public static final class Sql {
    private final StringBuilder text = new StringBuilder();
    private final List<Field> fields = new ArrayList<>();
    private final List<Object> values = new ArrayList<>();

    /**
     * Appends text.
     *
     * @param sql the text.
     * @return this.
     */
    public Sql append(String sql) {
      text.append(sql);
      return this;
    }

    /**
     * Appends a parameter.
     *
     * @param dialect the database.
     * @param f its field.
     * @param value its value.
     * @return this.
     */
    public Sql bind(Dialect dialect, Field f, Object value) {
      text.append(Values.placeholder(dialect, f));
      fields.add(f);
      values.add(value);
      return this;
    }

    /**
     * The SQL.
     *
     * @return the text.
     */
    public String text() {
      return text.toString();
    }

    /**
     * Binds every parameter.
     *
     * @param statement the prepared statement.
     * @param dialect the database.
     * @return the next free parameter index.
     * @throws java.sql.SQLException if the driver refuses a value.
     */
    public int bindAll(java.sql.PreparedStatement statement, Dialect dialect) throws java.sql.SQLException {
      for (int i = 0; i < values.size(); i++) {
        Values.bind(statement, i + 1, dialect, fields.get(i), values.get(i));
      }
      return values.size() + 1;
    }
  }

  /**
   * Appends {@code WHERE} with the filters and, after a cursor, the keyset condition.
   *
   * @param sql the statement so far.
   * @param dialect the database.
   * @param withCursor whether to add the cursor's condition.
   */
  public void where(Sql sql, Dialect dialect, boolean withCursor) {
    String joiner = " WHERE ";
    for (Filter filter : filters) {
      sql.append(joiner);
      joiner = " AND ";
      if (filter.negated()) {
        sql.append("NOT ");
      }
      String column = dialect.name(filter.field().name());
      Object v0 = filter.values().get(0);
      switch (filter.operator()) {
        case "is" -> sql.append(column).append(v0 == null ? " IS NULL" : v0 == Boolean.TRUE ? " IS TRUE"
            : " IS FALSE");
        case "in" -> {
          sql.append(column).append(" IN (");
          for (int i = 0; i < filter.values().size(); i++) {
            sql.append(i == 0 ? "" : ", ").bind(dialect, filter.field(), filter.values().get(i));
          }
          sql.append(")");
        }
        default -> sql.append("(").append(column).append(switch (filter.operator()) {
          case "eq" -> " = ";
          case "neq" -> " <> ";
          case "gt" -> " > ";
          case "gte" -> " >= ";
          case "lt" -> " < ";
          case "lte" -> " <= ";
          case "like" -> " LIKE ";
          default -> " ILIKE ";
        }).bind(dialect, filter.field(), v0).append(")");
      }
    }
    if (withCursor && after != null) {
      sql.append(joiner).append("(");
      for (int i = 0; i < order.size(); i++) {
        sql.append(i == 0 ? "(" : " OR (");
        for (int j = 0; j < i; j++) {
          Order o = order.get(j);
          String column = dialect.name(o.field().name());
          if (after.get(j) == null) {
            sql.append(column).append(" IS NULL AND ");
          } else {
            sql.append(column).append(" = ").bind(dialect, o.field(), after.get(j)).append(" AND ");
          }
        }
        Order o = order.get(i);
        String column = dialect.name(o.field().name());
        Object v = after.get(i);
        if (v == null) {
          sql.append(o.nullsFirst() ? column + " IS NOT NULL" : "1 = 0");
        } else {
          sql.append("(").append(column).append(o.descending() ? " < " : " > ").bind(dialect, o.field(), v);
          if (!o.nullsFirst() && o.field().nullable()) {
            sql.append(" OR ").append(column).append(" IS NULL");
          }
          sql.append(")");
        }
        sql.append(")");
      }
      sql.append(")");
    }
  }

  /**
   * Appends {@code ORDER BY}.
   *
   * @param sql the statement so far.
   * @param dialect the database.
   */
  public void orderBy(Sql sql, Dialect dialect) {
    for (int i = 0; i < order.size(); i++) {
      Order o = order.get(i);
      sql.append(i == 0 ? " ORDER BY " : ", ").append(dialect.name(o.field().name()))
          .append(o.descending() ? " DESC" : " ASC").append(o.nullsFirst() ? " NULLS FIRST" : " NULLS LAST");
    }
  }
}
