package io.cutover.engine.db;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Marks the database sessions Cutover's own apply uses, so the capture triggers on the same database skip the
 * rows it writes and a change never echoes back (loop prevention for trigger capture on the embedded database).
 * The mark is on the session, as SymmetricDS marks its loader's session.
 */
public final class ApplySessions {
  private static final Map<Object, Boolean> SESSIONS = Collections.synchronizedMap(new WeakHashMap<>());

  private ApplySessions() {}

  /**
   * Marks a connection's session as Cutover's apply session.
   *
   * @param connection an open connection to an H2 database in this JVM.
   * @throws SQLException if the session cannot be identified.
   */
  public static void mark(Connection connection) throws SQLException {
    SESSIONS.put(session(connection), Boolean.TRUE);
  }

  /**
   * Whether a connection's session is marked.
   *
   * @param connection a connection.
   * @return true for an apply session.
   * @throws SQLException if the session cannot be identified.
   */
  public static boolean isApplySession(Connection connection) throws SQLException {
    return !SESSIONS.isEmpty() && SESSIONS.containsKey(session(connection));
  }

  private static Object session(Connection connection) throws SQLException {
    if (connection instanceof org.h2.jdbc.JdbcConnection h2) {
      return h2.getSession();
    }
    return connection.unwrap(Connection.class);
  }
}
