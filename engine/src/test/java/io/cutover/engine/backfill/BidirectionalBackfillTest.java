package io.cutover.engine.backfill;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.Side;
import io.cutover.engine.sync.ConflictPolicy;
import io.cutover.engine.sync.H2SyncFixture;
import io.cutover.engine.sync.Rule;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * An online backfill into a service synced both ways: the monolith keeps decrementing stock (a counter column) and
 * renaming products while they are copied; rows changed before their chunk is read reach the service whole, rows
 * read are never overwritten by older values, and once the service writes too the counters still add up.
 */
@Timeout(120)
class BidirectionalBackfillTest {
  private static final int PRODUCTS = 1_500;
  private static final int START = 100;
  @TempDir Path dir;

  @Test
  void aBackfillWhileTheMonolithWritesFeedsABidirectionalSyncWithoutLosingADecrement() throws Exception {
    try (H2SyncFixture f = new H2SyncFixture(dir, "inventory", new String[] {"products"},
        new String[] {"products"}, b -> b.table(TableMapping.identity("products"),
            ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER)))) {
      exec(f.monolith, "CREATE TABLE products (sku BIGINT PRIMARY KEY, title VARCHAR(40), stock INT NOT NULL)",
          "INSERT INTO products SELECT X, 'p' || X, " + START + " FROM SYSTEM_RANGE(1, " + PRODUCTS + ")");
      exec(f.service, "CREATE TABLE products (sku BIGINT PRIMARY KEY, title VARCHAR(40), stock INT NOT NULL)");
      Backfill backfill = Backfill.builder(Side.MONOLITH, f.monolith).tables("products").chunkSize(50).build();
      f.start(backfill);
      AtomicBoolean writing = new AtomicBoolean(true);
      AtomicBoolean serviceToo = new AtomicBoolean();
      AtomicLong taken = new AtomicLong();
      AtomicLong restocked = new AtomicLong();
      Thread shop = new Thread(() -> {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        while (writing.get()) {
          try {
            long sku = 1 + r.nextInt(PRODUCTS);
            if (r.nextInt(5) == 0) {
              exec(f.monolith, "UPDATE products SET title = 'shop " + r.nextInt(1000) + "' WHERE sku = " + sku);
            } else {
              exec(f.monolith, "UPDATE products SET stock = stock - 1 WHERE sku = " + sku);
              taken.incrementAndGet();
            }
            if (serviceToo.get()) {
              exec(f.service, "UPDATE products SET stock = stock + 2 WHERE sku = " + (1 + r.nextInt(PRODUCTS)));
              restocked.addAndGet(2);
            }
          } catch (Exception e) {
            throw new IllegalStateException(e);
          }
        }
      });
      shop.start();
      List<BackfillProgress> done;
      try {
        done = backfill.run();
        long deadline = System.nanoTime() + 30_000_000_000L;
        while (!rows(f.service, "SELECT COUNT(*) FROM products").equals(List.of(Integer.toString(PRODUCTS)))
            && System.nanoTime() < deadline) {
          Thread.sleep(20); // the copy is journaled when run returns; it is applied a moment later
        }
        serviceToo.set(true); // the service's application starts once its rows are there
        Thread.sleep(500);
      } finally {
        writing.set(false);
        shop.join();
      }
      assertTrue(done.get(0).done() && done.get(0).rowsDone() == PRODUCTS, done.toString());
      assertTrue(taken.get() > 100 && restocked.get() > 0, taken + " taken, " + restocked + " restocked");
      f.awaitQuiet();
      String all = "SELECT sku, title, stock FROM products ORDER BY sku";
      assertEquals(rows(f.monolith, all), rows(f.service, all), "both sides hold every row, the same");
      assertEquals(List.of(Long.toString(PRODUCTS * (long) START - taken.get() + restocked.get())),
          rows(f.monolith, "SELECT SUM(stock) FROM products"), "no decrement or restock lost or doubled");
      assertEquals(0, f.sync.stats().parked());
    }
  }
}
