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

  /**
   * The database's cheap estimate of a table's rows (PostgreSQL's planner statistics, H2's row count estimate),
   * for progress reports; never a scan.
   *
   * @param ds the database.
   * @param table the table.
   * @return the estimate, or -1 when the database has none.
   */
  public static long estimateRows(DataSource ds, String table) {
    try (java.sql.Connection c = ds.getConnection()) {
      String sql = Dialect.of(c) == Dialect.POSTGRESQL
          ? "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(?)"
          : "SELECT ROW_COUNT_ESTIMATE FROM INFORMATION_SCHEMA.TABLES WHERE UPPER(TABLE_NAME) = UPPER(?) "
              + "AND TABLE_SCHEMA = SCHEMA()";
      try (java.sql.PreparedStatement st = c.prepareStatement(sql)) {
        st.setString(1, table);
        try (java.sql.ResultSet rs = st.executeQuery()) {
          return rs.next() && rs.getLong(1) >= 0 ? rs.getLong(1) : -1;
        }
      }
    } catch (java.sql.SQLException | IllegalArgumentException e) {
      return -1;
    }
  }

  /**
   * Whether a table exists in the connection's current schema, under its name as given, upper case (H2) or lower
   * case (PostgreSQL).
   *
   * @param c an open connection.
   * @param table the table's name.
   * @return true if found.
   * @throws java.sql.SQLException if the catalog cannot be read.
   */
  public static boolean tableExists(java.sql.Connection c, String table) throws java.sql.SQLException {
    for (String candidate : new String[] {table, table.toUpperCase(java.util.Locale.ROOT),
        table.toLowerCase(java.util.Locale.ROOT)}) {
      try (java.sql.ResultSet rs = c.getMetaData().getTables(null, c.getSchema(), candidate, null)) {
        if (rs.next()) {
          return true;
        }
      }
    }
    return false;
  }
}
