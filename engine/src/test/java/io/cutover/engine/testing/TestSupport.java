package io.cutover.engine.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import javax.sql.DataSource;

/** Helpers the engine's tests share: SQL, temporary directories, forked JVMs. */
public final class TestSupport {
  private TestSupport() {}

  /**
   * Runs statements, each in its own transaction.
   *
   * @param ds the database.
   * @param sql the statements.
   * @throws SQLException if one fails.
   */
  public static void exec(DataSource ds, String... sql) throws SQLException {
    try (Connection c = ds.getConnection(); Statement st = c.createStatement()) {
      for (String s : sql) {
        st.execute(s);
      }
    }
  }

  /**
   * Every row of a query, its columns joined with {@code |} (SQL NULL as {@code null}).
   *
   * @param ds the database.
   * @param sql the query.
   * @return the rows.
   * @throws SQLException if the query fails.
   */
  public static List<String> rows(DataSource ds, String sql) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = ds.getConnection(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      int n = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        StringBuilder row = new StringBuilder();
        for (int i = 1; i <= n; i++) {
          row.append(i > 1 ? "|" : "").append(rs.getString(i));
        }
        rows.add(row.toString());
      }
    }
    return rows;
  }

  /**
   * A new temporary directory.
   *
   * @param prefix its name's prefix.
   * @return the directory.
   */
  public static Path tempDir(String prefix) {
    try {
      return Files.createTempDirectory(prefix);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Deletes a directory and everything in it.
   *
   * @param dir the directory.
   */
  public static void delete(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The command that runs a main class in a new JVM with the test's classpath and Cutover's JVM flags.
   *
   * @param mainClass the class.
   * @param args its arguments.
   * @return the command line.
   */
  public static List<String> javaCommand(Class<?> mainClass, String... args) {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(Arrays.asList(System.getProperty("cutover.test.jvmFlags", "").trim().split("\\s+")));
    command.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"), mainClass.getName()));
    command.addAll(List.of(args));
    command.removeIf(String::isEmpty);
    return command;
  }

  /**
   * A TCP port free on loopback right now (for servers whose port must be written into a configuration before
   * they start).
   *
   * @return the port.
   * @throws IOException if no port can be had.
   */
  public static int freePort() throws IOException {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /**
   * Starts a main class in a new JVM ({@link #javaCommand}) and waits until it prints {@code READY} on its first
   * line, as {@code BidiCrashWorker} does once its migration runs.
   *
   * @param mainClass the class.
   * @param stderr where the JVM's error stream goes (its content is in the exception if it does not start).
   * @param args its arguments.
   * @return the running process (its standard output is left unread after the first line).
   * @throws IOException if it cannot be started or did not get ready.
   */
  public static Process startWorker(Class<?> mainClass, Path stderr, String... args) throws IOException {
    Process process = new ProcessBuilder(javaCommand(mainClass, args)).redirectError(stderr.toFile()).start();
    java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(process.getInputStream(),
        java.nio.charset.StandardCharsets.UTF_8));
    String line = out.readLine();
    if (!"READY".equals(line)) {
      process.destroyForcibly();
      throw new IOException(mainClass.getSimpleName() + " did not start: " + line + "; " + Files.readString(stderr));
    }
    return process;
  }

  /**
   * A database's JDBC URL.
   *
   * @param ds the database.
   * @return its URL.
   * @throws SQLException if it cannot be reached.
   */
  public static String url(DataSource ds) throws SQLException {
    try (Connection c = ds.getConnection()) {
      return c.getMetaData().getURL();
    }
  }

  /**
   * Waits until two queries on two databases give the same rows three polls in a row (both sides converged).
   *
   * @param a one database.
   * @param sqlA its query.
   * @param b the other.
   * @param sqlB its query.
   * @param timeout how long to wait.
   * @throws Exception if they do not converge in time (the error shows both sides) or a query fails.
   */
  public static void awaitSame(DataSource a, String sqlA, DataSource b, String sqlB, java.time.Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    int stable = 0;
    List<String> last = null;
    while (stable < 3) {
      List<String> left = rows(a, sqlA);
      List<String> right = rows(b, sqlB);
      stable = left.equals(right) && left.equals(last) ? stable + 1 : 0;
      last = left;
      if (System.nanoTime() > deadline) {
        throw new AssertionError("sides did not converge (" + left.size() + " and " + right.size() + " rows):\n"
            + differences(left, right));
      }
      Thread.sleep(200);
    }
  }

  /** The rows of two results that differ (the first 40, by the text before the first '|', their key). */
  private static String differences(List<String> left, List<String> right) {
    java.util.Map<String, String> a = new java.util.LinkedHashMap<>();
    left.forEach(r -> a.put(r.split("\\|", 2)[0], r));
    java.util.Map<String, String> b = new java.util.LinkedHashMap<>();
    right.forEach(r -> b.put(r.split("\\|", 2)[0], r));
    java.util.Set<String> keys = new java.util.LinkedHashSet<>(a.keySet());
    keys.addAll(b.keySet());
    StringBuilder out = new StringBuilder();
    int shown = 0;
    int differing = 0;
    for (String key : keys) {
      if (!java.util.Objects.equals(a.get(key), b.get(key))) {
        differing++;
        if (shown++ < 40) {
          out.append("  monolith ").append(a.get(key)).append("  service ").append(b.get(key)).append('\n');
        }
      }
    }
    return out.append("  ").append(differing).append(" rows differ").toString();
  }

  /**
   * Writes on a session the capture ignores (marked as another applier's), as if someone patched a database by
   * hand around Cutover; on PostgreSQL the session lets go of its replication origin before closing (a closed
   * backend releases it late, and the next mark would find it busy).
   *
   * @param ds the database.
   * @param sql the statements, run in one session.
   * @throws java.sql.SQLException if one fails.
   */
  public static void behindTheBack(DataSource ds, String... sql) throws java.sql.SQLException {
    try (java.sql.Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
      io.cutover.engine.db.ApplySessions.mark(c, "someone_else");
      for (String s : sql) {
        st.execute(s);
      }
      if (io.cutover.engine.db.Dialect.of(c) == io.cutover.engine.db.Dialect.POSTGRESQL) {
        st.execute("SELECT pg_replication_origin_session_reset()");
      }
    }
  }

  /**
   * A change as a handler sees it from the pipeline, for driving a handler directly.
   *
   * @param journalIndex its journal index.
   * @param event the change.
   * @return the record.
   */
  public static io.cutover.engine.pipeline.ChangeRecord record(long journalIndex,
      io.cutover.engine.event.ChangeEvent event) {
    org.agrona.ExpandableArrayBuffer buffer = new org.agrona.ExpandableArrayBuffer(256);
    int length = io.cutover.engine.event.EventCodec.encode(event, buffer, 0);
    return new io.cutover.engine.pipeline.ChangeRecord() {
      @Override
      public long journalIndex() {
        return journalIndex;
      }

      @Override
      public boolean replayed() {
        return false;
      }

      @Override
      public org.agrona.DirectBuffer buffer() {
        return buffer;
      }

      @Override
      public int length() {
        return length;
      }
    };
  }
}
