package io.cutover.engine.migration;

import io.cutover.engine.apply.SideWriter;
import io.cutover.engine.capture.ChangeCapture;
import io.cutover.engine.config.MigrationConfig;
import io.cutover.engine.config.MigrationConfig.SideConfig;
import io.cutover.engine.config.MigrationConfig.TableConfig;
import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.db.DataSources;
import io.cutover.engine.db.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Removes everything a migration created in its databases once it is finished or abandoned: replication slots and
 * publications (a forgotten slot makes PostgreSQL keep WAL forever), replication origins, capture triggers, change
 * tables and sequences, the apply-position tables, and with Kafka the change topics, the state changelogs and the
 * consumer group's offsets. The journal and the state store are files beside the configuration and stay. Run it with the engine stopped; unapplied changes are lost.
 */
public final class Cleanup {
  private Cleanup() {}

  /**
   * Finds, and unless {@code dryRun} removes, what the migration created.
   *
   * @param config the migration's configuration.
   * @param dryRun true to only list.
   * @return one line per object found (and removed), e.g. {@code monolith: replication slot cutover_monolith}.
   * @throws SQLException if a database refuses.
   */
  public static List<String> run(MigrationConfig config, boolean dryRun) throws SQLException {
    Map<SideConfig, String[]> sides = new LinkedHashMap<>();
    sides.put(config.monolith(), config.tables().stream().map(TableConfig::source).distinct().toArray(String[]::new));
    for (Map.Entry<String, SideConfig> service : config.services().entrySet()) {
      sides.put(service.getValue(), config.tables().stream().filter(t -> t.service().equals(service.getKey()))
          .map(TableConfig::target).distinct().toArray(String[]::new));
    }
    List<String> found = new ArrayList<>();
    for (Map.Entry<SideConfig, String[]> side : sides.entrySet()) {
      SideConfig sideConfig = side.getKey();
      String label = sideConfig.side().isMonolith() ? "monolith" : sideConfig.side().service();
      List<String> origins = new ArrayList<>();
      for (String service : config.services().keySet()) {
        origins.add(ApplySessions.origin(SideWriter.session("sync-" + service, sideConfig.side())));
      }
      try (Connection c = DataSources.of(sideConfig.url(), sideConfig.user(), sideConfig.password()).getConnection()) {
        List<String[]> leftovers = leftovers(c);
        List<String> here = Dialect.of(c) == Dialect.POSTGRESQL ? postgres(c, sideConfig, origins)
            : h2(c, side.getValue());
        for (String[] leftover : leftovers) {
          if (!here.contains(leftover[0])) {
            here.add(leftover[0]);
          }
        }
        if (DataSources.tableExists(c, SideWriter.POSITION_TABLE)) {
          here.add("table " + SideWriter.POSITION_TABLE);
        }
        for (String object : here) {
          found.add(label + ": " + object);
        }
        if (!dryRun && !here.isEmpty()) {
          try (Statement st = c.createStatement()) {
            for (String[] leftover : leftovers) { // triggers first, also on tables no longer in the configuration
              if (leftover[1].startsWith("DROP TRIGGER")) {
                st.execute(leftover[1]);
              }
            }
          }
          ChangeCapture capture = Migration.capture(sideConfig, side.getValue());
          capture.uninstall();
          try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE IF EXISTS " + SideWriter.POSITION_TABLE);
            for (String[] leftover : leftovers) {
              st.execute(leftover[1]);
            }
          }
          if (Dialect.of(c) == Dialect.POSTGRESQL) {
            for (String origin : origins) {
              try (PreparedStatement ps = c.prepareStatement("SELECT pg_replication_origin_drop(roname) FROM "
                  + "pg_replication_origin WHERE roname = ?")) {
                ps.setString(1, origin);
                ps.execute();
              }
            }
          }
        }
      }
    }
    if (config.kafka() != null) {
      found.addAll(kafka(config, dryRun));
    }
    return found;
  }

  /** The migration's topics and consumer group, found and unless {@code dryRun} deleted. */
  private static List<String> kafka(MigrationConfig config, boolean dryRun) {
    MigrationConfig.KafkaSection kafka = config.kafka();
    java.util.Set<String> ours = new java.util.TreeSet<>(
        io.cutover.engine.migration.internal.KafkaWiring.topics(config).keySet());
    for (TableConfig table : config.tables()) {
      ours.add(Migration.stateTopic(kafka, table.service()));
    }
    ours.add(io.cutover.engine.kafka.KafkaPublisher.topic(kafka.topics(), io.cutover.engine.event.Side.MONOLITH,
        io.cutover.engine.backfill.Backfill.WATERMARK_TABLE));
    java.util.Properties p = io.cutover.engine.kafka.KafkaTopics.clientProperties(kafka.bootstrap(),
        kafka.properties());
    List<String> found = new ArrayList<>();
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
      java.util.Set<String> existing = admin.listTopics().names().get();
      List<String> topics = ours.stream().filter(existing::contains).toList();
      topics.forEach(t -> found.add("kafka: topic " + t));
      boolean group = admin.listGroups().all().get().stream().anyMatch(g -> g.groupId().equals(kafka.group()));
      if (group) {
        found.add("kafka: consumer group " + kafka.group());
      }
      if (!dryRun) {
        if (!topics.isEmpty()) {
          admin.deleteTopics(topics).all().get();
        }
        if (group) {
          admin.deleteConsumerGroups(List.of(kafka.group())).all().get();
        }
      }
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("Kafka at " + kafka.bootstrap() + " refused the clean-up: "
          + e.getCause().getMessage(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while cleaning up Kafka", e);
    }
    return found;
  }

  private static List<String> postgres(Connection c, SideConfig side, List<String> origins) throws SQLException {
    List<String> found = new ArrayList<>();
    String base = side.side().isMonolith() ? "monolith" : side.side().service();
    String name = side.slot().isEmpty() ? "cutover_" + base.replace('-', '_') : side.slot();
    if (side.capture() == MigrationConfig.CaptureMethod.LOGICAL) {
      if (any(c, "SELECT 1 FROM pg_replication_slots WHERE slot_name = ? AND database = current_database()", name)) {
        found.add("replication slot " + name);
      }
      if (any(c, "SELECT 1 FROM pg_publication WHERE pubname = ?", name)) {
        found.add("publication " + name);
      }
    }
    for (String origin : origins) {
      if (any(c, "SELECT 1 FROM pg_replication_origin WHERE roname = ?", origin)) {
        found.add("replication origin " + origin);
      }
    }
    for (String table : CAPTURE_TABLES) {
      if (DataSources.tableExists(c, table)) {
        found.add("table " + table);
      }
    }
    return found;
  }

  /**
   * What Cutover created in a database, found in its catalog whatever the configuration names now (a table taken
   * out of it keeps its triggers until they are removed): capture triggers and functions, Cutover's tables (the
   * backfill's progress and watermarks included) and the change sequence. Each with the statement removing it.
   */
  private static List<String[]> leftovers(Connection c) throws SQLException {
    List<String[]> found = new ArrayList<>();
    boolean postgres = Dialect.of(c) == Dialect.POSTGRESQL;
    if (postgres) {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT t.tgname, "
          + "t.tgrelid::regclass::text FROM pg_trigger t WHERE NOT t.tgisinternal AND (t.tgname LIKE "
          + "'cutover\\_capture\\_%' OR t.tgname LIKE 'cutover\\_row\\_transaction\\_%') ORDER BY 2, 1")) {
        while (rs.next()) {
          found.add(new String[] {"trigger " + rs.getString(1) + " on " + rs.getString(2), "DROP TRIGGER IF EXISTS "
              + io.cutover.engine.db.RowVersions.quote(rs.getString(1)) + " ON " + rs.getString(2)});
        }
      }
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT p.oid::regprocedure::text "
          + "FROM pg_proc p WHERE p.proname = 'cutover_capture' OR p.proname LIKE "
          + "'cutover\\_row\\_transaction\\_%' ORDER BY 1")) {
        while (rs.next()) {
          found.add(new String[] {"function " + rs.getString(1), "DROP FUNCTION IF EXISTS " + rs.getString(1)});
        }
      }
    } else {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT TRIGGER_NAME FROM "
          + "INFORMATION_SCHEMA.TRIGGERS WHERE TRIGGER_NAME LIKE 'CUTOVER\\_CAPTURE\\_%' ORDER BY 1")) {
        while (rs.next()) {
          found.add(new String[] {"trigger " + rs.getString(1).toLowerCase(Locale.ROOT),
              "DROP TRIGGER IF EXISTS \"" + rs.getString(1) + "\""});
        }
      }
    }
    for (String table : List.of(io.cutover.engine.backfill.Backfill.PROGRESS_TABLE,
        io.cutover.engine.backfill.Backfill.WATERMARK_TABLE)) {
      if (DataSources.tableExists(c, table)) {
        found.add(new String[] {"table " + table, "DROP TABLE IF EXISTS " + table});
      }
    }
    for (String table : CAPTURE_TABLES) {
      if (DataSources.tableExists(c, table)) {
        found.add(new String[] {"table " + table, "DROP TABLE IF EXISTS " + table});
      }
    }
    if (any(c, postgres ? "SELECT 1 FROM pg_class WHERE relkind = 'S' AND relname = ?"
        : "SELECT 1 FROM INFORMATION_SCHEMA.SEQUENCES WHERE SEQUENCE_NAME = UPPER(?)", "cutover_change_seq")) {
      found.add(new String[] {"sequence cutover_change_seq", "DROP SEQUENCE IF EXISTS cutover_change_seq"});
    }
    return found;
  }

  /** The tables trigger capture creates (and logical capture, for row versions). */
  private static final String[] CAPTURE_TABLES = {"cutover_changes", "cutover_capture_state",
      io.cutover.engine.db.RowVersions.TABLE, io.cutover.engine.db.RowVersions.TRANSACTIONS};

  private static List<String> h2(Connection c, String[] tables) throws SQLException {
    List<String> found = new ArrayList<>();
    for (String table : tables) {
      String trigger = ("cutover_capture_" + table).toUpperCase(Locale.ROOT);
      if (any(c, "SELECT 1 FROM INFORMATION_SCHEMA.TRIGGERS WHERE TRIGGER_NAME = ?", trigger)) {
        found.add("trigger " + trigger.toLowerCase(Locale.ROOT));
      }
    }
    for (String table : CAPTURE_TABLES) {
      if (DataSources.tableExists(c, table)) {
        found.add("table " + table);
      }
    }
    if (any(c, "SELECT 1 FROM INFORMATION_SCHEMA.SEQUENCES WHERE SEQUENCE_NAME = ?", "CUTOVER_CHANGE_SEQ")) {
      found.add("sequence cutover_change_seq");
    }
    return found;
  }

  private static boolean any(Connection c, String sql, String parameter) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, parameter);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }
}
