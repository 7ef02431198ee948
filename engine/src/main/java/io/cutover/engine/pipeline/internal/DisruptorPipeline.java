package io.cutover.engine.pipeline.internal;

import com.lmax.disruptor.BusySpinWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.LiteBlockingWaitStrategy;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.EventHandlerGroup;
import com.lmax.disruptor.dsl.ProducerType;
import io.cutover.engine.clock.HybridLogicalClock;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.event.EventCodec;
import io.cutover.engine.pipeline.ChangeHandler;
import io.cutover.engine.pipeline.Pipeline;
import io.cutover.engine.pipeline.PipelineConfig;
import io.cutover.engine.pipeline.PipelineStats;
import io.cutover.engine.pipeline.StageThreads;
import io.cutover.engine.pipeline.StageStats;
import io.cutover.journal.Journal;
import io.cutover.journal.JournalReader;
import io.cutover.journal.RecordHandler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.agrona.DirectBuffer;
import org.agrona.ExpandableArrayBuffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Pipeline} on an LMAX Disruptor multi-producer ring journaled to a {@link Journal}. */
public final class DisruptorPipeline implements Pipeline {
  private static final Logger LOG = LoggerFactory.getLogger(DisruptorPipeline.class);
  private static final Pattern HANDLER_NAME = Pattern.compile("[A-Za-z0-9._-]{1,48}");
  private static final ThreadLocal<ExpandableArrayBuffer> SCRATCH =
      ThreadLocal.withInitial(() -> new ExpandableArrayBuffer(512));
  private static final long WAIT_PARK_NANOS = TimeUnit.MICROSECONDS.toNanos(50);

  /**
   * The handlers of one stage.
   *
   * @param name the stage's name.
   * @param handlers its handlers, run in parallel.
   */
  public record StageSpec(String name, List<ChangeHandler> handlers) {}

  private final PipelineConfig config;
  private final HybridLogicalClock clock;
  private final Journal journal;
  private final Disruptor<EventSlot> disruptor;
  private final RingBuffer<EventSlot> ring;
  private final JournalStage journalStage;
  private final List<HandlerStage> handlerStages = new ArrayList<>();
  private final List<Thread> threads = new CopyOnWriteArrayList<>();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile boolean halted;
  private volatile Throwable failure;
  private final RecordHandler replayPublisher = this::publishReplayed;
  private long replayed;

  private DisruptorPipeline(PipelineConfig config, HybridLogicalClock clock, Journal journal,
      List<StageSpec> stages) {
    this.config = config;
    this.clock = clock;
    this.journal = journal;
    ThreadFactory threadFactory = runnable -> {
      Thread thread = new Thread(runnable, "cutover-stage-" + threads.size());
      thread.setDaemon(true);
      threads.add(thread);
      return thread;
    };
    this.disruptor = new Disruptor<>(EventSlot::new, config.ringSize(), threadFactory, ProducerType.MULTI,
        waitStrategy(config));
    this.ring = disruptor.getRingBuffer();
    this.journalStage = new JournalStage(journal, ring, this, config);
    disruptor.setDefaultExceptionHandler(new LoggingExceptionHandler());
    boolean single = config.stageThreads() == StageThreads.SINGLE;
    EventHandlerGroup<EventSlot> group = single ? null : disruptor.handleEventsWith(journalStage);
    for (StageSpec stage : stages) {
      if (stage.handlers().isEmpty()) {
        continue;
      }
      List<EventHandler<EventSlot>> group2 = new ArrayList<>();
      for (ChangeHandler handler : stage.handlers()) {
        HandlerStage handlerStage = new HandlerStage(stage.name(), handler,
            journal.checkpoint(stage.name() + "." + handler.name()), startAfter(stage.name(), handler), ring, this,
            config);
        handlerStages.add(handlerStage);
        group2.add(handlerStage);
      }
      if (!single) {
        @SuppressWarnings({"unchecked", "rawtypes"})
        EventHandler<EventSlot>[] array = group2.toArray(new EventHandler[0]);
        group = group.then(array);
      }
    }
    if (single) {
      disruptor.handleEventsWith(new SingleThreadStages(journalStage, handlerStages, ring));
    }
  }

  /**
   * Every stage on one thread ({@link StageThreads#SINGLE}): each batch is journaled,
   * made durable and acknowledged first, then handed to each handler in stage order, so no handler sees a change
   * before it is durable, exactly as with a thread per stage.
   */
  private static final class SingleThreadStages implements EventHandler<EventSlot> {
    private final JournalStage journal;
    private final HandlerStage[] handlers;
    private final RingBuffer<EventSlot> ring;
    private long batchStart = -1L;

    SingleThreadStages(JournalStage journal, List<HandlerStage> handlers, RingBuffer<EventSlot> ring) {
      this.journal = journal;
      this.handlers = handlers.toArray(new HandlerStage[0]);
      this.ring = ring;
    }

    @Override
    public void onEvent(EventSlot slot, long sequence, boolean endOfBatch) {
      if (batchStart < 0) {
        batchStart = sequence;
      }
      journal.onEvent(slot, sequence, endOfBatch);
      if (endOfBatch) {
        try {
          for (HandlerStage handler : handlers) {
            for (long s = batchStart; s <= sequence; s++) {
              handler.onEvent(ring.get(s), s, s == sequence);
            }
          }
        } finally {
          batchStart = -1L; // never a start left behind: those slots are the publishers' again
        }
      }
    }
  }

  private long startAfter(String stage, ChangeHandler handler) {
    long checkpoint = journal.checkpoint(stage + "." + handler.name()).index();
    long own;
    try {
      own = handler.durablePosition();
    } catch (Exception e) {
      throw new IllegalStateException(stage + " handler '" + handler.name()
          + "' could not report its durable position: " + e.getMessage(), e);
    }
    if (handler.resumesFromDurablePosition() && own < checkpoint) {
      // The handler's own record is the authority on what it applied (its writes are exactly once by their own
      // positions): a checkpoint ahead of it, left when the handler lost its last commits, goes back with it.
      LOG.warn("{} handler '{}' resumes from its own position {}, behind its checkpoint {}: the checkpoint goes "
          + "back and the journal replays from there", stage, handler.name(), own, checkpoint);
      journal.checkpoint(stage + "." + handler.name()).rewind(own);
    }
    return handler.resumesFromDurablePosition() ? own : Math.max(checkpoint, own);
  }

  /**
   * Opens the journal, wires the stages, starts them and replays; see {@link Pipeline.Builder#start()}.
   *
   * @param config the configuration.
   * @param clock the clock.
   * @param stages the stages after the journal, in order.
   * @return the running pipeline.
   */
  public static DisruptorPipeline start(PipelineConfig config, HybridLogicalClock clock, List<StageSpec> stages) {
    Set<String> names = new HashSet<>();
    for (StageSpec stage : stages) {
      for (ChangeHandler handler : stage.handlers()) {
        String name = handler.name();
        if (name == null || !HANDLER_NAME.matcher(name).matches()) {
          throw new IllegalArgumentException(stage.name() + " handler name '" + name
              + "' is not valid: use 1 to 48 characters from [A-Za-z0-9._-]");
        }
        if (!names.add(name)) {
          throw new IllegalArgumentException("two pipeline handlers are named '" + name + "'");
        }
      }
    }
    Journal journal = Journal.open(config.journal());
    DisruptorPipeline pipeline;
    try {
      pipeline = new DisruptorPipeline(config, clock, journal, stages);
    } catch (RuntimeException e) {
      journal.close();
      throw e;
    }
    pipeline.disruptor.start();
    try {
      pipeline.replay();
    } catch (RuntimeException e) {
      pipeline.close();
      throw e;
    }
    return pipeline;
  }

  private void replay() {
    if (handlerStages.isEmpty()) {
      return;
    }
    long from = Long.MAX_VALUE;
    for (HandlerStage stage : handlerStages) {
      from = Math.min(from, stage.startAfter());
    }
    if (from >= journal.lastIndex()) {
      return;
    }
    long count = 0;
    try (JournalReader reader = journal.readAfter(from)) {
      while (reader.next(replayPublisher)) {
        count++;
      }
    }
    replayed = count;
    LOG.info("pipeline replayed {} changes from journal {} after index {}", count, journal.directory(), from);
  }

  private void publishReplayed(long index, DirectBuffer buffer, int offset, int length) {
    long sequence = claim();
    try {
      EventSlot slot = ring.get(sequence);
      slot.buffer.putBytes(0, buffer, offset, length);
      slot.length = length;
      slot.journalIndex = index;
      slot.replayed = true;
      slot.ack = null;
      slot.publishNanos = System.nanoTime();
      long hlc = EventCodec.hlc(buffer, offset);
      if (hlc != 0) {
        clock.update(hlc);
      }
    } finally {
      ring.publish(sequence);
    }
  }

  private static WaitStrategy waitStrategy(PipelineConfig config) {
    return switch (config.waitStrategy()) {
      case PARKING -> new ParkingWaitStrategy();
      case SLEEPING -> new SleepingWaitStrategy();
      case LITE_BLOCKING -> new LiteBlockingWaitStrategy();
      case YIELDING -> new YieldingWaitStrategy();
      case BUSY_SPIN -> new BusySpinWaitStrategy();
    };
  }

  @Override
  public Throwable failure() {
    return failure;
  }

  boolean halted() {
    return halted;
  }

  private void ensureOpen() {
    if (closed.get()) {
      throw new IllegalStateException("pipeline on journal " + journal.directory() + " is closed");
    }
  }

  @Override
  public CompletableFuture<Long> publish(ChangeEvent event) {
    ensureOpen();
    ExpandableArrayBuffer scratch = SCRATCH.get();
    int length = EventCodec.encode(event, scratch, 0);
    if (length > config.maxEventBytes()) {
      throw new IllegalArgumentException("change to table " + event.table() + " encodes to " + length
          + " bytes, over maxEventBytes " + config.maxEventBytes() + "; nothing was published");
    }
    CompletableFuture<Long> ack = new CompletableFuture<>();
    claimAndPublish(scratch, 0, length, ack);
    return ack;
  }

  @Override
  public long publishEncoded(DirectBuffer buffer, int offset, int length) {
    ensureOpen();
    if (length < EventCodec.HEADER_BYTES || length > config.maxEventBytes()) {
      throw new IllegalArgumentException("encoded change of " + length + " bytes is outside "
          + EventCodec.HEADER_BYTES + ".." + config.maxEventBytes() + "; nothing was published");
    }
    if (buffer.getByte(offset) != EventCodec.VERSION) {
      throw new IllegalArgumentException("encoded change has format version " + buffer.getByte(offset)
          + ", expected " + EventCodec.VERSION + "; nothing was published");
    }
    return claimAndPublish(buffer, offset, length, null);
  }

  private long claimAndPublish(DirectBuffer buffer, int offset, int length, CompletableFuture<Long> ack) {
    long hlc = EventCodec.hlc(buffer, offset);
    long stamped;
    if (hlc != 0) {
      stamped = clock.update(hlc);
    } else {
      // The source's commit time feeds the clock: a source whose clock runs ahead pushes it forward, so changes
      // made after it (anywhere) still order after it (hybrid logical clock).
      long commitMicros = EventCodec.commitTimeMicros(buffer, offset);
      stamped = commitMicros > 0 ? clock.update(HybridLogicalClock.timestamp(commitMicros / 1_000L, 0)) : clock.now();
    }
    long sequence = claim();
    try {
      EventSlot slot = ring.get(sequence);
      slot.buffer.putBytes(0, buffer, offset, length);
      if (hlc == 0) {
        EventCodec.hlc(slot.buffer, 0, stamped);
      }
      slot.length = length;
      slot.journalIndex = Journal.NO_INDEX;
      slot.replayed = false;
      slot.ack = ack;
      slot.publishNanos = System.nanoTime();
    } finally {
      ring.publish(sequence);
    }
    return sequence;
  }

  /**
   * Claims a slot without advancing the ring's cursor while it is full. {@code RingBuffer.next()} advances the
   * cursor first and then waits for room; meanwhile the first stage sees a cursor past its position with the slot
   * not yet published and spins on it, burning a core exactly when the pipeline is behind (on a small machine it
   * starves the databases and the lagging handler). So: try, and back off (park) while the ring is full.
   */
  private long claim() {
    long parkNanos = 1_000;
    while (true) {
      try {
        return ring.tryNext();
      } catch (com.lmax.disruptor.InsufficientCapacityException full) {
        ensureOpen();
        java.util.concurrent.locks.LockSupport.parkNanos(parkNanos);
        parkNanos = Math.min(parkNanos * 2, 1_000_000);
      }
    }
  }

  @Override
  public boolean awaitDurable(long sequence, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (journalStage.durable().get() < sequence) {
      if (halted || System.nanoTime() - deadline > 0) {
        return false;
      }
      park();
    }
    return true;
  }

  /** The table of replay requests travelling through the ring (never handed to a handler). */
  static final String REPLAY_TABLE = "cutover_replay";
  private static final io.cutover.engine.event.Row REPLAY_KEY = io.cutover.engine.event.Row.of("replay",
      io.cutover.engine.event.Value.of(0L));
  /** The key hash of every replay request: one comparison per change tells the rest apart. */
  static final long REPLAY_HASH = io.cutover.engine.event.EventCodec.keyHash(REPLAY_TABLE, REPLAY_KEY);
  private final java.util.concurrent.ConcurrentHashMap<Long, ReplayRequest> replays =
      new java.util.concurrent.ConcurrentHashMap<>();
  private final java.util.concurrent.atomic.AtomicLong replayIds = new java.util.concurrent.atomic.AtomicLong();

  /** A replay waiting for its handler's stage to reach it in the ring. */
  record ReplayRequest(String handler, long afterIndex, long upTo, CompletableFuture<Long> done) {}

  @Override
  public CompletableFuture<Long> replay(String handler, long afterIndex) {
    HandlerStage target = null;
    List<String> names = new ArrayList<>();
    for (HandlerStage stage : handlerStages) {
      names.add(stage.handler().name());
      if (stage.handler().name().equals(handler) || (stage.stage() + "." + stage.handler().name()).equals(handler)) {
        target = stage; // by the handler's name, or the journal consumer's (stage.handler)
      }
    }
    if (target == null) {
      throw new IllegalArgumentException("no pipeline handler is named '" + handler + "' (handlers: " + names + ")");
    }
    String refusal = target.handler().refusesReplay();
    if (refusal != null) {
      throw new IllegalArgumentException("handler '" + handler + "' refuses replays: " + refusal);
    }
    long first = journal.firstIndex();
    long last = journal.lastIndex();
    if (afterIndex > last) {
      throw new IllegalArgumentException("journal index " + afterIndex + " is beyond the last one journaled, "
          + last);
    }
    if (afterIndex != Journal.NO_INDEX && first != Journal.NO_INDEX && afterIndex < first - 1) {
      throw new IllegalArgumentException("journal index " + afterIndex + " is no longer in the journal: the oldest "
          + "kept is " + first);
    }
    if (afterIndex == last) {
      return CompletableFuture.completedFuture(0L);
    }
    long id = replayIds.incrementAndGet();
    CompletableFuture<Long> done = new CompletableFuture<>();
    replays.put(id, new ReplayRequest(target.handler().name(), afterIndex, last, done));
    publish(io.cutover.engine.event.ChangeEvent.builder(io.cutover.engine.event.Side.MONOLITH, REPLAY_TABLE,
            io.cutover.engine.event.Operation.UPDATE).key(REPLAY_KEY)
        .after(io.cutover.engine.event.Row.of("request", io.cutover.engine.event.Value.of(id))).build())
        .whenComplete((index, error) -> {
          if (error != null && replays.remove(id) != null) {
            done.completeExceptionally(error);
          }
        });
    return done;
  }

  /**
   * The replay a request names, if it is for this handler (taken: it runs once).
   *
   * @param id the request's id.
   * @param handler the stage's handler.
   * @return the request, or null.
   */
  ReplayRequest takeReplay(long id, String handler) {
    ReplayRequest request = replays.get(id);
    return request != null && request.handler().equals(handler) && replays.remove(id, request) ? request : null;
  }

  @Override
  public boolean awaitHandled(long sequence, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ring.getMinimumGatingSequence() < sequence) {
      if (halted || System.nanoTime() - deadline > 0) {
        return false;
      }
      park();
    }
    return true;
  }

  @Override
  public long handledIndex() {
    long handled = journal.lastIndex();
    for (HandlerStage stage : handlerStages) {
      handled = Math.min(handled, stage.checkpoint().index());
    }
    return handled;
  }

  @Override
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long target = ring.getCursor();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ring.getMinimumGatingSequence() < target) {
      if (halted || System.nanoTime() - deadline > 0) {
        return false;
      }
      park();
    }
    return true;
  }

  private static void park() throws InterruptedException {
    LockSupport.parkNanos(WAIT_PARK_NANOS);
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
  }

  @Override
  public PipelineStats stats() {
    List<StageStats> stages = new ArrayList<>();
    stages.add(stats("journal", "journal", journalStage.latency(), journal.lastIndex()));
    for (HandlerStage stage : handlerStages) {
      stages.add(stats(stage.stage(), stage.handler().name(), stage.latency(), stage.checkpoint().index()));
    }
    long cursor = ring.getCursor();
    long published = cursor + 1 - replayed;
    long durable = journalStage.durable().get() + 1 - replayed;
    long inFlight = Math.max(0, cursor - ring.getMinimumGatingSequence());
    return new PipelineStats(published, replayed, Math.max(0, durable), inFlight, journal.lastIndex(), stages);
  }

  private static StageStats stats(String stage, String handler, StageLatency latency, long checkpoint) {
    Histogram h = latency.snapshot();
    return new StageStats(stage, handler, h.getTotalCount(), micros(h.getValueAtPercentile(50)),
        micros(h.getValueAtPercentile(95)), micros(h.getValueAtPercentile(99)), micros(h.getMaxValue()),
        checkpoint);
  }

  private static long micros(long nanos) {
    return TimeUnit.NANOSECONDS.toMicros(nanos);
  }

  @Override
  public Journal journal() {
    return journal;
  }

  @Override
  public HybridLogicalClock clock() {
    return clock;
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    try {
      if (!awaitIdle(config.drainTimeout())) {
        LOG.warn("pipeline on journal {}: handlers did not catch up within {}; unhandled changes are replayed "
            + "on the next start", journal.directory(), config.drainTimeout());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    halted = true;
    disruptor.halt();
    for (Thread thread : threads) {
      try {
        thread.join(config.drainTimeout().toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    long cursor = ring.getCursor();
    for (long s = journalStage.durable().get() + 1; s <= cursor; s++) {
      CompletableFuture<Long> ack = ring.get(s).ack;
      if (ack != null) {
        ack.completeExceptionally(new IllegalStateException("pipeline closed before the change was journaled"));
      }
    }
    journal.close();
  }

  /**
   * What escapes a stage: stages retry their own failures, so only a stop or a bug gets here. A bug stops the
   * pipeline's handlers (the Disruptor would otherwise go on past the change as if it had been handled): changes
   * are still journaled, checkpoints stay where they are, and {@link #failure()} says why; the next start replays.
   */
  private final class LoggingExceptionHandler implements ExceptionHandler<EventSlot> {
    @Override
    public void handleEventException(Throwable ex, long sequence, EventSlot event) {
      if (!(ex instanceof StageHaltedException)) {
        if (failure == null) {
          failure = ex;
        }
        LOG.error("pipeline stage failed at ring sequence {}; the pipeline's handlers stop (changes are still "
            + "journaled and are handled after a restart)", sequence, ex);
      }
    }

    @Override
    public void handleOnStartException(Throwable ex) {
      LOG.error("pipeline stage failed to start", ex);
    }

    @Override
    public void handleOnShutdownException(Throwable ex) {
      LOG.error("pipeline stage failed to stop", ex);
    }
  }
}
