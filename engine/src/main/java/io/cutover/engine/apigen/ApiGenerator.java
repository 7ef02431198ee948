package io.cutover.engine.apigen;

import io.cutover.engine.analysis.Schema;
import io.cutover.engine.apigen.ApiModel.Field;
import io.cutover.engine.apigen.ApiModel.FieldKind;
import io.cutover.engine.apigen.ApiModel.Reference;
import io.cutover.engine.apigen.ApiModel.Resource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Generates a service's API from its tables: introspects them over JDBC (PostgreSQL, H2) into an {@link ApiModel}
 * and writes its OpenAPI 3.1 document. Stateless and thread-safe.
 */
public final class ApiGenerator {
  private static final Set<String> PLAIN_TEXT = Set.of("varchar", "text", "bpchar", "char", "character",
      "character varying", "name", "citext", "clob", "character large object", "varchar_ignorecase");

  private ApiGenerator() {}

  /**
   * Introspects tables and makes the model of their API (not yet published: version 0).
   *
   * @param ds the service's database.
   * @param service the service's name.
   * @param tables the tables to expose (any case); empty exposes every table but Cutover's own.
   * @return the model.
   * @throws SQLException if the catalog cannot be read.
   * @throws IllegalArgumentException naming a table the database does not have, or a name that cannot be used.
   */
  public static ApiModel model(DataSource ds, String service, Collection<String> tables) throws SQLException {
    return model(service, Schema.read(ds, tables));
  }

  /**
   * Makes the model of an API from a schema already read.
   *
   * @param service the service's name.
   * @param schema the tables to expose.
   * @return the model (version 0).
   */
  public static ApiModel model(String service, Schema schema) {
    List<Resource> resources = new ArrayList<>();
    for (Schema.Table table : schema.tables()) {
      List<Field> fields = new ArrayList<>();
      for (Schema.Column c : table.columns()) {
        FieldKind kind = kindOf(c);
        boolean required = !c.nullable() && c.defaultValue() == null && !c.generated();
        int maxLength = kind == FieldKind.TEXT && c.size() > 0 && c.size() < 1_000_000_000 ? c.size() : 0;
        fields.add(new Field(c.name(), kind, c.type(), c.nullable(), required, c.computed(), maxLength,
            kind == FieldKind.DECIMAL && c.size() < 1000 ? c.size() : 0,
            kind == FieldKind.DECIMAL && c.size() < 1000 ? c.scale() : 0, c.comment()));
      }
      List<List<String>> uniques = new ArrayList<>();
      for (Schema.Index index : table.indexes()) {
        if (index.unique() && !index.columns().equals(table.primaryKey()) && !uniques.contains(index.columns())) {
          uniques.add(index.columns());
        }
      }
      List<Reference> references = table.foreignKeys().stream()
          .map(fk -> new Reference(fk.columns(), fk.referencedTable(), fk.referencedColumns())).toList();
      resources.add(new Resource(table.name(), table.comment(), fields, table.primaryKey(), uniques, references));
    }
    return new ApiModel(service, 0, fingerprint(service, resources), resources);
  }

  /**
   * Writes the document of a published model as {@code openapi.json} and {@code openapi.yaml} in a directory
   * (created if needed; each file written to a temporary name and moved into place).
   *
   * @param model the model.
   * @param directory the directory.
   * @return the files written.
   * @throws IOException if a file cannot be written.
   */
  public static List<Path> write(ApiModel model, Path directory) throws IOException {
    Files.createDirectories(directory);
    List<Path> written = new ArrayList<>();
    written.add(put(directory.resolve("openapi.json"), OpenApiDocument.json(model)));
    written.add(put(directory.resolve("openapi.yaml"), OpenApiDocument.yaml(model)));
    return written;
  }

  private static Path put(Path file, String text) throws IOException {
    Path temporary = file.resolveSibling(file.getFileName() + ".tmp");
    Files.writeString(temporary, text, StandardCharsets.UTF_8);
    return Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * How a column's values travel in JSON.
   *
   * @param c the column.
   * @return the kind; types Cutover does not know travel as text.
   */
  static FieldKind kindOf(Schema.Column c) {
    String type = c.type().toLowerCase(Locale.ROOT);
    if (type.equals("uuid")) {
      return FieldKind.UUID;
    }
    if (type.equals("json") || type.equals("jsonb")) {
      return FieldKind.JSON;
    }
    if (type.equals("timestamptz") || type.contains("with time zone")) {
      return type.startsWith("time ") || type.equals("timetz") ? FieldKind.TEXT : FieldKind.TIMESTAMP;
    }
    return switch (c.jdbcType()) {
      case Types.BOOLEAN, Types.BIT -> FieldKind.BOOLEAN;
      case Types.TINYINT, Types.SMALLINT, Types.INTEGER -> FieldKind.INT32;
      case Types.BIGINT -> FieldKind.INT64;
      case Types.REAL, Types.FLOAT, Types.DOUBLE -> FieldKind.DOUBLE;
      case Types.NUMERIC, Types.DECIMAL -> FieldKind.DECIMAL;
      case Types.DATE -> FieldKind.DATE;
      case Types.TIME -> FieldKind.TIME;
      case Types.TIMESTAMP -> FieldKind.LOCAL_TIMESTAMP;
      case Types.TIMESTAMP_WITH_TIMEZONE -> FieldKind.TIMESTAMP;
      case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> FieldKind.BYTES;
      default -> FieldKind.TEXT;
    };
  }

  /**
   * Whether text of this database type binds as a plain string; other types (enums, domains, intervals...) are
   * handed to the database untyped so it converts them.
   *
   * @param dbType the database's type name.
   * @return true for the character types.
   */
  public static boolean plainText(String dbType) {
    return PLAIN_TEXT.contains(dbType.toLowerCase(Locale.ROOT));
  }

  private static String fingerprint(String service, List<Resource> resources) {
    StringBuilder canonical = new StringBuilder(service).append('\n');
    for (Resource r : resources) {
      canonical.append(r.name()).append(':').append(r.key()).append(r.uniques()).append(r.description()).append('\n');
      for (Field f : r.fields()) {
        canonical.append(' ').append(f.name()).append(' ').append(f.kind()).append(' ').append(f.dbType())
            .append(f.nullable() ? " null" : " not-null").append(f.required() ? " required" : "")
            .append(f.readOnly() ? " read-only" : "").append(' ').append(f.maxLength()).append(' ')
            .append(f.precision()).append(',').append(f.scale()).append(' ').append(f.description()).append('\n');
      }
      for (Reference ref : r.references()) {
        canonical.append(" ref ").append(ref.columns()).append(ref.resource()).append(ref.referencedColumns())
            .append('\n');
      }
    }
    try {
      byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
          .digest(canonical.toString().getBytes(StandardCharsets.UTF_8));
      return java.util.HexFormat.of().formatHex(digest, 0, 8);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
