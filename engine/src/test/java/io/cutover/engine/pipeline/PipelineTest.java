package io.cutover.engine.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.cutover.engine.clock.HybridLogicalClock;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.event.Operation;
import io.cutover.engine.event.Row;
import io.cutover.engine.event.Side;
import io.cutover.engine.event.Value;
import io.cutover.journal.JournalConfig;
import io.cutover.journal.JournalException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.agrona.ExpandableArrayBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(60)
class PipelineTest {
  @TempDir Path dir;

  private PipelineConfig.Builder config() {
    return PipelineConfig.builder(JournalConfig.of(dir.resolve("journal"))).ringSize(1024);
  }

  static ChangeEvent change(long key, long n) {
    return CrashWorker.change(key, n);
  }

  /**
   * A handler behind by a whole ring (the catch-up after a restart) still gets bounded batches: each is one database
   * transaction and one state commit (an engine with a small heap ran out of memory committing a 16,384-change
   * batch of a backfill's rows).
   */
  @Test
  void aHandlerFarBehindGetsItsChangesInBoundedBatches() throws Exception {
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    int[] inBatch = {0};
    int[] largest = {0};
    long[] handled = {0};
    ChangeHandler slow = new ChangeHandler() {
      @Override
      public String name() {
        return "slow";
      }

      @Override
      public void onChange(ChangeRecord change) throws Exception {
        release.await();
        inBatch[0]++;
        handled[0]++;
      }

      @Override
      public void onBatchEnd() {
        largest[0] = Math.max(largest[0], inBatch[0]);
        inBatch[0] = 0;
      }
    };
    int changes = 12_000;
    try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir.resolve("journal")))
        .ringSize(16_384).build()).apply(slow).start()) { // a thread per stage: the journal runs on meanwhile
      CompletableFuture<?> last = null;
      for (int n = 0; n < changes; n++) {
        last = pipeline.publish(change(n % 7, n));
      }
      last.get(10, TimeUnit.SECONDS); // all journaled while the handler waits on its first change
      release.countDown();
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(30)));
    }
    assertEquals(changes, handled[0]);
    assertTrue(largest[0] <= 2_048 && largest[0] > 1, "largest batch " + largest[0]);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(StageThreads.class)
  void shouldAcknowledgeOnceJournaledAndHandEveryChangeToEachStageInOrder(StageThreads threads) throws Exception {
    RecordingHandler resolve = new RecordingHandler("resolver");
    RecordingHandler apply = new RecordingHandler("sink", resolve::lastIndex, -1);
    RecordingHandler checksum = new RecordingHandler("merkle", apply::lastIndex, -1);
    List<Long> indexes = new ArrayList<>();
    try (Pipeline pipeline = Pipeline.builder(config().stageThreads(threads).build())
        .resolve(resolve).apply(apply).checksum(checksum).start()) {
      for (int n = 0; n < 500; n++) {
        indexes.add(pipeline.publish(change(n % 7, n)).get(10, TimeUnit.SECONDS));
      }
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      assertEquals(indexes.get(indexes.size() - 1), pipeline.journal().lastIndex());
      PipelineStats stats = pipeline.stats();
      assertEquals(500, stats.published());
      assertEquals(500, stats.durable());
      assertEquals(0, stats.inFlight());
      assertEquals(500, stats.stage("sink").handled());
      assertEquals(indexes.get(499), stats.stage("merkle").checkpoint());
      assertEquals(500, stats.stage("journal").handled());
      assertTrue(stats.stage("sink").p99Micros() >= stats.stage("sink").p50Micros());
      assertThrows(IllegalArgumentException.class, () -> stats.stage("nope"));
    }
    for (RecordingHandler handler : List.of(resolve, apply, checksum)) {
      List<RecordingHandler.Seen> seen = handler.seen();
      assertEquals(500, seen.size());
      for (int n = 0; n < 500; n++) {
        assertEquals(indexes.get(n), seen.get(n).journalIndex());
        assertEquals(change(n % 7, n).after(), seen.get(n).event().after());
        assertTrue(seen.get(n).event().hlc() > 0, "the pipeline stamps a hybrid-logical-clock timestamp");
      }
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(StageThreads.class)
  void shouldReplayWhatAHandlerHadNotCheckpointedAfterRestart(StageThreads threads) throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    AtomicInteger entered = new AtomicInteger();
    ChangeHandler stuck = new ChangeHandler() {
      @Override
      public String name() {
        return "sink";
      }

      @Override
      public void onChange(ChangeRecord change) throws Exception {
        entered.incrementAndGet();
        never.await();
      }
    };
    List<Long> acked = new ArrayList<>();
    try (Pipeline pipeline = Pipeline.builder(config().stageThreads(threads).drainTimeout(Duration.ofMillis(200))
        .build())
        .apply(stuck).start()) {
      List<java.util.concurrent.CompletableFuture<Long>> futures = new ArrayList<>();
      for (int n = 0; n < 50; n++) {
        futures.add(pipeline.publish(change(n % 3, n)));
      }
      if (threads == StageThreads.PER_STAGE) {
        // the journal runs ahead of the stuck handler: every change is acknowledged
        for (java.util.concurrent.CompletableFuture<Long> future : futures) {
          acked.add(future.get(10, TimeUnit.SECONDS));
        }
      } else {
        // one thread for all: the stuck handler holds the journaling of later batches; what was acknowledged is
        // a prefix, the rest fails when the pipeline closes
        futures.get(0).get(10, TimeUnit.SECONDS);
        while (entered.get() == 0) {
          Thread.sleep(1);
        }
      }
      pipeline.close();
      if (threads == StageThreads.SINGLE) {
        for (java.util.concurrent.CompletableFuture<Long> future : futures) {
          if (future.isCompletedExceptionally()) {
            break;
          }
          acked.add(future.get(10, TimeUnit.SECONDS));
        }
        assertTrue(futures.get(49).isCompletedExceptionally() || acked.size() == 50);
      }
    }
    assertTrue(entered.get() >= 1);
    int n0 = acked.size();
    RecordingHandler sink = new RecordingHandler("sink");
    try (Pipeline pipeline = Pipeline.builder(config().stageThreads(threads).build()).apply(sink).start()) {
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      assertEquals(n0, pipeline.stats().replayed(), "every acknowledged change, and only those, replayed");
      assertEquals(0, pipeline.stats().published());
      long fresh = pipeline.publish(change(1, 50)).get(10, TimeUnit.SECONDS);
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      List<RecordingHandler.Seen> seen = sink.seen();
      assertEquals(n0 + 1, seen.size());
      for (int n = 0; n < n0; n++) {
        assertEquals(acked.get(n), seen.get(n).journalIndex());
        assertTrue(seen.get(n).replayed());
      }
      assertEquals(fresh, seen.get(n0).journalIndex());
      assertFalse(seen.get(n0).replayed());
      assertTrue(seen.get(n0).event().hlc() > seen.get(n0 - 1).event().hlc(),
          "the clock moves past replayed timestamps");
    }
    RecordingHandler again = new RecordingHandler("sink");
    try (Pipeline pipeline = Pipeline.builder(config().stageThreads(threads).build()).apply(again).start()) {
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      assertEquals(0, pipeline.stats().replayed(), "a checkpointed handler gets nothing twice");
    }
    assertTrue(again.seen().isEmpty());
  }

  @Test
  void shouldSkipWhatAHandlerAlreadyHoldsDurably() throws Exception {
    List<Long> indexes = new ArrayList<>();
    try (Pipeline pipeline = Pipeline.builder(config().build()).start()) {
      for (int n = 0; n < 10; n++) {
        indexes.add(pipeline.publish(change(n, n)).get(10, TimeUnit.SECONDS));
      }
    }
    RecordingHandler sink = new RecordingHandler("sink", null, indexes.get(6));
    try (Pipeline pipeline = Pipeline.builder(config().build()).apply(sink).start()) {
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
    }
    assertEquals(indexes.subList(7, 10), sink.seen().stream().map(RecordingHandler.Seen::journalIndex).toList());
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(StageThreads.class)
  void shouldRetryAFailingHandlerWithoutSkippingOrReordering(StageThreads threads) throws Exception {
    AtomicInteger failuresLeft = new AtomicInteger(5);
    List<Long> applied = new ArrayList<>();
    ChangeHandler flaky = new ChangeHandler() {
      @Override
      public String name() {
        return "flaky";
      }

      @Override
      public void onChange(ChangeRecord change) {
        if (change.decode().after().get("n").asLong() == 3 && failuresLeft.getAndDecrement() > 0) {
          throw new IllegalStateException("database unavailable");
        }
        applied.add(change.decode().after().get("n").asLong());
      }

      @Override
      public void onBatchEnd() {
        if (failuresLeft.get() == 0 && failuresLeft.compareAndSet(0, -100)) {
          throw new IllegalStateException("commit failed once");
        }
      }
    };
    try (Pipeline pipeline = Pipeline.builder(config().stageThreads(threads)
        .retryBackoff(Duration.ofMillis(1), Duration.ofMillis(4))
        .build()).apply(flaky).start()) {
      for (int n = 0; n < 8; n++) {
        pipeline.publish(change(n, n)).get(10, TimeUnit.SECONDS);
      }
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
    }
    assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L), applied);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(StageThreads.class)
  void shouldSlowProducersWithoutLossOrUnboundedMemoryWhenASinkIsSlow(StageThreads threads) throws Exception {
    int ringSize = 64;
    AtomicLong applied = new AtomicLong();
    ChangeHandler slow = new ChangeHandler() {
      @Override
      public String name() {
        return "slow";
      }

      @Override
      public void onChange(ChangeRecord change) {
        applied.incrementAndGet();
      }

      @Override
      public void onBatchEnd() throws InterruptedException {
        Thread.sleep(1);
      }
    };
    int producers = 4;
    int perProducer = 1_500;
    long maxInFlight = 0;
    try (Pipeline pipeline = Pipeline.builder(config().stageThreads(threads).ringSize(ringSize).build()).apply(slow)
        .start()) {
      ExecutorService pool = Executors.newFixedThreadPool(producers);
      List<Future<?>> done = new ArrayList<>();
      for (int p = 0; p < producers; p++) {
        int producer = p;
        done.add(pool.submit(() -> {
          for (int n = 0; n < perProducer; n++) {
            pipeline.publish(change(producer, n));
          }
          return null;
        }));
      }
      while (!done.stream().allMatch(Future::isDone)) {
        PipelineStats stats = pipeline.stats();
        maxInFlight = Math.max(maxInFlight, stats.inFlight());
        Thread.sleep(2);
      }
      for (Future<?> f : done) {
        f.get();
      }
      pool.shutdown();
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(30)));
      assertEquals(producers * perProducer, pipeline.stats().durable());
    }
    assertEquals(producers * perProducer, applied.get(), "nothing dropped");
    assertTrue(maxInFlight <= ringSize + producers,
        "in flight " + maxInFlight + " exceeded the ring plus one waiting claim per producer");
    assertTrue(maxInFlight > ringSize / 2, "the slow sink should have filled the ring, saw " + maxInFlight);
  }

  @Test
  void shouldPublishEncodedChangesWithoutAFutureAndStampTheirClock() throws Exception {
    ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(128);
    RecordingHandler sink = new RecordingHandler("sink");
    AtomicLong wall = new AtomicLong(1_000_000);
    try (Pipeline pipeline = Pipeline.builder(config().build()).apply(sink)
        .clock(new HybridLogicalClock(wall::get)).start()) {
      int length = EventCodec.encode(change(1, 1), buffer, 3);
      long sequence = pipeline.publishEncoded(buffer, 3, length);
      assertTrue(pipeline.awaitDurable(sequence, Duration.ofSeconds(10)));
      long remote = HybridLogicalClock.timestamp(5_000_000, 3);
      length = EventCodec.encode(change(1, 2).withHlc(remote), buffer, 0);
      pipeline.awaitDurable(pipeline.publishEncoded(buffer, 0, length), Duration.ofSeconds(10));
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      assertEquals(HybridLogicalClock.timestamp(1_000_000, 0), sink.seen().get(0).event().hlc());
      assertEquals(remote, sink.seen().get(1).event().hlc(), "a stamped change keeps its timestamp");
      assertTrue(pipeline.clock().now() > remote, "and the clock moves past it");
      assertFalse(pipeline.awaitDurable(sequence + 100, Duration.ofMillis(20)));
    }
  }

  @Test
  void shouldRejectBadInputWithoutPublishingAnything() throws Exception {
    try (Pipeline pipeline = Pipeline.builder(config().maxEventBytes(128).build()).start()) {
      ChangeEvent huge = ChangeEvent.builder(Side.MONOLITH, "t", Operation.INSERT)
          .key(Row.of("id", Value.of(1))).after(Row.of("id", Value.of(1), "blob", Value.of("x".repeat(500))))
          .build();
      IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class, () -> pipeline.publish(huge));
      assertTrue(tooBig.getMessage().contains("over maxEventBytes 128"), tooBig.getMessage());
      ExpandableArrayBuffer buffer = new ExpandableArrayBuffer(64);
      IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class,
          () -> pipeline.publishEncoded(buffer, 0, 10));
      assertTrue(tooShort.getMessage().contains("nothing was published"), tooShort.getMessage());
      int length = EventCodec.encode(change(1, 1), buffer, 0);
      buffer.putByte(0, (byte) 7);
      IllegalArgumentException version = assertThrows(IllegalArgumentException.class,
          () -> pipeline.publishEncoded(buffer, 0, length));
      assertTrue(version.getMessage().contains("format version 7"), version.getMessage());
      assertEquals(0, pipeline.stats().published());
      assertEquals(-1, pipeline.journal().lastIndex());
      pipeline.close();
      assertThrows(IllegalStateException.class, () -> pipeline.publish(change(1, 1)));
      assertThrows(IllegalStateException.class, () -> pipeline.publishEncoded(buffer, 0, length));
    }
  }

  /**
   * A handler whose own record is behind its checkpoint (it lost its last commits, as a state store can when the
   * engine is killed): it resumes from its own position, and the checkpoint goes back with it. Before, the first
   * commit after the restart was refused ("cannot go back"), the stage failed past the batch, and the one-thread
   * stages then read ring slots the publishers had reused (changes decoded as garbage, rows left apart in the soak).
   */
  @Test
  void aHandlerBehindItsCheckpointResumesFromItsOwnPositionAndKeepsWorking() throws Exception {
    for (StageThreads threads : StageThreads.values()) {
      java.nio.file.Path journal = dir.resolve("behind-" + threads);
      long[] indexes = new long[10];
      RecordingHandler first = new RecordingHandler("sink");
      try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(journal))
          .stageThreads(threads).build()).apply(first).start()) {
        for (int i = 0; i < indexes.length; i++) {
          indexes[i] = pipeline.publish(change(i, i)).get(10, TimeUnit.SECONDS);
        }
        assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      }
      RecordingHandler resumed = new RecordingHandler("sink", null, indexes[3]) {
        @Override
        public boolean resumesFromDurablePosition() {
          return true;
        }
      };
      try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(journal))
          .stageThreads(threads).build()).apply(resumed).start()) {
        assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
        long fresh = pipeline.publish(change(1, 99)).get(10, TimeUnit.SECONDS);
        assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
        assertEquals(null, pipeline.failure(), threads + ": the stage works");
        List<Long> seen = resumed.seen().stream().map(RecordingHandler.Seen::journalIndex).toList();
        List<Long> expected = new java.util.ArrayList<>();
        for (int i = 4; i < indexes.length; i++) {
          expected.add(indexes[i]);
        }
        expected.add(fresh);
        assertEquals(expected, seen, threads + ": everything after the handler's own position, once, then the new");
        assertEquals(fresh, pipeline.journal().checkpoint("apply.sink").index(), threads.name());
      }
    }
  }

  /** A failure no retry covers (here an Error from a handler) stops the handlers instead of skipping the change. */
  @Test
  void aFailureNoRetryCoversStopsTheHandlersAndIsReported() throws Exception {
    java.util.concurrent.atomic.AtomicInteger handled = new java.util.concurrent.atomic.AtomicInteger();
    ChangeHandler broken = new ChangeHandler() {
      @Override
      public String name() {
        return "broken";
      }

      @Override
      public void onChange(ChangeRecord change) {
        if (handled.incrementAndGet() == 2) {
          throw new AssertionError("a bug");
        }
      }
    };
    try (Pipeline pipeline = Pipeline.builder(config().build()).apply(broken).start()) {
      long firstIndex = pipeline.publish(change(1, 1)).get(10, TimeUnit.SECONDS);
      assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      pipeline.publish(change(2, 2)).get(10, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (pipeline.failure() == null && System.nanoTime() < deadline) {
        Thread.sleep(5);
      }
      assertTrue(pipeline.failure() instanceof AssertionError, String.valueOf(pipeline.failure()));
      long third = pipeline.publish(change(3, 3)).get(10, TimeUnit.SECONDS);
      assertTrue(third > firstIndex, "changes are still journaled");
      Thread.sleep(100);
      assertEquals(2, handled.get(), "nothing handled after the failure");
      assertEquals(firstIndex, pipeline.journal().checkpoint("apply.broken").index(),
          "the checkpoint stays before the failed change");
    }
  }

  @Test
  void shouldRejectInvalidOrDuplicateHandlerNamesBeforeOpeningTheJournal() {
    IllegalArgumentException invalid = assertThrows(IllegalArgumentException.class,
        () -> Pipeline.builder(config().build()).apply(new RecordingHandler("has space")).start());
    assertTrue(invalid.getMessage().contains("'has space' is not valid"), invalid.getMessage());
    IllegalArgumentException twice = assertThrows(IllegalArgumentException.class,
        () -> Pipeline.builder(config().build()).apply(new RecordingHandler("a"))
            .checksum(new RecordingHandler("a")).start());
    assertTrue(twice.getMessage().contains("two pipeline handlers are named 'a'"), twice.getMessage());
  }

  @Test
  void shouldRefuseToStartWhenAHandlerCannotReportItsPosition() {
    ChangeHandler broken = new ChangeHandler() {
      @Override
      public String name() {
        return "broken";
      }

      @Override
      public long durablePosition() throws Exception {
        throw new java.io.IOException("target database unreachable");
      }

      @Override
      public void onChange(ChangeRecord change) {}
    };
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Pipeline.builder(config().build()).apply(broken).start());
    assertTrue(e.getMessage().contains("target database unreachable"), e.getMessage());
    try (Pipeline pipeline = Pipeline.builder(config().build()).start()) {
      assertEquals(-1, pipeline.journal().lastIndex(), "the journal was closed and can be opened again");
    }
  }

  @Test
  void shouldRefuseToStartOnADamagedJournal() throws Exception {
    try (Pipeline pipeline = Pipeline.builder(config().build()).start()) {
      pipeline.publish(change(1, 1)).get(10, TimeUnit.SECONDS);
    }
    java.nio.file.Files.writeString(dir.resolve("journal").resolve("quarantine.txt"), "not-an-index\n");
    JournalException e = assertThrows(JournalException.class, () -> Pipeline.builder(config().build()).start());
    assertTrue(e.getMessage().contains("is not a journal index"), e.getMessage());
  }

  @Test
  void shouldValidateConfigurationNamingTheSetting() {
    JournalConfig journal = JournalConfig.of(dir);
    assertThrows(IllegalArgumentException.class, () -> PipelineConfig.builder(journal).ringSize(1000).build());
    assertThrows(IllegalArgumentException.class, () -> PipelineConfig.builder(journal).maxEventBytes(10).build());
    IllegalArgumentException backoff = assertThrows(IllegalArgumentException.class, () ->
        PipelineConfig.builder(journal).retryBackoff(Duration.ofSeconds(2), Duration.ofSeconds(1)).build());
    assertTrue(backoff.getMessage().contains("retryBackoffMax"), backoff.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> PipelineConfig.builder(journal).drainTimeout(Duration.ZERO).build());
    assertThrows(NullPointerException.class, () -> PipelineConfig.builder(null).build());
  }

  @Test
  void shouldRunUnderEveryWaitStrategy() throws Exception {
    for (WaitStrategyKind kind : WaitStrategyKind.values()) {
      RecordingHandler sink = new RecordingHandler("sink");
      PipelineConfig cfg = PipelineConfig.builder(JournalConfig.of(dir.resolve(kind.name())))
          .ringSize(64).waitStrategy(kind).purgeInterval(Duration.ofNanos(1)).build();
      try (Pipeline pipeline = Pipeline.builder(cfg).apply(sink).start()) {
        CompletableFuture<Long> last = null;
        for (int n = 0; n < 100; n++) {
          last = pipeline.publish(change(n, n));
        }
        last.get(10, TimeUnit.SECONDS);
        assertTrue(pipeline.awaitIdle(Duration.ofSeconds(10)));
      }
      assertEquals(100, sink.seen().size(), kind.name());
    }
  }
}
