package io.cutover.engine.db;

import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/** Data sources for the supported databases from a JDBC URL and credentials. */
public final class DataSources {
  private DataSources() {}

  /**
   * A data source for a PostgreSQL or H2 URL.
   *
   * @param url the JDBC URL.
   * @param user the user, or empty.
   * @param password the password, or empty.
   * @return the data source (it opens a new connection per call).
   * @throws IllegalArgumentException if the URL is neither PostgreSQL nor H2.
   */
  public static DataSource of(String url, String user, String password) {
    if (url.startsWith("jdbc:postgresql:")) {
      PGSimpleDataSource ds = new PGSimpleDataSource();
      ds.setURL(url);
      if (!user.isEmpty()) {
        ds.setUser(user);
      }
      if (!password.isEmpty()) {
        ds.setPassword(password);
      }
      return ds;
    }
    if (url.startsWith("jdbc:h2:")) {
      JdbcDataSource ds = new JdbcDataSource();
      ds.setURL(url);
      ds.setUser(user);
      ds.setPassword(password);
      return ds;
    }
    throw new IllegalArgumentException("'" + url + "' is not a PostgreSQL or H2 JDBC URL");
  }

  /**
   * Rolls back and closes a connection that is being given up (after a failure, or at shutdown), ignoring what
   * either step throws: the connection is going away.
   *
   * @param connection the connection, or null.
   */
  public static void discard(java.sql.Connection connection) {
    if (connection == null) {
      return;
    }
    try {
      connection.rollback();
    } catch (java.sql.SQLException ignored) {
      // going away anyway
    }
    try {
      connection.close();
    } catch (java.sql.SQLException ignored) {
      // as above
    }
  }
}
