package io.cutover.bench;

import io.cutover.engine.event.EventCodec;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.SyncPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.agrona.ExpandableArrayBuffer;
import org.agrona.collections.Long2LongHashMap;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The whole pipeline, sustained: publish an encoded change (234 bytes) -> journal (append, force at the end
 * of each batch under BATCH) -> idempotent in-memory sink, with the ring full enough that the producer runs at
 * the rate the stages drain. Baseline: the same two stages (journal thread, sink thread) joined by
 * ArrayBlockingQueues, the design the Disruptor replaces.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 3)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsAppend = {"-Xmx2g"})
@State(Scope.Benchmark)
public class PipelineThroughputBenchmark {
  private static final int RING = 16_384;

  @Param({"NONE", "BATCH"})
  public String syncPolicy;

  /** One thread per stage (the default) or one for all ({@link io.cutover.engine.pipeline.StageThreads}). */
  @Param({"PER_STAGE", "SINGLE"})
  public String stageThreads;

  private Path dir;
  private Pipeline pipeline;
  private ExpandableArrayBuffer record;
  private int length;
  private long key;

  private Journal baselineJournal;
  private BlockingQueue<byte[]> toJournal;
  private BlockingQueue<byte[]> toSink;
  private Thread journalThread;
  private Thread sinkThread;
  private volatile boolean running;
  private byte[] baselineRecord;

  @Setup(Level.Trial)
  public void setUp() {
    dir = BenchEvents.tempDir("bench-pipeline");
    record = BenchEvents.encodedOrderUpdate(1);
    length = BenchEvents.length(record);
    SyncPolicy policy = SyncPolicy.valueOf(syncPolicy);
    pipeline = Pipeline.builder(PipelineConfig.builder(
            JournalConfig.builder(dir.resolve("journal")).syncPolicy(policy).build()).ringSize(RING)
            .stageThreads(io.cutover.engine.pipeline.StageThreads.valueOf(stageThreads)).build())
        .apply(new BenchEvents.IdempotentMemorySink())
        .start();
    startBaseline(policy);
  }

  private void startBaseline(SyncPolicy policy) {
    baselineJournal = Journal.open(JournalConfig.builder(dir.resolve("baseline")).syncPolicy(policy).build());
    toJournal = new ArrayBlockingQueue<>(RING);
    toSink = new ArrayBlockingQueue<>(RING);
    baselineRecord = new byte[length];
    record.getBytes(0, baselineRecord);
    running = true;
    org.agrona.concurrent.UnsafeBuffer view = new org.agrona.concurrent.UnsafeBuffer(new byte[0]);
    journalThread = new Thread(() -> {
      try {
        while (running) {
          byte[] item = toJournal.poll(10, TimeUnit.MILLISECONDS);
          if (item == null) {
            continue;
          }
          view.wrap(item);
          baselineJournal.append(view, 0, item.length);
          if (toJournal.isEmpty()) {
            baselineJournal.flush();
          }
          toSink.put(item);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "baseline-journal");
    Long2LongHashMap applied = new Long2LongHashMap(-1L);
    org.agrona.concurrent.UnsafeBuffer sinkView = new org.agrona.concurrent.UnsafeBuffer(new byte[0]);
    sinkThread = new Thread(() -> {
      long n = 0;
      try {
        while (running) {
          byte[] item = toSink.poll(10, TimeUnit.MILLISECONDS);
          if (item != null) {
            sinkView.wrap(item);
            applied.put(EventCodec.keyHash(sinkView, 0), ++n);
          }
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "baseline-sink");
    journalThread.setDaemon(true);
    sinkThread.setDaemon(true);
    journalThread.start();
    sinkThread.start();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws InterruptedException {
    pipeline.awaitIdle(Duration.ofSeconds(60));
    pipeline.close();
    running = false;
    journalThread.join();
    sinkThread.join();
    baselineJournal.close();
    BenchEvents.delete(dir);
  }

  /**
   * Publish one change through the Disruptor pipeline.
   *
   * @return the ring sequence.
   */
  @Benchmark
  public long pipeline() {
    record.putLong(EventCodec.HEADER_BYTES - 8, ++key & 0xFFFF);
    return pipeline.publishEncoded(record, 0, length);
  }

  /**
   * Put one change into the BlockingQueue twin (baseline).
   *
   * @throws InterruptedException never in practice.
   */
  @Benchmark
  public void blockingQueues() throws InterruptedException {
    toJournal.put(baselineRecord);
  }
}
