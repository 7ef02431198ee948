package io.cutover.engine.analysis;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * A database schema as the analyzer sees it: tables with their columns, primary key, foreign keys and indexes.
 * Names are lower case. Immutable.
 *
 * @param tables the tables, by name order.
 */
public record Schema(List<Table> tables) {

  /** Copies the list and checks that foreign keys point at tables of the schema. */
  public Schema {
    tables = List.copyOf(tables);
    Map<String, Table> byName = new LinkedHashMap<>();
    for (Table table : tables) {
      if (byName.put(table.name(), table) != null) {
        throw new IllegalArgumentException("table " + table.name() + " appears twice in the schema");
      }
    }
    for (Table table : tables) {
      for (ForeignKey fk : table.foreignKeys()) {
        if (!byName.containsKey(fk.referencedTable())) {
          throw new IllegalArgumentException("foreign key " + fk.describe() + " references table "
              + fk.referencedTable() + ", which is not in the schema");
        }
      }
    }
  }

  /**
   * One table.
   *
   * @param name its name.
   * @param columns its columns, in table order.
   * @param primaryKey its primary-key columns (empty when it has none).
   * @param foreignKeys its foreign keys.
   * @param indexes its indexes.
   */
  public record Table(String name, List<Column> columns, List<String> primaryKey, List<ForeignKey> foreignKeys,
      List<Index> indexes) {
    /** Copies the lists. */
    public Table {
      Objects.requireNonNull(name, "table name");
      columns = List.copyOf(columns);
      primaryKey = List.copyOf(primaryKey);
      foreignKeys = List.copyOf(foreignKeys);
      indexes = List.copyOf(indexes);
    }
  }

  /**
   * One column.
   *
   * @param name its name.
   * @param type its type, as the database names it.
   */
  public record Column(String name, String type) {}

  /**
   * One index.
   *
   * @param name its name.
   * @param columns its columns, in order.
   * @param unique whether it is unique.
   */
  public record Index(String name, List<String> columns, boolean unique) {}

  /**
   * A foreign key.
   *
   * @param table the referencing table.
   * @param columns the referencing columns.
   * @param referencedTable the referenced table.
   * @param referencedColumns the referenced columns.
   */
  public record ForeignKey(String table, List<String> columns, String referencedTable, List<String> referencedColumns) {
    /** Copies the lists. */
    public ForeignKey {
      columns = List.copyOf(columns);
      referencedColumns = List.copyOf(referencedColumns);
    }

    /**
     * The key as people write it: {@code orders(customer_id) -> customers(id)}.
     *
     * @return the description.
     */
    public String describe() {
      return table + "(" + String.join(", ", columns) + ") -> " + referencedTable + "("
          + String.join(", ", referencedColumns) + ")";
    }
  }

  /**
   * A table by name.
   *
   * @param name the name.
   * @return the table, or null.
   */
  public Table table(String name) {
    for (Table table : tables) {
      if (table.name().equals(name)) {
        return table;
      }
    }
    return null;
  }

  /**
   * Reads the schema of a database's current schema over JDBC (PostgreSQL, H2). Cutover's own tables
   * ({@code cutover_*}) are left out.
   *
   * @param ds the database.
   * @return the schema.
   * @throws SQLException if the catalog cannot be read.
   */
  public static Schema read(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection()) {
      DatabaseMetaData meta = c.getMetaData();
      String schema = c.getSchema();
      List<String> names = new ArrayList<>();
      try (ResultSet rs = meta.getTables(null, schema, "%", new String[] {"TABLE"})) {
        while (rs.next()) {
          String name = rs.getString("TABLE_NAME");
          if (!name.toLowerCase(Locale.ROOT).startsWith("cutover_")) {
            names.add(name);
          }
        }
      }
      List<Table> tables = new ArrayList<>();
      for (String name : names) {
        List<Column> columns = new ArrayList<>();
        try (ResultSet rs = meta.getColumns(null, schema, name, null)) {
          while (rs.next()) {
            columns.add(new Column(lower(rs.getString("COLUMN_NAME")), rs.getString("TYPE_NAME")
                .toLowerCase(Locale.ROOT)));
          }
        }
        TreeMap<Integer, String> key = new TreeMap<>();
        try (ResultSet rs = meta.getPrimaryKeys(null, schema, name)) {
          while (rs.next()) {
            key.put(rs.getInt("KEY_SEQ"), lower(rs.getString("COLUMN_NAME")));
          }
        }
        Map<String, List<String[]>> fks = new LinkedHashMap<>();
        try (ResultSet rs = meta.getImportedKeys(null, schema, name)) {
          while (rs.next()) {
            String fkName = rs.getString("FK_NAME") + "/" + rs.getString("PKTABLE_NAME");
            fks.computeIfAbsent(fkName, k -> new ArrayList<>()).add(new String[] {
                rs.getString("KEY_SEQ"), lower(rs.getString("FKCOLUMN_NAME")), lower(rs.getString("PKTABLE_NAME")),
                lower(rs.getString("PKCOLUMN_NAME"))});
          }
        }
        List<ForeignKey> foreignKeys = new ArrayList<>();
        for (List<String[]> parts : fks.values()) {
          parts.sort((a, b) -> Integer.compare(Integer.parseInt(a[0]), Integer.parseInt(b[0])));
          foreignKeys.add(new ForeignKey(lower(name), parts.stream().map(p -> p[1]).toList(), parts.get(0)[2],
              parts.stream().map(p -> p[3]).toList()));
        }
        Map<String, Index> indexes = new LinkedHashMap<>();
        Map<String, TreeMap<Integer, String>> indexColumns = new LinkedHashMap<>();
        try (ResultSet rs = meta.getIndexInfo(null, schema, name, false, true)) {
          while (rs.next()) {
            String index = rs.getString("INDEX_NAME");
            String column = rs.getString("COLUMN_NAME");
            if (index == null || column == null) {
              continue;
            }
            indexColumns.computeIfAbsent(index, k -> new TreeMap<>()).put(rs.getInt("ORDINAL_POSITION"),
                lower(column));
            indexes.put(index, new Index(lower(index), List.of(), !rs.getBoolean("NON_UNIQUE")));
          }
        }
        List<Index> indexList = new ArrayList<>();
        indexes.forEach((index, i) -> indexList.add(new Index(i.name(),
            new ArrayList<>(indexColumns.get(index).values()), i.unique())));
        tables.add(new Table(lower(name), columns, new ArrayList<>(key.values()), foreignKeys, indexList));
      }
      tables.sort((a, b) -> a.name().compareTo(b.name()));
      // foreign keys to tables outside the current schema are dropped: the analyzer sees one schema
      List<Table> inSchema = new ArrayList<>();
      java.util.Set<String> known = new java.util.HashSet<>();
      tables.forEach(t -> known.add(t.name()));
      for (Table t : tables) {
        inSchema.add(new Table(t.name(), t.columns(), t.primaryKey(), t.foreignKeys().stream()
            .filter(fk -> known.contains(fk.referencedTable())).toList(), t.indexes()));
      }
      return new Schema(inSchema);
    }
  }

  private static String lower(String name) {
    return name == null ? null : name.toLowerCase(Locale.ROOT);
  }
}
