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
 * A database schema as Cutover reads it over JDBC: tables with their columns (type, nullability, default, size,
 * comment), primary key, foreign keys and indexes (unique ones are the unique constraints). The boundary analyzer
 * and the API generator both start from it. Names are lower case. Immutable.
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
   * @param comment the table's comment, or empty.
   */
  public record Table(String name, List<Column> columns, List<String> primaryKey, List<ForeignKey> foreignKeys,
      List<Index> indexes, String comment) {
    /** Copies the lists. */
    public Table {
      Objects.requireNonNull(name, "table name");
      columns = List.copyOf(columns);
      primaryKey = List.copyOf(primaryKey);
      foreignKeys = List.copyOf(foreignKeys);
      indexes = List.copyOf(indexes);
      comment = comment == null ? "" : comment;
    }

    /**
     * A table without a comment.
     *
     * @param name its name.
     * @param columns its columns.
     * @param primaryKey its primary key.
     * @param foreignKeys its foreign keys.
     * @param indexes its indexes.
     */
    public Table(String name, List<Column> columns, List<String> primaryKey, List<ForeignKey> foreignKeys,
        List<Index> indexes) {
      this(name, columns, primaryKey, foreignKeys, indexes, "");
    }

    /**
     * A column by name.
     *
     * @param column the column's name.
     * @return the column, or null.
     */
    public Column column(String column) {
      for (Column c : columns) {
        if (c.name().equals(column)) {
          return c;
        }
      }
      return null;
    }
  }

  /**
   * One column.
   *
   * @param name its name.
   * @param type its type, as the database names it (lower case).
   * @param jdbcType its {@link java.sql.Types} code.
   * @param nullable whether it accepts NULL.
   * @param defaultValue its default expression, or null when it has none.
   * @param size its size: the maximum length of text, the precision of numbers (0 when unknown).
   * @param scale the scale of decimal numbers (0 otherwise).
   * @param generated whether the database fills it (identity, serial or generated column).
   * @param computed whether it is a generated column, which cannot be written at all.
   * @param comment its comment, or empty.
   */
  public record Column(String name, String type, int jdbcType, boolean nullable, String defaultValue, int size,
      int scale, boolean generated, boolean computed, String comment) {
    /** Checks the name and normalises the comment. */
    public Column {
      Objects.requireNonNull(name, "column name");
      comment = comment == null ? "" : comment;
    }

    /**
     * A nullable column known by name and type only (schemas built by hand, for analysis).
     *
     * @param name its name.
     * @param type its type.
     */
    public Column(String name, String type) {
      this(name, type, java.sql.Types.OTHER, true, null, 0, 0, false, false, "");
    }
  }

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
    return read(ds, List.of());
  }

  /**
   * Reads some tables of a database's current schema over JDBC (PostgreSQL, H2).
   *
   * @param ds the database.
   * @param only the tables to read (any case); empty reads every table but Cutover's own.
   * @return the schema; foreign keys to tables left out are dropped.
   * @throws SQLException if the catalog cannot be read.
   * @throws IllegalArgumentException naming a table asked for that the database does not have.
   */
  public static Schema read(DataSource ds, java.util.Collection<String> only) throws SQLException {
    java.util.Set<String> wanted = new java.util.LinkedHashSet<>();
    only.forEach(t -> wanted.add(lower(t)));
    try (Connection c = ds.getConnection()) {
      DatabaseMetaData meta = c.getMetaData();
      String schema = c.getSchema();
      Map<String, String> names = new LinkedHashMap<>();
      try (ResultSet rs = meta.getTables(null, schema, "%", new String[] {"TABLE"})) {
        while (rs.next()) {
          String name = rs.getString("TABLE_NAME");
          String lower = lower(name);
          if (wanted.isEmpty() ? !lower.startsWith("cutover_") : wanted.contains(lower)) {
            names.put(name, rs.getString("REMARKS"));
          }
        }
      }
      for (String table : wanted) {
        if (names.keySet().stream().noneMatch(n -> lower(n).equals(table))) {
          throw new IllegalArgumentException("table '" + table + "' is not in schema " + schema + " of the database");
        }
      }
      // PostgreSQL answers each catalog question for all tables at once (4 queries, not 4 per table); H2 is
      // in-process, so asking per table costs nothing
      boolean bulk = meta.getDatabaseProductName().toLowerCase(Locale.ROOT).contains("postgres");
      Map<String, List<Column>> columns = new java.util.HashMap<>();
      try (ResultSet rs = meta.getColumns(null, schema, "%", null)) {
        while (rs.next()) {
          String table = rs.getString("TABLE_NAME");
          if (!names.containsKey(table)) {
            continue;
          }
          String type = rs.getString("TYPE_NAME").toLowerCase(Locale.ROOT);
          String def = rs.getString("COLUMN_DEF");
          boolean computed = "YES".equalsIgnoreCase(rs.getString("IS_GENERATEDCOLUMN"));
          boolean generated = computed || "YES".equalsIgnoreCase(rs.getString("IS_AUTOINCREMENT"))
              || type.endsWith("serial") || (def != null && def.toLowerCase(Locale.ROOT).startsWith("nextval("));
          columns.computeIfAbsent(table, k -> new ArrayList<>()).add(new Column(lower(rs.getString("COLUMN_NAME")),
              type, rs.getInt("DATA_TYPE"), rs.getInt("NULLABLE") != DatabaseMetaData.columnNoNulls, def,
              rs.getInt("COLUMN_SIZE"), rs.getInt("DECIMAL_DIGITS"), generated, computed, rs.getString("REMARKS")));
        }
      }
      Map<String, TreeMap<Integer, String>> keys = new java.util.HashMap<>();
      Map<String, Map<String, List<String[]>>> fks = new java.util.HashMap<>();
      Map<String, Map<String, Index>> indexes = new java.util.HashMap<>();
      Map<String, Map<String, TreeMap<Integer, String>>> indexColumns = new java.util.HashMap<>();
      for (String name : bulk ? java.util.Collections.<String>singletonList(null) : names.keySet()) {
        try (ResultSet rs = meta.getPrimaryKeys(null, schema, name)) {
          while (rs.next()) {
            keys.computeIfAbsent(rs.getString("TABLE_NAME"), k -> new TreeMap<>()).put(rs.getInt("KEY_SEQ"),
                lower(rs.getString("COLUMN_NAME")));
          }
        }
        try (ResultSet rs = meta.getImportedKeys(null, schema, name)) {
          while (rs.next()) {
            String fkName = rs.getString("FK_NAME") + "/" + rs.getString("PKTABLE_NAME");
            fks.computeIfAbsent(rs.getString("FKTABLE_NAME"), k -> new LinkedHashMap<>())
                .computeIfAbsent(fkName, k -> new ArrayList<>()).add(new String[] {
                    rs.getString("KEY_SEQ"), lower(rs.getString("FKCOLUMN_NAME")),
                    lower(rs.getString("PKTABLE_NAME")), lower(rs.getString("PKCOLUMN_NAME"))});
          }
        }
        if (bulk) {
          try (java.sql.Statement st = c.createStatement(); ResultSet rs = st.executeQuery(PG_INDEXES)) {
            while (rs.next()) {
              index(indexes, indexColumns, rs.getString(1), rs.getString(2), !rs.getBoolean(3), rs.getString(4),
                  rs.getInt(5));
            }
          }
        } else {
          try (ResultSet rs = meta.getIndexInfo(null, schema, name, false, true)) {
            while (rs.next()) {
              index(indexes, indexColumns, name, rs.getString("INDEX_NAME"), rs.getBoolean("NON_UNIQUE"),
                  rs.getString("COLUMN_NAME"), rs.getInt("ORDINAL_POSITION"));
            }
          }
        }
      }
      List<Table> tables = new ArrayList<>();
      for (Map.Entry<String, String> named : names.entrySet()) {
        String name = named.getKey();
        List<ForeignKey> foreignKeys = new ArrayList<>();
        for (List<String[]> parts : fks.getOrDefault(name, Map.of()).values()) {
          parts.sort((a, b) -> Integer.compare(Integer.parseInt(a[0]), Integer.parseInt(b[0])));
          foreignKeys.add(new ForeignKey(lower(name), parts.stream().map(p -> p[1]).toList(), parts.get(0)[2],
              parts.stream().map(p -> p[3]).toList()));
        }
        List<Index> indexList = new ArrayList<>();
        Map<String, TreeMap<Integer, String>> ofTable = indexColumns.getOrDefault(name, Map.of());
        indexes.getOrDefault(name, Map.of()).forEach((index, i) -> indexList.add(new Index(i.name(),
            new ArrayList<>(ofTable.get(index).values()), i.unique())));
        tables.add(new Table(lower(name), columns.getOrDefault(name, List.of()), new ArrayList<>(keys.getOrDefault(name,
            new TreeMap<>()).values()), foreignKeys, indexList, named.getValue()));
      }
      tables.sort((a, b) -> a.name().compareTo(b.name()));
      // foreign keys to tables outside the current schema are dropped: the analyzer sees one schema
      List<Table> inSchema = new ArrayList<>();
      java.util.Set<String> known = new java.util.HashSet<>();
      tables.forEach(t -> known.add(t.name()));
      for (Table t : tables) {
        inSchema.add(new Table(t.name(), t.columns(), t.primaryKey(), t.foreignKeys().stream()
            .filter(fk -> known.contains(fk.referencedTable())).toList(), t.indexes(), t.comment()));
      }
      return new Schema(inSchema);
    }
  }

  /** Every plain-column index of the current schema's tables, in PostgreSQL's catalog. */
  private static final String PG_INDEXES = "SELECT t.relname, i.relname, ix.indisunique, a.attname, k.ord "
      + "FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_class i ON i.oid = ix.indexrelid "
      + "JOIN pg_namespace n ON n.oid = t.relnamespace "
      + "CROSS JOIN LATERAL unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord) "
      + "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum "
      + "WHERE n.nspname = current_schema() AND t.relkind IN ('r', 'p') ORDER BY 1, 2, 5";

  private static void index(Map<String, Map<String, Index>> indexes,
      Map<String, Map<String, TreeMap<Integer, String>>> indexColumns, String table, String index, boolean nonUnique,
      String column, int position) {
    if (index == null || column == null) {
      return;
    }
    indexColumns.computeIfAbsent(table, k -> new LinkedHashMap<>()).computeIfAbsent(index, k -> new TreeMap<>())
        .put(position, lower(column));
    indexes.computeIfAbsent(table, k -> new LinkedHashMap<>()).put(index, new Index(lower(index), List.of(),
        !nonUnique));
  }

  private static String lower(String name) {
    return name == null ? null : name.toLowerCase(Locale.ROOT);
  }
}
