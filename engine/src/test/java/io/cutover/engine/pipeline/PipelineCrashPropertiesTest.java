package io.cutover.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.longs;

import io.cutover.engine.event.EventCodec;
import io.cutover.engine.pipeline.LedgerSink.Entry;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.JournalReader;
import io.cutover.engine.testing.TestSupport;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * For any stream of changes and any crash point, a real JVM killed with SIGKILL and restarted hands every
 * acknowledged change to every handler exactly once in effect, in per-key order, whether the stages run on a thread
 * each or on one thread (the worker and the recovery differ).
 */
class PipelineCrashPropertiesTest {

  @Test
  @Timeout(value = 10, unit = TimeUnit.MINUTES)
  void acknowledgedChangesSurviveSigkillExactlyOnceInKeyOrder() {
    qt().withExamples(12).withShrinkCycles(4)
        .forAll(integers().between(1, 4_000), integers().between(1, 16), integers().between(0, 100), longs().all())
        .checkAssert(PipelineCrashPropertiesTest::killAndRecover);
  }

  private static void killAndRecover(int count, int keys, int killPercent, long seed) {
    Path dir = TestSupport.tempDir("cutover-crash");
    try {
      Set<Long> acked = runWorkerAndKill(dir, count, keys, seed, (long) count * killPercent / 100);
      try (LedgerSink apply = new LedgerSink("ledger", dir.resolve("apply.ledger"));
           LedgerSink checksum = new LedgerSink("ledger-check", dir.resolve("checksum.ledger"));
           // recovery runs the other threading than the killed worker: the journal and checkpoints are the same
           Pipeline pipeline = CrashWorker.open(dir, apply, checksum, CrashWorker.threads(seed + 1))) {
        assertTrue(pipeline.awaitIdle(Duration.ofSeconds(60)), "recovery did not drain");
      }
      Set<Long> journaled = journaledEventNumbers(dir.resolve("journal"));
      assertTrue(journaled.containsAll(acked), "an acknowledged change is missing from the journal");
      List<Entry> applied = LedgerSink.read(dir.resolve("apply.ledger"));
      List<Entry> checked = LedgerSink.read(dir.resolve("checksum.ledger"));
      assertExactlyOnceInKeyOrder("apply", applied, journaled);
      assertExactlyOnceInKeyOrder("checksum", checked, journaled);
      assertEquals(applied, checked, "every stage sees the same changes in the same order");
    } catch (IOException | InterruptedException e) {
      throw new AssertionError(e);
    } finally {
      TestSupport.delete(dir);
    }
  }

  private static void assertExactlyOnceInKeyOrder(String stage, List<Entry> entries, Set<Long> journaled) {
    Set<Long> indexes = new HashSet<>();
    Map<Long, Long> lastEventOfKey = new HashMap<>();
    Set<Long> eventNumbers = new TreeSet<>();
    for (Entry entry : entries) {
      assertTrue(indexes.add(entry.journalIndex()), stage + " applied journal index " + entry.journalIndex() + " twice");
      assertTrue(eventNumbers.add(entry.eventNo()), stage + " applied change " + entry.eventNo() + " twice");
      Long previous = lastEventOfKey.put(entry.key(), entry.eventNo());
      if (previous != null && previous > entry.eventNo()) {
        fail(stage + " applied change " + entry.eventNo() + " of key " + entry.key() + " after change " + previous);
      }
    }
    assertEquals(journaled, eventNumbers, stage + " must hold exactly the journaled changes");
  }

  private static Set<Long> runWorkerAndKill(Path dir, int count, int keys, long seed, long killAfterAcks)
      throws IOException, InterruptedException {
    List<String> command = TestSupport.javaCommand(CrashWorker.class, dir.toString(), Integer.toString(count),
        Integer.toString(keys), Long.toString(seed));
    Process process = new ProcessBuilder(command)
        .redirectError(dir.resolve("worker.err").toFile())
        .start();
    Set<Long> acked = new HashSet<>();
    boolean ready = false;
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.equals("READY")) {
          ready = true;
        } else if (line.startsWith("ACK ")) {
          acked.add(Long.parseLong(line.substring(4)));
        }
        if (ready && (acked.size() >= killAfterAcks || line.equals("DONE"))) {
          break;
        }
      }
    } finally {
      process.destroyForcibly(); // SIGKILL: no shutdown hooks, no flush, no close
      process.waitFor(30, TimeUnit.SECONDS);
    }
    if (!ready) {
      fail("worker never became ready: " + Files.readString(dir.resolve("worker.err")));
    }
    assertEquals(137, process.exitValue(), "the worker must die of SIGKILL");
    return acked;
  }

  private static Set<Long> journaledEventNumbers(Path journalDir) {
    Set<Long> numbers = new HashSet<>();
    try (Journal journal = Journal.open(JournalConfig.of(journalDir));
         JournalReader reader = journal.readAfter(Journal.NO_INDEX)) {
      while (reader.next((index, buffer, offset, length) ->
          numbers.add(EventCodec.decode(buffer, offset, length).after().get("n").asLong()))) {
        // collects
      }
    }
    return numbers;
  }

  static String describe(Set<Long> numbers) {
    return numbers.stream().sorted().map(String::valueOf).collect(Collectors.joining(","));
  }
}
