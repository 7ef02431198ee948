package io.cutover.engine.capture;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static io.cutover.engine.testing.TestSupport.url;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.db.ApplySessions;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Existing monolith clients keep working unchanged whatever their roles' privileges: an application role that
 * holds only SELECT, INSERT, UPDATE and DELETE on its own table goes on writing it once capture is installed
 * (Cutover's trigger functions run as Cutover's role), every one of its writes is captured even when it sets the
 * session setting older versions took for Cutover's mark, and it cannot set Cutover's mark (a replication origin)
 * up; Cutover's own sessions are still skipped.
 */
@Timeout(120)
class LeastPrivilegeClientTest {
  private static final AtomicInteger ROLES = new AtomicInteger();
  @TempDir Path dir;

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"logical", "trigger"})
  void anApplicationRoleWithOnlyDmlOnItsTableKeepsWritingAndIsCapturedInFull(String mode) throws Exception {
    DataSource db = Postgres.newDatabase("leastpriv_" + mode);
    String role = "app_only_dml_" + ROLES.incrementAndGet() + "_" + mode;
    exec(db, "CREATE TABLE account (id INT PRIMARY KEY, owner TEXT NOT NULL, balance BIGINT NOT NULL)",
        "CREATE ROLE " + role + " LOGIN",
        "GRANT USAGE ON SCHEMA public TO " + role,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON account TO " + role);
    Properties superuser = new Properties();
    superuser.setProperty("user", "postgres");
    ChangeCapture capture = mode.equals("logical")
        ? PostgresLogicalCapture.builder(Side.MONOLITH, url(db), superuser).tables("account")
            .slot("least_privilege_" + mode).build()
        : TriggerCapture.builder(Side.MONOLITH, db).tables("account").build();
    capture.install();
    List<String> seen = new CopyOnWriteArrayList<>();
    ChangeHandler sink = new ChangeHandler() {
      @Override
      public String name() {
        return "sink";
      }

      @Override
      public void onChange(ChangeRecord change) {
        ChangeEvent event = change.decode();
        seen.add(event.operation() + " " + (event.after() == null ? event.key().get("id").asLong()
            : event.after().get("balance").asLong()));
      }
    };
    Properties app = new Properties();
    app.setProperty("user", role);
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("j")))
        .build()).apply(sink).start()) {
      capture.start(pipeline);
      try (Connection c = DriverManager.getConnection(url(db), app); Statement st = c.createStatement()) {
        st.execute("INSERT INTO account VALUES (1, 'ann', 0)");
        st.execute("UPDATE account SET balance = 5 WHERE id = 1");
        st.execute("SET cutover.apply = 'on'"); // what hid a session's writes from trigger capture before
        st.execute("UPDATE account SET balance = 7 WHERE id = 1");
        SQLException refused = assertThrows(SQLException.class,
            () -> st.execute("SELECT pg_replication_origin_session_setup('cutover_sync-x_monolith')"));
        assertTrue(refused.getMessage().contains("permission denied"), refused.getMessage());
      }
      try (Connection c = db.getConnection()) {
        ApplySessions.mark(c, "least-privilege-" + mode);
        try (Statement st = c.createStatement()) {
          st.execute("UPDATE account SET balance = 100 WHERE id = 1"); // Cutover's own write: not captured
        }
      }
      try (Connection c = DriverManager.getConnection(url(db), app); Statement st = c.createStatement()) {
        st.execute("UPDATE account SET balance = 8 WHERE id = 1");
        st.execute("DELETE FROM account WHERE id = 1");
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (seen.size() < 5 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      Thread.sleep(300);
      assertEquals(List.of("INSERT 0", "UPDATE 5", "UPDATE 7", "UPDATE 8", "DELETE 1"), seen);
      String versions = mode.equals("logical") ? "cutover_row_transactions" : "cutover_row_versions";
      assertEquals(List.of("1"), rows(db, "SELECT count(*) FROM " + versions + " WHERE table_name = 'account'"),
          "the row's version was recorded for the application's writes, in Cutover's table");
      assertEquals(List.of("f"), rows(db, "SELECT has_table_privilege('" + role + "', '" + versions + "', "
          + "'INSERT')"), "without granting the application anything on it");
    } finally {
      capture.close();
      capture.uninstall();
      try (Connection c = db.getConnection()) {
        ApplySessions.dropOrigin(c, "least-privilege-" + mode);
      }
      exec(db, "DROP OWNED BY " + role, "DROP ROLE " + role);
    }
  }

  /**
   * {@code cutover check} names every privilege a non-superuser migration role lacks on PostgreSQL; once granted
   * exactly those, that role installs logical capture, and an application role with only DML is captured in full
   * (Cutover's trigger function, owned by the migration role, recognises Cutover's sessions with the grant it got).
   */
  @org.junit.jupiter.api.Test
  void checkNamesWhatAMigrationRoleLacksAndThoseGrantsAreEnough() throws Exception {
    DataSource monolith = Postgres.newDatabase("leastpriv_check_m");
    DataSource service = Postgres.newDatabase("leastpriv_check_s");
    int n = ROLES.incrementAndGet();
    String migrator = "cutover_limited_" + n;
    String app = "app_only_dml_check_" + n;
    exec(monolith, "CREATE TABLE users (id INT PRIMARY KEY, name TEXT NOT NULL)",
        "CREATE ROLE " + migrator + " LOGIN", "CREATE ROLE " + app + " LOGIN",
        "GRANT USAGE ON SCHEMA public TO " + migrator + ", " + app,
        "GRANT SELECT ON users TO " + migrator,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON users TO " + app);
    exec(service, "CREATE TABLE users (id INT PRIMARY KEY, name TEXT NOT NULL)");
    Path yaml = dir.resolve("cutover.yaml");
    java.nio.file.Files.writeString(yaml, String.join("\n", "journal: {directory: journal}",
        "sides:",
        "  monolith: {url: '" + url(monolith) + "', user: " + migrator + ", slot: leastpriv_check_" + n + "}",
        "  services:",
        "    accounts: {url: '" + url(service) + "', user: postgres}",
        "tables:",
        "  - {source: users, service: accounts, target: users, direction: to_service}", ""));
    io.cutover.engine.config.MigrationConfig config = io.cutover.engine.config.MigrationConfig.load(yaml);
    List<io.cutover.engine.config.ConfigException> problems = io.cutover.engine.config.ConfigChecker.check(config);
    assertEquals(1, problems.size(), problems.toString());
    assertEquals("sides.monolith.user", problems.get(0).key());
    String message = problems.get(0).getMessage();
    for (String lacking : List.of("CREATE on its schema", "EXECUTE on pg_replication_origin_create(text)",
        "EXECUTE on pg_replication_origin_session_setup(text)", "EXECUTE on pg_replication_origin_session_is_setup()",
        "INSERT, UPDATE, DELETE, TRIGGER on users", "ownership of users", "the REPLICATION attribute", "CREATE on the database")) {
      assertTrue(message.contains(lacking), lacking + " in: " + message);
    }

    exec(monolith, "ALTER ROLE " + migrator + " REPLICATION", "GRANT CREATE ON SCHEMA public TO " + migrator,
        "GRANT CREATE ON DATABASE " + rows(monolith, "SELECT current_database()").get(0) + " TO " + migrator,
        "GRANT EXECUTE ON FUNCTION pg_replication_origin_create(text) TO " + migrator,
        "GRANT EXECUTE ON FUNCTION pg_replication_origin_session_setup(text) TO " + migrator,
        "GRANT EXECUTE ON FUNCTION pg_replication_origin_session_is_setup() TO " + migrator,
        "GRANT INSERT, UPDATE, DELETE, TRIGGER ON users TO " + migrator, "ALTER TABLE users OWNER TO " + migrator,
        "GRANT SELECT, INSERT, UPDATE, DELETE ON users TO " + app);
    assertEquals(List.of(), io.cutover.engine.config.ConfigChecker.check(config), "the grants named are enough");
    Properties asMigrator = new Properties();
    asMigrator.setProperty("user", migrator);
    PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), asMigrator)
        .tables("users").slot("leastpriv_check_" + n).build();
    capture.install();
    List<String> seen = new CopyOnWriteArrayList<>();
    ChangeHandler sink = new ChangeHandler() {
      @Override
      public String name() {
        return "sink";
      }

      @Override
      public void onChange(ChangeRecord change) {
        seen.add(change.decode().after().get("name").asString());
      }
    };
    Properties asApp = new Properties();
    asApp.setProperty("user", app);
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("j2")))
        .build()).apply(sink).start()) {
      capture.start(pipeline);
      try (Connection c = DriverManager.getConnection(url(monolith), asApp); Statement st = c.createStatement()) {
        st.execute("INSERT INTO users VALUES (1, 'by the application')");
      }
      try (Connection c = DriverManager.getConnection(url(monolith), asMigrator)) {
        ApplySessions.mark(c, "least-privilege-migrator-" + n);
        try (Statement st = c.createStatement()) {
          st.execute("INSERT INTO users VALUES (2, 'by cutover')");
        }
      }
      try (Connection c = DriverManager.getConnection(url(monolith), asApp); Statement st = c.createStatement()) {
        st.execute("INSERT INTO users VALUES (3, 'by the application again')");
      }
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (seen.size() < 2 && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      Thread.sleep(300);
      assertEquals(List.of("by the application", "by the application again"), seen);
      assertEquals(List.of("2"), rows(monolith, "SELECT count(*) FROM cutover_row_transactions"),
          "both application rows' transactions recorded by the migration role's function");
    } finally {
      capture.close();
      capture.uninstall();
      try (Connection c = monolith.getConnection()) {
        ApplySessions.dropOrigin(c, "least-privilege-migrator-" + n);
      }
      exec(monolith, "DROP OWNED BY " + migrator + ", " + app, "DROP ROLE " + app);
      exec(service, "DROP OWNED BY " + migrator);
      exec(monolith, "DROP ROLE " + migrator);
    }
  }
}
