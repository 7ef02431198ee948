package io.cutover.engine.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;

/**
 * Marks the database sessions Cutover's own apply uses, so that capture on the same database does not take the
 * rows it writes for new changes and a change never echoes back and forth (loop prevention).
 *
 * <ul>
 *   <li>H2: a session variable ({@code @CUTOVER_APPLY}) that the capture trigger reads from its session, in
 *       this JVM or in the JVM hosting an {@code AUTO_SERVER} database, as SymmetricDS marks its loader's
 *       session;</li>
 *   <li>PostgreSQL: a replication origin per applier ({@code cutover_<name>}); logical capture asks pgoutput
 *       for {@code origin 'none'}, so transactions replayed under any origin are never decoded, and Cutover's
 *       trigger functions skip sessions with an origin set up ({@code pg_replication_origin_session_is_setup()}),
 *       which an application role cannot fake. Setting an origin up needs superuser, or {@code GRANT EXECUTE} on
 *       {@code pg_replication_origin_create}, {@code pg_replication_origin_session_setup} and
 *       {@code pg_replication_origin_session_is_setup}.</li>
 * </ul>
 */
public final class ApplySessions {
  /** The H2 session variable that marks an apply session. */
  public static final String H2_VARIABLE = "CUTOVER_APPLY";
  /** The prefix of Cutover's replication origins on PostgreSQL. */
  public static final String ORIGIN_PREFIX = "cutover_";

  /** How long an apply session waits for a row lock on PostgreSQL ({@code cutover.apply.lockTimeoutMillis}). */
  public static final long LOCK_TIMEOUT_MILLIS = Long.getLong("cutover.apply.lockTimeoutMillis", 250L);
  /** PostgreSQL's SQLSTATE for a lock wait that ran out ({@code lock_not_available}). */
  public static final String LOCK_NOT_AVAILABLE = "55P03";

  private ApplySessions() {}

  /**
   * Marks a connection's session as Cutover's apply session.
   *
   * @param connection an open connection.
   * @param applier the applier's name (on PostgreSQL, its replication origin is {@code cutover_<name>}).
   * @throws SQLException if the database refuses.
   */
  public static void mark(Connection connection, String applier) throws SQLException {
    mark(connection, applier, false);
  }

  /**
   * Marks a connection's session as Cutover's apply session, taking the applier's replication origin from whoever
   * holds it when asked to. With a state changelog (several instances, one owner per service at a time), the
   * instance that took a service over has fenced the previous owner, which may still hold the origin on an idle
   * session (it stands down only at its next batch, or never if it is cut off): the successor ends that session
   * ({@code pg_terminate_backend}, allowed to the same role) rather than waiting for it forever. Without a
   * changelog a busy origin means another Cutover applies as this one: an error, nothing is ended.
   *
   * @param connection an open connection.
   * @param applier the applier's name (on PostgreSQL, its replication origin is {@code cutover_<name>}).
   * @param takeOver whether to end another session holding the origin.
   * @throws SQLException if the database refuses.
   */
  public static void mark(Connection connection, String applier, boolean takeOver) throws SQLException {
    Dialect dialect = Dialect.of(connection);
    if (dialect == Dialect.H2) {
      try (Statement st = connection.createStatement()) {
        st.execute("SET @" + H2_VARIABLE + " = TRUE");
      }
      return;
    }
    String origin = origin(applier);
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(true);
    try (Statement st = connection.createStatement()) {
      // Cutover yields to the application: a row lock held longer than this fails Cutover's batch (retried after a
      // back-off), well before PostgreSQL's deadlock detector (deadlock_timeout, 1 s by default) would pick a
      // victim, which could be the application's transaction.
      st.execute("SET lock_timeout = '" + LOCK_TIMEOUT_MILLIS + "ms'");
      // An apply session reads and writes rows by key only. A plan prepared while a table (the row versions')
      // was nearly empty scanned it whole for every batch once it had grown (a tenth of a core at 1,000 rows/s):
      // a scan is chosen only where no index serves the statement.
      st.execute("SET enable_seqscan = off");
    }
    try {
      // the session's name is its origin's: pg_stat_activity shows Cutover's apply sessions, and a successor
      // finds the one holding the origin it needs
      try (PreparedStatement ps = connection.prepareStatement("SELECT set_config('application_name', ?, false)")) {
        ps.setString(1, origin);
        ps.execute();
      }
      try (PreparedStatement ps = connection.prepareStatement(
          "SELECT pg_replication_origin_create(?) WHERE NOT EXISTS (SELECT 1 FROM pg_replication_origin WHERE roname = ?)")) {
        ps.setString(1, origin);
        ps.setString(2, origin);
        ps.execute();
      }
      for (int attempt = 1; ; attempt++) {
        try (PreparedStatement ps = connection.prepareStatement("SELECT pg_replication_origin_session_setup(?)")) {
          ps.setString(1, origin);
          ps.execute();
          break;
        } catch (SQLException e) {
          if (!takeOver || !ORIGIN_BUSY.equals(e.getSQLState()) || attempt == TAKE_OVER_ATTEMPTS) {
            throw e;
          }
          if (endHolders(connection, origin) == 0) {
            pause(100L * attempt); // its holder is going of itself (a session ended a moment ago)
          }
        }
      }
    } catch (SQLException e) {
      if (ORIGIN_BUSY.equals(e.getSQLState()) && !takeOver) {
        throw new SQLException("replication origin '" + origin + "' is held by another session: another Cutover "
            + "instance applies as this one (application_name '" + origin + "' in pg_stat_activity): "
            + e.getMessage(), e.getSQLState(), e);
      }
      throw new SQLException("cannot mark the apply session with replication origin '" + origin + "' (needs "
          + "superuser or EXECUTE on pg_replication_origin_create and pg_replication_origin_session_setup): "
          + e.getMessage(), e.getSQLState(), e);
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  /** PostgreSQL's SQLSTATE for a replication origin active in another session ({@code object_in_use}). */
  static final String ORIGIN_BUSY = "55006";
  private static final int TAKE_OVER_ATTEMPTS = 5;
  private static final long TERMINATE_WAIT_MILLIS = 5_000;

  /** Ends the other sessions named after an origin, waiting for each to be gone (PostgreSQL 14 or later). */
  private static int endHolders(Connection connection, String origin) throws SQLException {
    int ended = 0;
    try (PreparedStatement ps = connection.prepareStatement("SELECT pid, pg_terminate_backend(pid, ?) FROM "
        + "pg_stat_activity WHERE application_name = ? AND pid <> pg_backend_pid()")) {
      ps.setLong(1, TERMINATE_WAIT_MILLIS);
      ps.setString(2, origin);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          org.slf4j.LoggerFactory.getLogger(ApplySessions.class).warn("ended session {} holding replication origin "
              + "{} (a previous owner's, fenced by this take-over): {}", rs.getLong(1), origin,
              rs.getBoolean(2) ? "gone" : "still going");
          ended++;
        }
      }
    }
    return ended;
  }

  private static void pause(long millis) throws SQLException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while taking a replication origin over", e);
    }
  }

  /**
   * The replication origin an applier's sessions use on PostgreSQL.
   *
   * @param applier the applier's name.
   * @return the origin's name.
   */
  public static String origin(String applier) {
    String name = ORIGIN_PREFIX + applier.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
    return name.length() > 63 ? name.substring(0, 63) : name;
  }

  /**
   * Whether an H2 session is marked (called by the capture trigger, inside the database).
   *
   * @param connection the trigger's connection.
   * @return true for an apply session.
   */
  public static boolean isApplySession(Connection connection) {
    if (connection instanceof org.h2.jdbc.JdbcConnection h2
        && h2.getSession() instanceof org.h2.engine.SessionLocal session) {
      org.h2.value.Value value = session.getVariable(H2_VARIABLE);
      return value != null && value != org.h2.value.ValueNull.INSTANCE && value.getBoolean();
    }
    return false;
  }

  /**
   * Drops an applier's replication origin (PostgreSQL; nothing on H2). For cleanup after a migration.
   *
   * @param connection a connection to the database.
   * @param applier the applier's name.
   * @throws SQLException if the database refuses.
   */
  public static void dropOrigin(Connection connection, String applier) throws SQLException {
    if (Dialect.of(connection) != Dialect.POSTGRESQL) {
      return;
    }
    try (PreparedStatement ps = connection.prepareStatement("SELECT pg_replication_origin_drop(roname) FROM "
        + "pg_replication_origin WHERE roname = ?")) {
      ps.setString(1, origin(applier));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          // one row per dropped origin
        }
      }
    }
  }
}
