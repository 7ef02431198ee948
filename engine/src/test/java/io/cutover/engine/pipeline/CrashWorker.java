package io.cutover.engine.pipeline;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.SyncPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Random;

/**
 * The process the crash properties kill: publishes a deterministic stream of changes through a pipeline with
 * two ledger sinks and prints {@code ACK n} for each change once it is durable. Run as
 * {@code CrashWorker DIR COUNT KEYS SEED}.
 */
public final class CrashWorker {
  private CrashWorker() {}

  /**
   * Runs the worker.
   *
   * @param args journal-and-ledger directory, change count, key count, seed.
   * @throws Exception on failure (the parent sees a non-zero exit).
   */
  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    int count = Integer.parseInt(args[1]);
    int keys = Integer.parseInt(args[2]);
    long seed = Long.parseLong(args[3]);
    try (LedgerSink apply = new LedgerSink("ledger", dir.resolve("apply.ledger"));
         LedgerSink checksum = new LedgerSink("ledger-check", dir.resolve("checksum.ledger"));
         Pipeline pipeline = open(dir, apply, checksum, threads(seed))) {
      System.out.println("READY");
      System.out.flush();
      Random random = new Random(seed);
      for (int n = 0; n < count; n++) {
        int eventNo = n;
        pipeline.publish(change(random.nextInt(keys), n)).thenAccept(index -> {
          synchronized (System.out) {
            System.out.println("ACK " + eventNo);
            System.out.flush();
          }
        });
        if (random.nextInt(50) == 0) {
          Thread.sleep(1);
        }
      }
      pipeline.awaitIdle(Duration.ofSeconds(30));
      System.out.println("DONE");
      System.out.flush();
      Thread.sleep(60_000);
    }
  }

  /** A thread per stage for even seeds, one thread for all for odd ones. */
  static StageThreads threads(long seed) {
    return (seed & 1) == 0 ? StageThreads.PER_STAGE : StageThreads.SINGLE;
  }

  static Pipeline open(Path dir, LedgerSink apply, LedgerSink checksum, StageThreads threads) {
    PipelineConfig config = PipelineConfig.builder(
            JournalConfig.builder(dir.resolve("journal")).syncPolicy(SyncPolicy.NONE).build())
        .ringSize(256)
        .stageThreads(threads)
        .build();
    return Pipeline.builder(config).apply(apply).checksum(checksum).start();
  }

  static ChangeEvent change(long key, long eventNo) {
    return ChangeEvent.builder(Side.MONOLITH, "stock", Operation.UPDATE)
        .key(Row.of("id", Value.of(key)))
        .after(Row.of("id", Value.of(key), "n", Value.of(eventNo)))
        .build();
  }
}
