package io.cutover.engine.apigen;

import java.util.List;
import java.util.Objects;

/**
 * What a service's API offers, as generated from its tables: one resource per table. A model is one published
 * version of the API when {@link #version()} is positive; {@link #fingerprint()} names the schema it was made from
 * and changes whenever that schema does. Immutable; serialised as JSON by {@link ApiVersions}.
 *
 * @param service the service's name (titles the document).
 * @param version the published version ({@code /v1}, {@code /v2}...), or 0 before it is published.
 * @param fingerprint a hash of everything the contract depends on (resources, fields, types, keys), 16 hex digits.
 * @param resources the resources, by name order.
 */
public record ApiModel(String service, int version, String fingerprint, List<Resource> resources) {
  /** Copies the list. */
  public ApiModel {
    Objects.requireNonNull(service, "service");
    resources = List.copyOf(resources);
  }

  /**
   * This model published as a version.
   *
   * @param published the version number, from 1.
   * @return the model with that version.
   */
  public ApiModel asVersion(int published) {
    return new ApiModel(service, published, fingerprint, resources);
  }

  /**
   * A resource by name.
   *
   * @param name the resource's name.
   * @return the resource, or null.
   */
  public Resource resource(String name) {
    for (Resource r : resources) {
      if (r.name().equals(name)) {
        return r;
      }
    }
    return null;
  }

  /**
   * One resource: a table.
   *
   * @param name the table's name, which is the path segment.
   * @param description the table's comment, or empty.
   * @param fields the columns.
   * @param key the primary-key columns; empty when the table has none (then it is list-and-create only).
   * @param uniques the unique constraints other than the key, each a list of columns.
   * @param references the foreign keys.
   */
  public record Resource(String name, String description, List<Field> fields, List<String> key,
      List<List<String>> uniques, List<Reference> references) {
    /** Copies the lists. */
    public Resource {
      fields = List.copyOf(fields);
      key = List.copyOf(key);
      uniques = uniques.stream().map(List::copyOf).toList();
      references = List.copyOf(references);
      description = description == null ? "" : description;
    }

    /**
     * A field by name.
     *
     * @param field the name.
     * @return the field, or null.
     */
    public Field field(String field) {
      for (Field f : fields) {
        if (f.name().equals(field)) {
          return f;
        }
      }
      return null;
    }

    /**
     * Whether rows can be addressed one by one ({@code /resource/{key}}).
     *
     * @return true when the table has a primary key.
     */
    public boolean addressable() {
      return !key.isEmpty();
    }
  }

  /**
   * One field: a column.
   *
   * @param name the column's name.
   * @param kind how its values travel in JSON.
   * @param dbType the database's name for its type.
   * @param nullable whether it accepts null.
   * @param required whether a create must give it (not nullable, no default, not generated).
   * @param readOnly whether the database computes it, so bodies may not set it.
   * @param maxLength the maximum length of text in characters, or 0 when unbounded.
   * @param precision the precision of a decimal, or 0.
   * @param scale the scale of a decimal, or 0.
   * @param description the column's comment, or empty.
   */
  public record Field(String name, FieldKind kind, String dbType, boolean nullable, boolean required,
      boolean readOnly, int maxLength, int precision, int scale, String description) {
    /** Checks the name and kind. */
    public Field {
      Objects.requireNonNull(name, "field name");
      Objects.requireNonNull(kind, "field kind");
      description = description == null ? "" : description;
    }
  }

  /**
   * A foreign key, reported in the document as a link between resources.
   *
   * @param columns the referencing columns.
   * @param resource the referenced resource (table).
   * @param referencedColumns the referenced columns.
   */
  public record Reference(List<String> columns, String resource, List<String> referencedColumns) {
    /** Copies the lists. */
    public Reference {
      columns = List.copyOf(columns);
      referencedColumns = List.copyOf(referencedColumns);
    }
  }

  /** How a field's values are written in JSON, and the JSON Schema that says so. */
  public enum FieldKind {
    /** A 32-bit integer: JSON integer, format int32. */
    INT32,
    /** A 64-bit integer: JSON integer, format int64. */
    INT64,
    /** A binary floating-point number: JSON number, format double. */
    DOUBLE,
    /** An exact decimal: JSON number, read and written without rounding. */
    DECIMAL,
    /** Text: JSON string. */
    TEXT,
    /** A boolean. */
    BOOLEAN,
    /** A calendar date: string, format date. */
    DATE,
    /** A time of day without zone: string, format time. */
    TIME,
    /** A wall-clock date and time without zone: string {@code 2026-11-24T10:15:30}. */
    LOCAL_TIMESTAMP,
    /** An instant: string, format date-time, always with an offset. */
    TIMESTAMP,
    /** A UUID: string, format uuid. */
    UUID,
    /** Any JSON document (json, jsonb). */
    JSON,
    /** Bytes: base64 string. */
    BYTES
  }
}
