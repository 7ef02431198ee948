package io.cutover.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.cutover.engine.testing.TestSupport;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * With several producers publishing at once, every handler sees each key's changes in publish order, with a thread
 * per stage or one for all.
 */
class PipelineKeyOrderPropertiesTest {

  @Test
  @Timeout(180)
  void perKeyOrderHoldsEndToEndWithConcurrentProducers() {
    qt().withExamples(25).withShrinkCycles(20)
        .forAll(integers().between(1, 4), lists().of(integers().between(0, 11)).ofSizeBetween(1, 400),
            integers().between(0, 1))
        .checkAssert((producers, keysInOrder, single) -> {
          Path dir = TestSupport.tempDir("cutover-order");
          RecordingHandler sink = new RecordingHandler("sink");
          RecordingHandler check = new RecordingHandler("check");
          try (Pipeline pipeline = Pipeline.builder(
              PipelineConfig.builder(JournalConfig.of(dir)).ringSize(32)
                  .stageThreads(single == 1 ? StageThreads.SINGLE : StageThreads.PER_STAGE).build())
              .apply(sink).checksum(check).start()) {
            List<Thread> threads = new ArrayList<>();
            for (int p = 0; p < producers; p++) {
              int producer = p;
              Thread t = new Thread(() -> {
                for (int n = 0; n < keysInOrder.size(); n++) {
                  int key = keysInOrder.get(n);
                  if (key % producers == producer) {
                    pipeline.publish(PipelineTest.change(key, n));
                  }
                }
              });
              threads.add(t);
              t.start();
            }
            for (Thread t : threads) {
              t.join();
            }
            assertTrue(pipeline.awaitIdle(Duration.ofSeconds(30)));
          } catch (InterruptedException e) {
            throw new AssertionError(e);
          } finally {
            TestSupport.delete(dir);
          }
          Map<Long, List<Long>> expected = new HashMap<>();
          for (int n = 0; n < keysInOrder.size(); n++) {
            expected.computeIfAbsent((long) keysInOrder.get(n), k -> new ArrayList<>()).add((long) n);
          }
          for (RecordingHandler handler : List.of(sink, check)) {
            Map<Long, List<Long>> actual = new HashMap<>();
            for (RecordingHandler.Seen seen : handler.seen()) {
              actual.computeIfAbsent(seen.event().key().get("id").asLong(), k -> new ArrayList<>())
                  .add(seen.event().after().get("n").asLong());
            }
            assertEquals(expected, actual, handler.name());
          }
        });
  }
}
