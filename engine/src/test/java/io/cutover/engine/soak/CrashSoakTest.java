package io.cutover.engine.soak;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.testing.TestSupport;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The crash soak ({@link CrashSoak}) as CI runs it: a short one on PostgreSQL with logical decoding (40 s of load
 * at 2,000 row operations a second on each side, four to a transaction, two kills). Longer records run the same test with
 * properties, e.g. 30 soaks in a row: {@code mvn test -pl engine -am -Dtest=CrashSoakTest
 * -Dsurefire.failIfNoSpecifiedTests=false -Dcutover.soak.runs=30 -Dcutover.soak.captures=logical,trigger,h2,kafka}
 * (rate, writers, seconds, kills, users, items, seed: {@code cutover.soak.*}). Each soak's summary goes to
 * standard output; the first failing soak stops the run.
 */
class CrashSoakTest {
  private static final CrashSoak.Settings DEFAULTS = new CrashSoak.Settings(CrashSoak.Capture.LOGICAL, 2_000, 4, 40,
      2, 20_000, 2_000, 2_000, 180, System.nanoTime(), 4);

  @Test
  @Timeout(value = 6, unit = TimeUnit.HOURS)
  void killedEngineUnderLoadLosesAndDoublesNothing() throws Exception {
    int runs = Integer.getInteger("cutover.soak.runs", 1);
    List<String> summaries = new ArrayList<>();
    for (String capture : System.getProperty("cutover.soak.captures", "logical").split(",")) {
      for (int run = 0; run < runs; run++) {
        CrashSoak.Settings settings = CrashSoak.Settings.fromProperties(CrashSoak.Capture.parse(capture), DEFAULTS)
            .withSeed(Long.getLong("cutover.soak.seed", System.nanoTime()) + run);
        Path work = TestSupport.tempDir("cutover-soak");
        CrashSoak.Result result = CrashSoak.run(settings, work);
        if (result.passed()) {
          TestSupport.delete(work);
        }
        String line = "soak " + (run + 1) + "/" + runs + ": " + result.summary()
            + (result.passed() ? "" : " (journal, state and engine log kept in " + work + ")");
        System.out.println(line);
        summaries.add(line);
        assertTrue(result.passed(), String.join("\n", summaries));
      }
    }
  }
}
