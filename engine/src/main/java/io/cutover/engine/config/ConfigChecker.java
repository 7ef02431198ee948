package io.cutover.engine.config;

import io.cutover.engine.config.MigrationConfig.SideConfig;
import io.cutover.engine.config.MigrationConfig.TableConfig;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Checks a configuration against the databases before anything is written: every side reachable, every mapped
 * table present with a primary key on both sides, every mapped column present, every column of a type Cutover
 * can carry. Read-only: it opens connections and reads metadata, nothing else.
 */
public final class ConfigChecker {
  private static final Set<Integer> SUPPORTED = Set.of(Types.BIT, Types.BOOLEAN, Types.TINYINT, Types.SMALLINT,
      Types.INTEGER, Types.BIGINT, Types.REAL, Types.FLOAT, Types.DOUBLE, Types.NUMERIC, Types.DECIMAL, Types.CHAR,
      Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR, Types.NVARCHAR, Types.LONGNVARCHAR, Types.BINARY,
      Types.VARBINARY, Types.LONGVARBINARY, Types.DATE, Types.TIMESTAMP, Types.TIMESTAMP_WITH_TIMEZONE);
  private static final Set<String> SUPPORTED_OTHER = Set.of("uuid", "json", "jsonb");

  private ConfigChecker() {}

  /** A column as the database describes it. */
  private record ColumnInfo(String name, int jdbcType, String typeName) {}

  /** A table as the database describes it. */
  private record TableInfo(Map<String, ColumnInfo> columns, List<String> primaryKey) {}

  /**
   * Checks the configuration and throws on the first problem, listing every problem found.
   *
   * @param config the configuration.
   * @throws ConfigException naming the file, the key and the reason of the first problem; its message lists
   *     all of them, one per line.
   */
  public static void verify(MigrationConfig config) {
    List<ConfigException> problems = check(config);
    if (!problems.isEmpty()) {
      StringBuilder reasons = new StringBuilder();
      for (ConfigException problem : problems) {
        reasons.append(System.lineSeparator()).append("  ").append(problem.getMessage());
      }
      ConfigException first = problems.get(0);
      throw new ConfigException(config.file(), first.key(), first.reason()
          + (problems.size() > 1 ? " (" + problems.size() + " problems in all:" + reasons + ")" : ""));
    }
  }

  /**
   * Every problem of the configuration against its databases.
   *
   * @param config the configuration.
   * @return the problems, in file order; empty when it is sound.
   */
  public static List<ConfigException> check(MigrationConfig config) {
    List<ConfigException> problems = new ArrayList<>();
    Map<String, SideConfig> sides = new LinkedHashMap<>();
    sides.put("sides.monolith", config.monolith());
    config.services().forEach((name, side) -> sides.put("sides.services." + name, side));
    Map<String, Connection> connections = new HashMap<>();
    try {
      for (Map.Entry<String, SideConfig> side : sides.entrySet()) {
        try {
          Properties properties = new Properties();
          if (!side.getValue().user().isEmpty()) {
            properties.setProperty("user", side.getValue().user());
          }
          if (!side.getValue().password().isEmpty()) {
            properties.setProperty("password", side.getValue().password());
          }
          if (side.getValue().url().startsWith("jdbc:postgresql:")) {
            properties.setProperty("connectTimeout", "5");
          }
          Connection c = DriverManager.getConnection(side.getValue().url(), properties);
          c.setReadOnly(true);
          connections.put(side.getKey(), c);
        } catch (SQLException e) {
          problems.add(new ConfigException(config.file(), side.getKey() + ".url", "cannot connect to "
              + side.getValue().url() + ": " + e.getMessage()));
        }
      }
      for (int i = 0; i < config.tables().size(); i++) {
        TableConfig table = config.tables().get(i);
        String key = "tables[" + i + "]";
        Connection source = connections.get("sides.monolith");
        Connection target = connections.get("sides.services." + table.service());
        TableInfo from = source == null ? null : describe(source, table.source(), key + ".source", config, problems);
        TableInfo to = target == null ? null : describe(target, table.target(), key + ".target", config, problems);
        if (from == null || to == null) {
          continue;
        }
        Map<String, String> columns = table.columns();
        if (columns.isEmpty()) {
          columns = new LinkedHashMap<>();
          for (String column : from.columns().keySet()) {
            columns.put(column, column);
          }
        }
        for (Map.Entry<String, String> column : columns.entrySet()) {
          ColumnInfo sourceColumn = from.columns().get(column.getKey());
          if (sourceColumn == null) {
            problems.add(new ConfigException(config.file(), key + ".columns." + column.getKey(), "table "
                + table.source() + " of the monolith has no column " + column.getKey()));
            continue;
          }
          if (!to.columns().containsKey(column.getValue())) {
            problems.add(new ConfigException(config.file(), key + ".columns." + column.getKey(), "table "
                + table.target() + " of service " + table.service() + " has no column " + column.getValue()));
          }
          if (!supported(sourceColumn)) {
            problems.add(new ConfigException(config.file(), key + ".columns." + column.getKey(), "column "
                + table.source() + "." + column.getKey() + " has type " + sourceColumn.typeName()
                + ", which Cutover cannot map yet"));
          }
        }
        for (String filterColumn : table.filter().keySet()) {
          if (!from.columns().containsKey(filterColumn)) {
            problems.add(new ConfigException(config.file(), key + ".filter." + filterColumn, "table "
                + table.source() + " of the monolith has no column " + filterColumn));
          }
        }
        for (String keyColumn : from.primaryKey()) {
          if (!columns.containsKey(keyColumn)) {
            problems.add(new ConfigException(config.file(), key + ".columns", "the mapping leaves out primary-key "
                + "column " + keyColumn + " of " + table.source()));
          }
        }
      }
      for (Map.Entry<String, SideConfig> side : sides.entrySet()) {
        Connection c = connections.get(side.getKey());
        if (c != null) {
          privileges(c, side.getKey(), side.getValue(), config, problems);
        }
      }
      for (Map.Entry<String, MigrationConfig.ApiSection> api : config.apis().entrySet()) {
        Connection side = connections.get(api.getKey().equals("monolith") ? "sides.monolith"
            : "sides.services." + api.getKey());
        List<String> exposed = api.getValue().tables();
        for (int i = 0; side != null && i < exposed.size(); i++) {
          if (!exists(side, exposed.get(i))) { // a table without a key is fine here: list-and-create only
            problems.add(new ConfigException(config.file(), "api." + api.getKey() + ".tables[" + i + "]", "table "
                + exposed.get(i) + " does not exist"));
          }
        }
      }
    } finally {
      for (Connection c : connections.values()) {
        try {
          c.close();
        } catch (SQLException ignored) {
          // read-only connections; nothing to lose
        }
      }
    }
    if (config.kafka() != null) {
      String unreachable = kafkaProblem(config.kafka());
      if (unreachable != null) {
        problems.add(new ConfigException(config.file(), "kafka.bootstrap", unreachable));
      }
    }
    return problems;
  }

  /** The functions Cutover's apply sessions and trigger functions call to mark and recognise its own writes. */
  private static final List<String> ORIGIN_FUNCTIONS = List.of("pg_replication_origin_create(text)",
      "pg_replication_origin_session_setup(text)", "pg_replication_origin_session_is_setup()");

  /**
   * What the side's role lacks on PostgreSQL for what the migration does there (nothing to check for a superuser,
   * or on H2): create Cutover's tables and trigger functions in its schema, mark its apply sessions (replication
   * origins), read and write the mapped tables, put triggers on the captured ones, and with logical decoding
   * create a replication slot and publish the tables (which PostgreSQL allows their owner only). One problem per
   * side, naming everything missing.
   */
  private static void privileges(Connection c, String key, SideConfig side, MigrationConfig config,
      List<ConfigException> problems) {
    try {
      if (!c.getMetaData().getURL().startsWith("jdbc:postgresql:")) {
        return;
      }
      boolean replication;
      String role;
      try (java.sql.Statement st = c.createStatement();
           ResultSet rs = st.executeQuery("SELECT rolname, rolsuper, rolreplication FROM pg_roles "
               + "WHERE rolname = current_user")) {
        rs.next();
        if (rs.getBoolean(2)) {
          return;
        }
        role = rs.getString(1);
        replication = rs.getBoolean(3);
      }
      List<String> missing = new ArrayList<>();
      if (!granted(c, "SELECT has_schema_privilege(current_schema(), 'CREATE')")) {
        missing.add("CREATE on its schema (Cutover's tables and trigger functions)");
      }
      for (String function : ORIGIN_FUNCTIONS) {
        if (!granted(c, "SELECT has_function_privilege('" + function + "', 'EXECUTE')")) {
          missing.add("EXECUTE on " + function);
        }
      }
      boolean monolith = side.side().isMonolith();
      boolean logical = side.capture() == MigrationConfig.CaptureMethod.LOGICAL;
      boolean capturedAny = false;
      for (TableConfig table : config.tables()) {
        if (!monolith && !table.service().equals(side.side().service())) {
          continue;
        }
        String name = monolith ? table.source() : table.target();
        boolean captured = monolith || table.bidirectional();
        capturedAny |= captured;
        String regclass = "to_regclass('" + name.replace("'", "''") + "')";
        if (!granted(c, "SELECT " + regclass + " IS NOT NULL")) {
          continue; // reported as missing by the table checks
        }
        List<String> onTable = new ArrayList<>();
        for (String privilege : captured ? List.of("SELECT", "INSERT", "UPDATE", "DELETE", "TRIGGER")
            : List.of("SELECT", "INSERT", "UPDATE", "DELETE")) {
          if (!granted(c, "SELECT has_table_privilege(" + regclass + ", '" + privilege + "')")) {
            onTable.add(privilege);
          }
        }
        if (!onTable.isEmpty()) {
          missing.add(String.join(", ", onTable) + " on " + name);
        }
        if (captured && logical && !granted(c, "SELECT pg_has_role(relowner, 'USAGE') FROM pg_class WHERE oid = "
            + regclass)) {
          missing.add("ownership of " + name + " (PostgreSQL publishes a table for its owner only)");
        }
      }
      if (capturedAny && logical && !replication) {
        missing.add("the REPLICATION attribute (logical decoding)");
      }
      if (capturedAny && logical && !granted(c, "SELECT has_database_privilege(current_database(), 'CREATE')")) {
        missing.add("CREATE on the database (its publication)");
      }
      if (!missing.isEmpty()) {
        problems.add(new ConfigException(config.file(), key + ".user", "role " + role + " lacks "
            + String.join("; ", missing) + ": grant them, or use a role that has them (see README, "
            + "\"Privileges\"). The application's own roles need nothing more than they have"));
      }
    } catch (SQLException e) {
      problems.add(new ConfigException(config.file(), key + ".user", "cannot read the role's privileges: "
          + e.getMessage()));
    }
  }

  private static boolean granted(Connection c, String query) throws SQLException {
    try (java.sql.Statement st = c.createStatement(); ResultSet rs = st.executeQuery(query)) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  private static boolean supported(ColumnInfo column) {
    return SUPPORTED.contains(column.jdbcType())
        || SUPPORTED_OTHER.contains(column.typeName().toLowerCase(Locale.ROOT))
        || column.typeName().equalsIgnoreCase("uuid");
  }

  private static boolean exists(Connection c, String table) {
    try {
      return io.cutover.engine.db.DataSources.tableExists(c, table);
    } catch (SQLException e) {
      return false;
    }
  }

  private static TableInfo describe(Connection c, String table, String key, MigrationConfig config,
      List<ConfigException> problems) {
    try {
      DatabaseMetaData meta = c.getMetaData();
      String schema = c.getSchema();
      for (String candidate : List.of(table, table.toUpperCase(Locale.ROOT))) {
        Map<String, ColumnInfo> columns = new LinkedHashMap<>();
        try (ResultSet rs = meta.getColumns(null, schema, candidate, null)) {
          while (rs.next()) {
            String name = rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT);
            columns.put(name, new ColumnInfo(name, rs.getInt("DATA_TYPE"), rs.getString("TYPE_NAME")));
          }
        }
        if (columns.isEmpty()) {
          continue;
        }
        List<String> primaryKey = new ArrayList<>();
        try (ResultSet rs = meta.getPrimaryKeys(null, schema, candidate)) {
          while (rs.next()) {
            primaryKey.add(rs.getString("COLUMN_NAME").toLowerCase(Locale.ROOT));
          }
        }
        if (primaryKey.isEmpty()) {
          problems.add(new ConfigException(config.file(), key, "table " + table + " has no primary key: Cutover "
              + "needs one to identify rows"));
          return null;
        }
        return new TableInfo(columns, primaryKey);
      }
      problems.add(new ConfigException(config.file(), key, "table " + table + " does not exist"));
      return null;
    } catch (SQLException e) {
      problems.add(new ConfigException(config.file(), key, "cannot read table " + table + ": " + e.getMessage()));
      return null;
    }
  }

  /** Whether Kafka answers within 15 s; null if it does, else why not. */
  private static String kafkaProblem(MigrationConfig.KafkaSection kafka) {
    java.util.Properties p = new java.util.Properties();
    p.put("default.api.timeout.ms", "15000");
    p.put("request.timeout.ms", "15000");
    p.putAll(io.cutover.engine.kafka.KafkaTopics.clientProperties(kafka.bootstrap(), kafka.properties()));
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
      admin.describeCluster().nodes().get(15, java.util.concurrent.TimeUnit.SECONDS);
      return null;
    } catch (java.util.concurrent.ExecutionException e) {
      return "Kafka at " + kafka.bootstrap() + " does not answer: " + e.getCause().getMessage();
    } catch (java.util.concurrent.TimeoutException | RuntimeException e) {
      return "Kafka at " + kafka.bootstrap() + " does not answer within 15 s";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted while reaching Kafka at " + kafka.bootstrap();
    }
  }
}
