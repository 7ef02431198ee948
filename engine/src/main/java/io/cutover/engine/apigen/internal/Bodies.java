package io.cutover.engine.apigen.internal;

import com.fasterxml.jackson.databind.JsonNode;
import io.cutover.engine.apigen.ApiModel.Field;
import io.cutover.engine.apigen.ApiModel.Resource;
import io.cutover.engine.apigen.ApiProblem;
import io.cutover.engine.apigen.ApiProblem.FieldError;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Checks request bodies against a resource's generated schema before any SQL runs: unknown and read-only fields,
 * types, null, lengths, formats, decimal ranges, required fields. Every problem is reported at once, each with a
 * JSON pointer. Stateless.
 */
public final class Bodies {
  /** What a body is for. */
  public enum Mode {
    /** POST: required fields must be present. */
    CREATE,
    /** PUT: required fields other than the key must be present; key fields, if given, must equal the path's. */
    REPLACE,
    /** PATCH: at least one field; key fields cannot change. */
    UPDATE
  }

  private Bodies() {}

  /**
   * Parses one row of a body.
   *
   * @param r the resource, with the fields the API version shows.
   * @param node the row object.
   * @param mode what the body is for.
   * @param pointer the JSON pointer of the row in the body ({@code ""} for a single row, {@code /3} in a bulk).
   * @param errors where problems are added.
   * @return the values, by field, in the resource's field order.
   */
  public static Map<Field, Object> row(Resource r, JsonNode node, Mode mode, String pointer, List<FieldError> errors) {
    Map<Field, Object> values = new LinkedHashMap<>();
    if (node == null || !node.isObject()) {
      errors.add(new FieldError(pointer.isEmpty() ? "" : pointer, null, "expected a JSON object of "
          + r.name() + " fields"));
      return values;
    }
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> entry = fields.next();
      String where = pointer + "/" + entry.getKey().replace("~", "~0").replace("/", "~1");
      Field f = r.field(entry.getKey());
      if (f == null) {
        errors.add(new FieldError(where, null, "unknown field: " + r.name() + " has " + String.join(", ",
            r.fields().stream().map(Field::name).toList())));
        continue;
      }
      if (f.readOnly()) {
        errors.add(new FieldError(where, null, "read-only: the database computes it"));
        continue;
      }
      if (mode == Mode.UPDATE && r.key().contains(f.name())) {
        errors.add(new FieldError(where, null, "key fields cannot be changed; delete the row and create another"));
        continue;
      }
      JsonNode value = entry.getValue();
      if (value.isNull()) {
        if (!f.nullable()) {
          errors.add(new FieldError(where, null, "must not be null"));
        } else {
          values.put(f, null);
        }
        continue;
      }
      try {
        values.put(f, Values.fromJson(f, value));
      } catch (IllegalArgumentException e) {
        errors.add(new FieldError(where, null, e.getMessage()));
      }
    }
    if (mode != Mode.UPDATE) {
      for (Field f : r.fields()) {
        if (f.required() && !node.has(f.name()) && !(mode == Mode.REPLACE && r.key().contains(f.name()))) {
          errors.add(new FieldError(pointer + "/" + f.name(), null, "required"));
        }
      }
    } else if (node.isEmpty()) {
      errors.add(new FieldError(pointer.isEmpty() ? "" : pointer, null, "nothing to change: give at least one field"));
    }
    return values;
  }

  /**
   * Parses a create body: one object, or an array of them for a bulk create.
   *
   * @param r the resource.
   * @param body the body.
   * @param maxRows the most rows one bulk takes.
   * @return the rows.
   * @throws ApiProblem 400 with every offending field.
   */
  public static List<Map<Field, Object>> creates(Resource r, JsonNode body, int maxRows) {
    List<FieldError> errors = new ArrayList<>();
    List<Map<Field, Object>> rows = new ArrayList<>();
    if (body.isArray()) {
      if (body.isEmpty() || body.size() > maxRows) {
        throw ApiProblem.badRequest("a bulk create takes 1 to " + maxRows + " rows, not " + body.size(), List.of());
      }
      for (int i = 0; i < body.size(); i++) {
        rows.add(row(r, body.get(i), Mode.CREATE, "/" + i, errors));
      }
    } else {
      rows.add(row(r, body, Mode.CREATE, "", errors));
    }
    check(r, errors);
    return rows;
  }

  /**
   * Throws the problem if any field was wrong.
   *
   * @param r the resource.
   * @param errors the problems found.
   * @throws ApiProblem 400 listing them.
   */
  public static void check(Resource r, List<FieldError> errors) {
    if (!errors.isEmpty()) {
      throw ApiProblem.badRequest("the body is not a valid " + r.name() + ": " + errors.size()
          + (errors.size() == 1 ? " problem" : " problems") + " (see errors)", errors);
    }
  }
}
