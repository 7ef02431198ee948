package io.cutover.engine.analysis;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A schema written as an outline, one table per line, {@code module.table: referenced, referenced} ({@code #}
 * starts a comment): enough to analyze a published schema without loading it into a database, and to score the
 * analyzer against the schema's own modules ({@code docs/schemas/adventureworks.txt}).
 *
 * @param schema the tables (named without their module) and foreign keys.
 * @param modules each table's module.
 */
public record SchemaOutline(Schema schema, Map<String, String> modules) {

  /**
   * Reads an outline.
   *
   * @param file the outline.
   * @return the schema and modules.
   * @throws IOException if the file cannot be read.
   * @throws IllegalArgumentException naming the line when it is malformed or references an unknown table.
   */
  public static SchemaOutline read(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    Map<String, String> modules = new LinkedHashMap<>();
    Map<String, List<String>> references = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int colon = line.indexOf(':');
      String qualified = colon < 0 ? line : line.substring(0, colon).strip();
      int dot = qualified.indexOf('.');
      if (colon < 0 || dot < 1) {
        throw new IllegalArgumentException(file + " line " + (i + 1) + ": expected 'module.table: referenced, ...'");
      }
      String table = qualified.substring(dot + 1).toLowerCase(Locale.ROOT);
      modules.put(table, qualified.substring(0, dot).toLowerCase(Locale.ROOT));
      List<String> refs = new ArrayList<>();
      for (String ref : line.substring(colon + 1).split(",")) {
        if (!ref.isBlank()) {
          String r = ref.strip();
          refs.add(r.substring(r.indexOf('.') + 1).toLowerCase(Locale.ROOT));
        }
      }
      references.put(table, refs);
    }
    List<Schema.Table> tables = new ArrayList<>();
    for (Map.Entry<String, List<String>> entry : references.entrySet()) {
      List<Schema.Column> columns = new ArrayList<>(List.of(new Schema.Column("id", "integer")));
      List<Schema.ForeignKey> keys = new ArrayList<>();
      int n = 0;
      for (String ref : entry.getValue()) {
        if (!modules.containsKey(ref)) {
          throw new IllegalArgumentException(file + ": " + entry.getKey() + " references " + ref
              + ", which the outline does not list");
        }
        String column = ref + "_id" + (n++ == 0 ? "" : "_" + n);
        columns.add(new Schema.Column(column, "integer"));
        keys.add(new Schema.ForeignKey(entry.getKey(), List.of(column), ref, List.of("id")));
      }
      tables.add(new Schema.Table(entry.getKey(), columns, List.of("id"), keys, List.of()));
    }
    return new SchemaOutline(new Schema(tables), modules);
  }
}
