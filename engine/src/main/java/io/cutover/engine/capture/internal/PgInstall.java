package io.cutover.engine.capture.internal;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Installing capture's triggers on PostgreSQL while the application writes. A trigger already in place as wanted is
 * left alone (a restart takes no lock on the application's tables). Replacing one takes the table's strongest lock,
 * and a request for it queues every later writer of the table behind it; and an application transaction that
 * writes two captured tables can deadlock with an installation that locks them one after the other. So the
 * installation waits at most {@link #LOCK_TIMEOUT} for each lock, gives up its locks and tries again a little
 * later, until {@link #PATIENCE} has passed.
 */
public final class PgInstall {
  /** How long the installation waits for one lock before letting the application go first. */
  public static final String LOCK_TIMEOUT = "2s";
  /** How long it keeps trying. */
  public static final java.time.Duration PATIENCE = java.time.Duration.ofMinutes(2);
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PgInstall.class);
  private static final Set<String> BUSY = Set.of(io.cutover.engine.db.ApplySessions.LOCK_NOT_AVAILABLE,
      "40P01"); // and deadlock_detected
  /** tgtype of {@code AFTER INSERT OR UPDATE OR DELETE ... FOR EACH ROW}: ROW 1, INSERT 4, DELETE 8, UPDATE 16. */
  private static final int AFTER_EACH_ROW_ANY_CHANGE = 1 | 4 | 8 | 16;

  private PgInstall() {}

  /** Work done in the installation's transaction. */
  @FunctionalInterface
  public interface Work {
    /**
     * Does it.
     *
     * @param st a statement on the transaction's connection.
     * @throws SQLException to roll back (and, when a lock could not be had, to try again).
     */
    void run(Statement st) throws SQLException;
  }

  /**
   * Runs work in one transaction that waits at most {@link #LOCK_TIMEOUT} for any lock; when a lock cannot be had
   * in time (or the database picks this transaction to break a deadlock), rolls back and tries again after a pause
   * of up to two seconds, for at most {@link #PATIENCE}.
   *
   * @param c the connection (left in auto-commit).
   * @param what what is being installed, for messages.
   * @param work the work.
   * @throws SQLException if the work fails otherwise, or the tables stayed busy for the whole patience.
   */
  public static void inTransaction(Connection c, String what, Work work) throws SQLException {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    for (int attempt = 1; ; attempt++) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT + "'");
        work.run(st);
        c.commit();
        return;
      } catch (SQLException e) {
        c.rollback();
        if (!BUSY.contains(e.getSQLState())) {
          throw e;
        }
        if (System.nanoTime() > deadline) {
          throw new SQLException(what + ": the application's transactions kept the tables locked for "
              + PATIENCE.toSeconds() + " s (each try waited " + LOCK_TIMEOUT + "): " + e.getMessage(),
              e.getSQLState(), e);
        }
        LOG.info("{}: a table is busy ({}); trying again (attempt {})", what, e.getMessage(), attempt + 1);
        try {
          Thread.sleep(Math.min(2_000, 50L * attempt) + ThreadLocalRandom.current().nextLong(50));
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new SQLException(what + ": interrupted", interrupted);
        }
      } finally {
        c.setAutoCommit(true);
      }
    }
  }

  /**
   * Whether a table has a trigger as capture wants it: enabled, {@code AFTER INSERT OR UPDATE OR DELETE ... FOR
   * EACH ROW}, calling the given function with the given arguments.
   *
   * @param c a connection.
   * @param table the table.
   * @param trigger the trigger's name.
   * @param function the function's name (without arguments).
   * @param arguments the trigger's arguments.
   * @return true when nothing needs replacing.
   * @throws SQLException if the catalog cannot be read.
   */
  public static boolean triggerIsCurrent(Connection c, String table, String trigger, String function,
      List<String> arguments) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT t.tgtype, t.tgenabled, p.proname, t.tgargs "
        + "FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid WHERE t.tgrelid = to_regclass(?) AND t.tgname = ? "
        + "AND NOT t.tgisinternal")) {
      ps.setString(1, table);
      ps.setString(2, trigger.toLowerCase(Locale.ROOT));
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return false;
        }
        return rs.getInt(1) == AFTER_EACH_ROW_ANY_CHANGE && "O".equals(rs.getString(2))
            && function.equalsIgnoreCase(rs.getString(3)) && arguments(rs.getBytes(4)).equals(arguments);
      }
    }
  }

  /**
   * Whether a table has a trigger of a name (an older version's, to drop).
   *
   * @param c a connection.
   * @param table the table.
   * @param trigger the trigger's name.
   * @return true when it exists.
   * @throws SQLException if the catalog cannot be read.
   */
  public static boolean triggerExists(Connection c, String table, String trigger) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass(?) "
        + "AND tgname = ?")) {
      ps.setString(1, table);
      ps.setString(2, trigger.toLowerCase(Locale.ROOT));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /** A trigger's arguments as {@code pg_trigger.tgargs} stores them: each ends with a zero byte. */
  private static List<String> arguments(byte[] raw) {
    List<String> out = new ArrayList<>();
    if (raw == null) {
      return out;
    }
    int start = 0;
    for (int i = 0; i < raw.length; i++) {
      if (raw[i] == 0) {
        out.add(new String(raw, start, i - start, StandardCharsets.UTF_8).toLowerCase(Locale.ROOT));
        start = i + 1;
      }
    }
    return out;
  }
}
