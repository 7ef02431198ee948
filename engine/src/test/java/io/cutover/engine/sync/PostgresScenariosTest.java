package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static io.cutover.engine.testing.TestSupport.url;
import static io.cutover.engine.testing.TestSupport.awaitSame;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.PostgresLogicalCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.testing.Postgres;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two more of the users' scenarios, end to end on real PostgreSQL: orders keep flowing on the monolith while
 * payments move to their own service (which captures, refunds and is the authority on a payment's status), and
 * web sessions written on either side while traffic moves over gradually are readable on both.
 */
@Timeout(240)
class PostgresScenariosTest {
  @TempDir Path dir;

  /** Runs sync between the two databases for the tables given while {@code work} runs. */
  private void sync(DataSource monolith, DataSource service, String serviceName, String slotPrefix,
      String[] monolithTables, String[] serviceTables, java.util.function.Consumer<BidirectionalSync.Builder> tables,
      Work work) throws Exception {
    Properties user = new Properties();
    user.setProperty("user", "postgres");
    PostgresLogicalCapture monolithCapture = PostgresLogicalCapture.builder(Side.MONOLITH, url(monolith), user)
        .tables(monolithTables).slot(slotPrefix + "_m").replicaIdentityFull(true).build();
    PostgresLogicalCapture serviceCapture = PostgresLogicalCapture.builder(Side.service(serviceName), url(service),
        user).tables(serviceTables).slot(slotPrefix + "_s").replicaIdentityFull(true).build();
    monolithCapture.install();
    serviceCapture.install();
    BidirectionalSync.Builder builder = BidirectionalSync.builder(serviceName, monolith, service,
        dir.resolve(slotPrefix));
    tables.accept(builder);
    BidirectionalSync sync = builder.build();
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve(slotPrefix
        + "-journal"))).build()).apply(sync).start()) {
      monolithCapture.start(pipeline);
      serviceCapture.start(pipeline);
      work.run(sync);
    } finally {
      PostgresBidirectionalSyncTest.stop(sync, monolithCapture, serviceCapture);
    }
  }

  private static int update(DataSource ds, String sql) throws Exception {
    try (Connection c = ds.getConnection(); java.sql.Statement st = c.createStatement()) {
      return st.executeUpdate(sql);
    }
  }

  private interface Work {
    void run(BidirectionalSync sync) throws Exception;
  }

  @Test
  void shouldKeepTakingOrdersWhilePaymentsMoveToTheirOwnService() throws Exception {
    DataSource monolith = Postgres.newDatabase("ordshop");
    DataSource payments = Postgres.newDatabase("ordpay");
    exec(monolith, "CREATE TABLE orders (id BIGINT PRIMARY KEY, customer TEXT NOT NULL, total NUMERIC(10,2))",
        "CREATE TABLE payment (id BIGINT PRIMARY KEY, order_id BIGINT NOT NULL REFERENCES orders(id), "
            + "amount NUMERIC(10,2) NOT NULL, status TEXT NOT NULL, updated_at TIMESTAMPTZ)");
    exec(payments, "CREATE TABLE payments (payment_id BIGINT PRIMARY KEY, order_ref BIGINT NOT NULL, "
        + "amount NUMERIC(10,2) NOT NULL, status TEXT NOT NULL, updated_at TIMESTAMPTZ)");
    int orders = 120;
    sync(monolith, payments, "payments", "ordpay", new String[] {"payment"}, new String[] {"payments"},
        b -> b.table(TableMapping.renamed("payment", "payments").withColumns(Map.of("id", "payment_id",
                "order_id", "order_ref", "amount", "amount", "status", "status", "updated_at", "updated_at")),
            ConflictPolicy.LAST_WRITER_WINS.column("status", Rule.priority(Side.service("payments")))),
        sync -> {
          ExecutorService pool = Executors.newFixedThreadPool(2);
          // The monolith keeps taking orders, each with a pending payment; it cancels some of them.
          Future<?> shop = pool.submit(() -> {
            try (Connection c = monolith.getConnection()) {
              c.setAutoCommit(false);
              for (int i = 1; i <= orders; i++) {
                try (PreparedStatement order = c.prepareStatement("INSERT INTO orders VALUES (?, 'c' || ?, ?)");
                     PreparedStatement pay = c.prepareStatement("INSERT INTO payment VALUES (?, ?, ?, 'pending', "
                         + "now())")) {
                  order.setLong(1, i);
                  order.setLong(2, i);
                  order.setBigDecimal(3, new java.math.BigDecimal(i + ".50"));
                  order.executeUpdate();
                  pay.setLong(1, i);
                  pay.setLong(2, i);
                  pay.setBigDecimal(3, new java.math.BigDecimal(i + ".50"));
                  pay.executeUpdate();
                }
                c.commit();
                if (i % 10 == 0) {
                  try (PreparedStatement cancel = c.prepareStatement("UPDATE payment SET status = 'cancelled', "
                      + "updated_at = now() WHERE id = ?")) {
                    cancel.setLong(1, i - 5);
                    cancel.executeUpdate();
                  }
                  c.commit();
                }
                Thread.sleep(2);
              }
            }
            return null;
          });
          // The payments service captures the pending payments it sees and refunds some, as new rows.
          Future<?> service = pool.submit(() -> {
            try (Connection c = payments.getConnection()) {
              long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
              int refunds = 0;
              while (System.nanoTime() < deadline) {
                int captured;
                try (PreparedStatement capture = c.prepareStatement("UPDATE payments SET status = 'captured', "
                    + "updated_at = now() WHERE status = 'pending' AND payment_id % 3 = 0")) {
                  captured = capture.executeUpdate();
                }
                if (captured > 0 && refunds < 10) {
                  try (PreparedStatement refund = c.prepareStatement("INSERT INTO payments SELECT 100000 + "
                      + "payment_id, order_ref, -amount, 'refund', now() FROM payments WHERE status = 'captured' "
                      + "ON CONFLICT DO NOTHING")) {
                    refunds += refund.executeUpdate();
                  }
                }
                if (rows(payments, "SELECT count(*) FROM payments WHERE payment_id <= " + orders).equals(
                    List.of(String.valueOf(orders))) && captured == 0) {
                  break;
                }
                Thread.sleep(20);
              }
            }
            return null;
          });
          shop.get();
          service.get();
          pool.shutdown();
          awaitSame(monolith, "SELECT id, order_id, amount, status FROM payment ORDER BY id",
              payments, "SELECT payment_id, order_ref, amount, status FROM payments ORDER BY payment_id",
              Duration.ofSeconds(90));
        });
    // Every order's payment reached the service; every capture and refund the service made is in the monolith;
    // where the monolith cancelled a payment the service captured concurrently, the service's status won.
    assertEquals(List.of(String.valueOf(orders)), rows(monolith, "SELECT count(*) FROM payment WHERE id <= "
        + orders));
    List<String> refunds = rows(monolith, "SELECT count(*) FROM payment WHERE status = 'refund' AND amount < 0");
    assertTrue(Integer.parseInt(refunds.get(0)) > 0, "refunds made on the service are in the monolith");
    assertEquals(rows(payments, "SELECT count(*) FROM payments WHERE status = 'captured'"),
        rows(monolith, "SELECT count(*) FROM payment WHERE status = 'captured'"));
    assertEquals(List.of("0"), rows(monolith, "SELECT count(*) FROM payment p WHERE NOT EXISTS (SELECT 1 FROM "
        + "orders o WHERE o.id = p.order_id)"), "the monolith's foreign key still holds for every payment");
  }

  @Test
  void shouldKeepSessionsWrittenOnEitherSideReadableOnBothWhileTrafficMoves() throws Exception {
    DataSource monolith = Postgres.newDatabase("sesmono");
    DataSource service = Postgres.newDatabase("sessvc");
    for (DataSource ds : List.of(monolith, service)) {
      exec(ds, "CREATE TABLE sessions (id UUID PRIMARY KEY, user_id BIGINT NOT NULL, data JSONB, "
          + "expires_at TIMESTAMPTZ NOT NULL)");
    }
    Set<String> live = new HashSet<>();
    List<String> ended = new ArrayList<>();
    sync(monolith, service, "auth", "sessions", new String[] {"sessions"}, new String[] {"sessions"},
        b -> b.table(TableMapping.identity("sessions"), ConflictPolicy.LAST_WRITER_WINS),
        sync -> {
          Random random = new Random(11);
          // Traffic moves 10% -> 50% -> 90% to the service; each request logs in, touches or logs out a session.
          for (int share : new int[] {10, 50, 90}) {
            for (int i = 0; i < 150; i++) {
              DataSource side = random.nextInt(100) < share ? service : monolith;
              int action = random.nextInt(10);
              if (action < 5 || live.isEmpty()) {
                String id = UUID.randomUUID().toString();
                exec(side, "INSERT INTO sessions VALUES ('" + id + "', " + random.nextInt(1000) + ", '{\"cart\": "
                    + i + "}', now() + interval '1 hour')");
                live.add(id);
              } else if (action < 9) {
                String id = live.iterator().next();
                exec(side, "UPDATE sessions SET data = '{\"cart\": " + (1000 + i) + "}', expires_at = now() + "
                    + "interval '1 hour' WHERE id = '" + id + "'");
              } else {
                String id = live.iterator().next();
                // A logout on a side the session has not reached yet finds nothing (sync is asynchronous): the
                // session lives on, as it would for a user whose two requests raced the sync.
                if (update(side, "DELETE FROM sessions WHERE id = '" + id + "'") == 1) {
                  live.remove(id);
                  ended.add(id);
                }
              }
            }
            // A session written on one side is readable on the other once synced.
            awaitSame(monolith, "SELECT id, user_id, data::text FROM sessions ORDER BY id",
                service, "SELECT id, user_id, data::text FROM sessions ORDER BY id", Duration.ofSeconds(90));
          }
        });
    assertEquals(List.of(String.valueOf(live.size())), rows(monolith, "SELECT count(*) FROM sessions"));
    assertEquals(List.of(String.valueOf(live.size())), rows(service, "SELECT count(*) FROM sessions"));
    for (String id : ended) {
      assertEquals(List.of("0"), rows(service, "SELECT count(*) FROM sessions WHERE id = '" + id + "'"),
          "logged-out session " + id + " is gone on both sides");
    }
  }
}
