package io.cutover.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.JournalConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The README's "Embedding the pipeline" example, compiled and run so it cannot drift. */
@Timeout(30)
class ReadmeExampleTest {
  @TempDir Path dir;

  @Test
  void theReadmeExampleRuns() throws Exception {
    List<String> statuses = new ArrayList<>();
    ChangeHandler mySink = new ChangeHandler() {
      @Override
      public String name() {
        return "my-sink";
      }

      @Override
      public void onChange(ChangeRecord change) {
        statuses.add(change.decode().after().get("status").asString());
      }
    };
    long index;
    // --- README example (with the journal directory in a temporary folder) ---
    PipelineConfig config = PipelineConfig.builder(JournalConfig.of(dir.resolve("journal"))).build();
    try (Pipeline pipeline = Pipeline.builder(config).apply(mySink).start()) {
      ChangeEvent change = ChangeEvent.builder(Side.MONOLITH, "orders", Operation.UPDATE)
          .key(Row.of("id", Value.of(42)))
          .after(Row.of("id", Value.of(42), "status", Value.of("paid")))
          .build();
      long journalIndex = pipeline.publish(change).join(); // durable in the journal now
      // --- end of README example ---
      index = journalIndex;
      pipeline.awaitIdle(Duration.ofSeconds(10));
      assertEquals(journalIndex, pipeline.journal().lastIndex());
    }
    assertEquals(List.of("paid"), statuses);
    assertEquals(true, index > 0);
  }
}
