package io.cutover.engine.capture;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static io.cutover.engine.testing.TestSupport.url;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.db.RowVersions;
import io.cutover.engine.event.Side;
import io.cutover.engine.testing.Postgres;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Logical capture replaces its row-transaction trigger at every start, while the application writes. An
 * application transaction that commits in between must still be recorded: sync takes the recorded transaction for
 * the row's last one, and one missing made it hold back every write to that row for good (a login lost on the
 * other side; docs/defects/sync-crash-soak-2026-12-07.md, cause 2).
 */
@Timeout(60)
class RowTransactionsInstallTest {
  @Test
  void anApplicationWriteWaitingOnTheReinstallIsRecorded() throws Exception {
    DataSource db = Postgres.newDatabase("rowtx_install");
    exec(db, "CREATE TABLE account (id INT PRIMARY KEY, logins INT NOT NULL)",
        "INSERT INTO account VALUES (1, 0), (2, 0)");
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH, url(db), user).tables("account")
        .slot("rowtx_install").build();
    capture.install();
    // an older trigger (not on deletes): the next start must replace it
    String trigger = RowVersions.pgName(RowVersions.TRANSACTION_TRIGGER_PREFIX, "account");
    exec(db, "DROP TRIGGER " + trigger + " ON account", "CREATE TRIGGER " + trigger + " AFTER INSERT OR UPDATE ON "
        + "account FOR EACH ROW EXECUTE FUNCTION " + RowVersions.transactionFunction("account"));
    try (Connection holder = db.getConnection(); Connection waiter = db.getConnection()) {
      // An application transaction holds the table while the engine restarts and installs again...
      holder.setAutoCommit(false);
      try (Statement st = holder.createStatement()) {
        st.executeUpdate("UPDATE account SET logins = logins + 1 WHERE id = 1");
      }
      CompletableFuture<Void> reinstall = CompletableFuture.runAsync(() -> {
        try {
          capture.install();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      awaitWaiting(db, 1);
      // ...and another one queues behind the install's lock.
      CompletableFuture<Void> login = CompletableFuture.runAsync(() -> {
        try (Statement st = waiter.createStatement()) {
          st.executeUpdate("UPDATE account SET logins = logins + 1 WHERE id = 2");
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      awaitWaiting(db, 2);
      holder.commit();
      reinstall.get();
      login.get();
      assertEquals(List.of("id=1", "id=2"), rows(db, "SELECT row_key FROM " + RowVersions.TRANSACTIONS
          + " WHERE table_name = 'account' ORDER BY row_key"), "both application writes are recorded");
      assertEquals(List.of("29"), rows(db, "SELECT tgtype FROM pg_trigger WHERE tgname = '" + trigger + "'"),
          "replaced: after insert, update or delete, for each row");
    } finally {
      capture.uninstall();
    }
  }

  /**
   * A restart while an application transaction writes two captured tables: it holds one and goes on to the other.
   * Replacing the triggers table after table would lock the second and wait for the first, and PostgreSQL would
   * break the deadlock by failing one of them (the engine's start, in the crash soak); the triggers are in place,
   * so the start takes no lock on the tables at all.
   */
  @Test
  void aRestartTakesNoLockOnTablesWhoseTriggersAreInPlace() throws Exception {
    DataSource db = Postgres.newDatabase("rowtx_restart");
    exec(db, "CREATE TABLE orders (id INT PRIMARY KEY, total INT NOT NULL)",
        "CREATE TABLE stock (id INT PRIMARY KEY, qty INT NOT NULL)",
        "INSERT INTO orders VALUES (1, 0)", "INSERT INTO stock VALUES (1, 10)");
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture capture = PostgresLogicalCapture.builder(Side.MONOLITH, url(db), user)
        .tables("orders", "stock").slot("rowtx_restart").replicaIdentityFull(true).build();
    capture.install();
    try (Connection app = db.getConnection()) {
      app.setAutoCommit(false);
      try (Statement st = app.createStatement()) {
        st.executeUpdate("UPDATE stock SET qty = qty - 1 WHERE id = 1");
        CompletableFuture<Void> restart = CompletableFuture.runAsync(() -> {
          try {
            capture.install();
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        });
        restart.get(20, java.util.concurrent.TimeUnit.SECONDS); // while the application's transaction is open
        st.executeUpdate("UPDATE orders SET total = total + 5 WHERE id = 1");
      }
      app.commit();
      assertEquals(List.of("id=1|orders", "id=1|stock"), rows(db, "SELECT row_key, table_name FROM "
          + RowVersions.TRANSACTIONS + " ORDER BY table_name"), "the transaction's writes are recorded");
    } finally {
      capture.uninstall();
    }
  }

  /** Waits until this many sessions wait on a lock. */
  private static void awaitWaiting(DataSource db, int sessions) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<String> waiting = rows(db, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
          + "AND datname = current_database()");
      if (Integer.parseInt(waiting.get(0)) >= sessions) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError(sessions + " session(s) never waited on a lock");
  }
}
