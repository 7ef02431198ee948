package io.cutover.engine.sync;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.capture.TriggerCapture;
import io.cutover.engine.event.Side;
import io.cutover.engine.testing.TestSupport;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.quicktheories.core.Gen;

/**
 * Chaos property on the embedded default: random interleavings of stock changes and renames on both sides, with
 * random capture partitions (one side's capture cut, changes piling up in its change table, then healed) and
 * random engine restarts. Afterwards both sides hold identical rows, and they equal the reference model: stock is
 * the start plus every delta made on either side (counter rule, nothing lost or counted twice); a name changed on
 * one side only is that side's last name; a name changed on both is one of the two sides' last names.
 */
@Timeout(600)
class SyncChaosPropertiesTest {
  private static final int KEYS = 3;

  /** One step: who does what. kind 0..5: stock delta, 6..7: rename, 8: partition the side, 9: restart the engine. */
  record Step(boolean monolith, int key, int kind, int amount) {}

  private static Gen<Step> steps() {
    return integers().between(0, 1).zip(integers().between(1, KEYS), integers().between(0, 9),
        integers().between(-5, 5), (side, key, kind, amount) -> new Step(side == 0, key, kind, amount));
  }

  @Test
  void bothSidesConvergeOnTheModelsRowsWhateverTheInterleavingPartitionsAndRestarts() {
    qt().withExamples(Integer.getInteger("cutover.chaos.examples", 40)).withShrinkCycles(0).forAll(lists().of(steps()).ofSizeBetween(5, 60))
        .checkAssert(SyncChaosPropertiesTest::check);
  }

  private static void check(List<Step> steps) {
    Path dir = TestSupport.tempDir("cutover-chaos");
    try (H2SyncFixture f = new H2SyncFixture(dir, "inventory", new String[] {"item"}, new String[] {"item"},
        b -> b.table(TableMapping.identity("item"), ConflictPolicy.LAST_WRITER_WINS.column("stock", Rule.COUNTER)))) {
      String ddl = "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(40), stock INT NOT NULL)";
      exec(f.monolith, ddl);
      exec(f.service, ddl);
      for (int k = 1; k <= KEYS; k++) {
        exec(f.monolith, "INSERT INTO item VALUES (" + k + ", 'n" + k + "', 100)");
        exec(f.service, "INSERT INTO item VALUES (" + k + ", 'n" + k + "', 100)");
      }
      f.start();
      Map<Integer, Integer> stock = new HashMap<>();
      Map<Integer, String> monolithName = new HashMap<>();
      Map<Integer, String> serviceName = new HashMap<>();
      int serial = 0;
      for (Step step : steps) {
        JdbcDataSource side = step.monolith() ? f.monolith : f.service;
        if (step.kind() <= 5) {
          exec(side, "UPDATE item SET stock = stock + (" + step.amount() + ") WHERE id = " + step.key());
          stock.merge(step.key(), step.amount(), Integer::sum);
        } else if (step.kind() <= 7) {
          // A small pool of names, so sides often write the same value (the coincidences value checks must survive).
          String name = "c" + Math.floorMod(step.amount() + serial++, 3);
          exec(side, "UPDATE item SET name = '" + name + "' WHERE id = " + step.key());
          (step.monolith() ? monolithName : serviceName).put(step.key(), name);
        } else if (step.kind() == 8) {
          partition(f, step.monolith());
        } else {
          f.stop();
          f.start();
        }
      }
      heal(f);
      f.awaitQuiet();
      List<String> monolith = rows(f.monolith, "SELECT id, name, stock FROM item ORDER BY id");
      List<String> service = rows(f.service, "SELECT id, name, stock FROM item ORDER BY id");
      assertEquals(monolith, service, "both sides hold the same rows after " + steps);
      for (int k = 1; k <= KEYS; k++) {
        String[] row = monolith.get(k - 1).split("\\|");
        assertEquals(100 + stock.getOrDefault(k, 0), Integer.parseInt(row[2]), "stock of " + k + " after " + steps);
        List<String> allowed = new ArrayList<>();
        allowed.add("n" + k);
        if (monolithName.containsKey(k)) {
          allowed.add(monolithName.get(k));
        }
        if (serviceName.containsKey(k)) {
          allowed.add(serviceName.get(k));
        }
        if (monolithName.containsKey(k) || serviceName.containsKey(k)) {
          allowed.remove("n" + k);
        }
        assertTrue(allowed.contains(row[1]), "name of " + k + " is " + row[1] + ", expected one of " + allowed
            + " after " + steps);
      }
    } catch (Exception e) {
      throw new AssertionError("chaos run failed after " + steps, e);
    } finally {
      TestSupport.delete(dir);
    }
  }

  /** Cuts one side's capture: its changes wait in its change table until {@link #heal}. */
  private static void partition(H2SyncFixture f, boolean monolith) {
    TriggerCapture capture = monolith ? f.monolithCapture : f.serviceCapture;
    if (capture != null) {
      capture.close();
      if (monolith) {
        f.monolithCapture = null;
      } else {
        f.serviceCapture = null;
      }
    }
  }

  private static void heal(H2SyncFixture f) throws Exception {
    if (f.monolithCapture == null) {
      f.monolithCapture = TriggerCapture.builder(Side.MONOLITH, f.monolith).tables("item")
          .pollInterval(Duration.ofMillis(2)).build();
      f.monolithCapture.start(f.pipeline);
    }
    if (f.serviceCapture == null) {
      f.serviceCapture = TriggerCapture.builder(Side.service("inventory"), f.service).tables("item")
          .pollInterval(Duration.ofMillis(2)).build();
      f.serviceCapture.start(f.pipeline);
    }
  }
}
