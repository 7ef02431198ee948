package io.cutover.engine.pipeline;

import static io.cutover.engine.testing.TestSupport.exec;
import static io.cutover.engine.testing.TestSupport.rows;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.apply.JdbcApplier;
import io.cutover.engine.apply.TableMapping;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.testing.Collector;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.h2.jdbcx.JdbcDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replay from a journal index on a running pipeline: a target restored from an old backup gets its rows back
 * from the journal while new changes keep flowing; only the named handler sees the re-delivery; checkpoints and
 * the target's position never move back; wrong requests are refused with what is wrong.
 */
class PipelineReplayTest {
  @TempDir Path dir;

  private static ChangeEvent item(long id, String name) {
    return ChangeEvent.builder(Side.MONOLITH, "item", Operation.INSERT).key(Row.of("id", Value.of(id)))
        .after(Row.of("id", Value.of(id), "name", Value.of(name))).build();
  }

  @Test
  void aRunningPipelineReplaysTheJournalToOneHandler() throws Exception {
    JdbcDataSource target = new JdbcDataSource();
    target.setURL("jdbc:h2:mem:replay-" + System.nanoTime() + ";DB_CLOSE_DELAY=-1");
    exec(target, "CREATE TABLE item (id BIGINT PRIMARY KEY, name VARCHAR(20))");
    Collector collector = new Collector();
    try (JdbcApplier applier = JdbcApplier.builder("applier", target).map(TableMapping.identity("item")).build();
         Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
             .build()).apply(applier, collector).start()) {
      long fifth = 0;
      for (long id = 1; id <= 10; id++) {
        long index = pipeline.publish(item(id, "v1")).get(10, TimeUnit.SECONDS);
        if (id == 5) {
          fifth = index;
        }
      }
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      long checkpoint = pipeline.handledIndex();
      exec(target, "DELETE FROM item WHERE id > 3"); // the target restored from a backup taken after item 3

      assertEquals(10L, pipeline.replay("applier", Journal.NO_INDEX).get(10, TimeUnit.SECONDS),
          "every journaled change, once");
      assertEquals(10, rows(target, "SELECT id FROM item").size(), "the target has its rows back");
      assertEquals(10, collector.events.size(), "the other handler saw nothing of it");
      assertEquals(5L, pipeline.replay("applier", fifth).get(10, TimeUnit.SECONDS), "from an index: the rest");
      assertTrue(pipeline.handledIndex() >= checkpoint, "checkpoints never move back");

      long eleventh = pipeline.publish(item(11, "v1")).get(10, TimeUnit.SECONDS);
      assertEquals(11L, pipeline.replay("collector", Journal.NO_INDEX).get(10, TimeUnit.SECONDS));
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      assertEquals(22, collector.events.size(), "11 changes, then all 11 again (the replay requests are not)");
      assertTrue(collector.events.stream().noneMatch(e -> e.table().startsWith("cutover_")));
      assertEquals(6L, pipeline.replay("apply.applier", fifth).get(10, TimeUnit.SECONDS), "by consumer name too");
      assertTrue(Long.parseLong(rows(target, "SELECT journal_index FROM cutover_apply_position").get(0)) >= eleventh,
          "the target's position did not move back");
      assertEquals(0L, pipeline.replay("applier", pipeline.journal().lastIndex()).get(), "nothing after the last");

      IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
          () -> pipeline.replay("nobody", Journal.NO_INDEX));
      assertTrue(unknown.getMessage().contains("no pipeline handler is named 'nobody' (handlers: [applier, "
          + "collector])"), unknown.getMessage());
      IllegalArgumentException beyond = assertThrows(IllegalArgumentException.class,
          () -> pipeline.replay("applier", pipeline.journal().lastIndex() + 5));
      assertTrue(beyond.getMessage().contains("beyond the last one journaled"), beyond.getMessage());
    }
  }
}
