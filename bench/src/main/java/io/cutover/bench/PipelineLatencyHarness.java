package io.cutover.bench;

import io.cutover.engine.event.EventCodec;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.ChangeRecord;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.pipeline.WaitStrategyKind;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.SyncPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.agrona.ExpandableArrayBuffer;

/**
 * Publish-to-applied latency at a fixed rate. One producer publishes encoded changes on a fixed schedule (every
 * change due, then a 50 us sleep) and stamps each with its intended send time; the sink records (now - intended) once per batch for every change of
 * the batch, so a stall counts against every change it delays (no coordinated omission).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar io.cutover.bench.PipelineLatencyHarness [RATE] [SECONDS] [SYNC] [WAIT] [PRETOUCH]
 * </pre>
 */
public final class PipelineLatencyHarness {
  private static final long TICK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

  private PipelineLatencyHarness() {}

  /** Records latency from the intended send time carried in the position field. */
  static final class LatencySink implements ChangeHandler {
    private static final boolean TRACE = Boolean.getBoolean("cutover.bench.trace");
    private static final long TRACE_NANOS = Long.getLong("cutover.bench.traceMicros", 5_000) * 1_000L;
    private static final long T0 = System.nanoTime();
    final Histogram histogram = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    private final long[] batchIntended = new long[1 << 16];
    private int inBatch;
    final Histogram warmup = new Histogram(TimeUnit.SECONDS.toNanos(10), 3);
    volatile long measureFrom = Long.MAX_VALUE;
    volatile long applied;

    @Override
    public String name() {
      return "latency-sink";
    }

    @Override
    public void onChange(ChangeRecord change) {
      if (inBatch < batchIntended.length) {
        batchIntended[inBatch++] = EventCodec.positionValue(change.buffer(), 0);
      }
      applied++;
    }

    @Override
    public void onBatchEnd() {
      long now = System.nanoTime();
      if (TRACE && inBatch > 0 && now - batchIntended[0] > TRACE_NANOS) {
        System.out.printf("stall t=%.3f s mono=%.6f batch=%d oldest=%.1f ms applied=%d%n", (now - T0) / 1e9,
            now / 1e9, inBatch,
            (now - batchIntended[0]) / 1e6, applied);
      }
      // Warm-up changes are recorded too, in a histogram of their own, so the measured path is already compiled.
      long from = measureFrom;
      for (int i = 0; i < inBatch; i++) {
        long latency = Math.min(Math.max(0, now - batchIntended[i]), TimeUnit.SECONDS.toNanos(10));
        (batchIntended[i] >= from ? histogram : warmup).recordValue(latency);
      }
      inBatch = 0;
    }
  }

  /** Result of one run. */
  record Result(long rate, long published, long p50, long p90, long p99, long p999, long max) {}

  /**
   * Runs the harness and prints one line per rate.
   *
   * @param args target rate per second (default 100000), seconds (default 10), sync policy (default BATCH),
   *     wait strategy (default PARKING), pretouch (default true).
   * @throws Exception on failure.
   */
  public static void main(String[] args) throws Exception {
    long rate = args.length > 0 ? Long.parseLong(args[0]) : 100_000;
    int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 10;
    SyncPolicy policy = args.length > 2 ? SyncPolicy.valueOf(args[2]) : SyncPolicy.BATCH;
    WaitStrategyKind wait = args.length > 3 ? WaitStrategyKind.valueOf(args[3]) : WaitStrategyKind.PARKING;
    boolean pretouch = args.length <= 4 || Boolean.parseBoolean(args[4]);
    Result r = run(rate, seconds, policy, wait, pretouch);
    System.out.printf("rate=%d/s sync=%s wait=%s pretouch=%s published=%d publish-to-applied us: p50=%d p90=%d "
        + "p99=%d p99.9=%d max=%d%n", r.rate(), policy, wait, pretouch, r.published(), r.p50(), r.p90(), r.p99(),
        r.p999(), r.max());
  }

  static Result run(long rate, int seconds, SyncPolicy policy, WaitStrategyKind wait, boolean pretouch)
      throws Exception {
    Path dir = BenchEvents.tempDir("bench-latency");
    LatencySink sink = new LatencySink();
    ExpandableArrayBuffer record = BenchEvents.encodedOrderUpdate(1);
    int length = BenchEvents.length(record);
    long published = 0;
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(
            JournalConfig.builder(dir.resolve("journal")).syncPolicy(policy).pretouch(pretouch).build())
            .waitStrategy(wait).stageThreads(io.cutover.engine.pipeline.StageThreads.valueOf(
                System.getProperty("cutover.bench.stageThreads", "PER_STAGE"))).build())
        .apply(sink).start()) {
      long interval = TimeUnit.SECONDS.toNanos(1) / rate;
      long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(BenchEvents.warmupSeconds(5));
      long start = System.nanoTime();
      long end = warmupEnd + TimeUnit.SECONDS.toNanos(seconds);
      sink.measureFrom = warmupEnd;
      long next = start;
      while (next < end) {
        long now = System.nanoTime();
        // Publish everything due, then sleep: a producer that spins would take a core from the stages on a
        // small machine. Latency counts from each change's intended time, so the burst delay is charged too.
        while (next <= now && next < end) {
          record.putLong(24, next); // the position field carries the intended send time
          record.putLong(32, published & 0xFFFF);
          pipeline.publishEncoded(record, 0, length);
          if (next >= warmupEnd) {
            published++;
          }
          next += interval;
        }
        LockSupport.parkNanos(TICK_NANOS);
      }
      pipeline.awaitIdle(Duration.ofSeconds(30));
      if (Boolean.getBoolean("cutover.bench.stages")) {
        pipeline.stats().stages().forEach(stage -> System.out.println("  " + stage));
      }
    } finally {
      BenchEvents.delete(dir);
    }
    Histogram h = sink.histogram;
    return new Result(rate, published, micros(h.getValueAtPercentile(50)), micros(h.getValueAtPercentile(90)),
        micros(h.getValueAtPercentile(99)), micros(h.getValueAtPercentile(99.9)), micros(h.getMaxValue()));
  }

  private static long micros(long nanos) {
    return TimeUnit.NANOSECONDS.toMicros(nanos);
  }
}
