package io.cutover.engine.pipeline;

import io.cutover.engine.clock.HybridLogicalClock;
import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.pipeline.internal.DisruptorPipeline;
import io.cutover.journal.Journal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.agrona.DirectBuffer;

/**
 * A running pipeline: publish changes from any number of threads; each is journaled, acknowledged, then
 * handed to the resolve, apply and checksum stages in order.
 *
 * <pre>{@code
 * try (Pipeline pipeline = Pipeline.builder(PipelineConfig.builder(JournalConfig.of(dir)).build())
 *     .apply(sink)
 *     .start()) {
 *   long index = pipeline.publish(event).join(); // durable in the journal now
 * }
 * }</pre>
 *
 * <p><b>Ordering.</b> Changes are journaled and handled in the order their publish calls claimed ring slots;
 * changes published by one thread keep that thread's order, so per-key order holds when one thread publishes
 * a key's changes (as capture does).
 *
 * <p><b>Back-pressure.</b> The ring is bounded: when it is full, publish waits until the slowest stage frees a
 * slot. Nothing is dropped, and memory stays bounded.
 *
 * <p>Thread-safe.
 */
public interface Pipeline extends AutoCloseable {

  /**
   * Starts building a pipeline.
   *
   * @param config the configuration.
   * @return a builder.
   */
  static Builder builder(PipelineConfig config) {
    return new Builder(config);
  }

  /**
   * Publishes a change. If its hybrid-logical-clock timestamp is 0 the pipeline stamps one from its clock;
   * otherwise the clock is advanced past it.
   *
   * @param event the change.
   * @return completes with the change's journal index once it is durable in the journal (as the journal's
   *     sync policy promises); completes exceptionally if the pipeline stops first.
   * @throws IllegalArgumentException if the encoded change exceeds maxEventBytes; nothing is published.
   * @throws IllegalStateException if the pipeline is closed.
   */
  CompletableFuture<Long> publish(ChangeEvent event);

  /**
   * Publishes an already encoded change ({@link io.cutover.engine.event.EventCodec}) without allocating. Its
   * timestamp is handled as in {@link #publish(ChangeEvent)}.
   *
   * @param buffer holding the change.
   * @param offset where it starts.
   * @param length its length.
   * @return the ring sequence of the change, for {@link #awaitDurable}.
   * @throws IllegalArgumentException if the length is out of bounds; nothing is published.
   * @throws IllegalStateException if the pipeline is closed.
   */
  long publishEncoded(DirectBuffer buffer, int offset, int length);

  /**
   * Waits until the change with a given ring sequence is durable in the journal.
   *
   * @param sequence returned by {@link #publishEncoded}.
   * @param timeout how long to wait.
   * @return true if durable, false on timeout.
   * @throws InterruptedException if interrupted while waiting.
   */
  boolean awaitDurable(long sequence, Duration timeout) throws InterruptedException;

  /**
   * Waits until the change with a given ring sequence has been handled by every stage (not only journaled).
   *
   * @param sequence returned by {@link #publishEncoded}.
   * @param timeout how long to wait.
   * @return true if handled, false on timeout.
   * @throws InterruptedException if interrupted while waiting.
   */
  boolean awaitHandled(long sequence, Duration timeout) throws InterruptedException;

  /**
   * The highest journal index every stage has handled and checkpointed (the journal's last index when the
   * pipeline has no handlers). Cheap: for polling.
   *
   * @return the index, or {@link io.cutover.journal.Journal#NO_INDEX}.
   */
  long handledIndex();

  /**
   * A view of a pipeline whose acknowledgements to publishers (the futures of {@link #publish}, {@link
   * #awaitDurable}) wait until every stage has handled a change, not only the journal: for captures whose stages
   * deliver the changes elsewhere (to Kafka), so a source confirms a change (a replication slot's LSN, a change
   * table's rows) only once it is delivered. Closing the view closes the pipeline.
   *
   * @param pipeline the pipeline.
   * @return the view.
   */
  static Pipeline acknowledgedWhenHandled(Pipeline pipeline) {
    return new io.cutover.engine.pipeline.internal.HandledAcknowledgements(pipeline);
  }

  /**
   * Re-delivers the journaled changes after an index, up to the last one journaled now, to one handler of the
   * running pipeline: on that handler's own thread, in journal order, between two of its batches, marked {@link
   * ChangeRecord#replayed()}; its checkpoint does not move back, other handlers go on. For a target restored from
   * a backup (an applier writes the row images again), a topic to fill again (the Kafka publisher), a checksum
   * stage to feed again.
   *
   * @param handler the handler's name.
   * @param afterIndex the last index not to re-deliver ({@link io.cutover.journal.Journal#NO_INDEX}: everything
   *     the journal keeps).
   * @return completes with the number of changes re-delivered, once the handler ended its last batch of them.
   * @throws IllegalArgumentException naming the handler that does not exist or refuses replays, or the index
   *     the journal no longer (or does not yet) hold.
   */
  CompletableFuture<Long> replay(String handler, long afterIndex);

  /**
   * Waits until every change published so far has been handled by every stage.
   *
   * @param timeout how long to wait.
   * @return true if idle, false on timeout.
   * @throws InterruptedException if interrupted while waiting.
   */
  boolean awaitIdle(Duration timeout) throws InterruptedException;

  /**
   * A snapshot of counts and per-stage latencies.
   *
   * @return the statistics.
   */
  PipelineStats stats();

  /**
   * Why the pipeline stopped handling changes on its own, if it did: a handler or stage failed in a way its
   * retries do not cover (a bug). Changes are still journaled; a restart hands them over again.
   *
   * @return the failure, or null while the pipeline works.
   */
  default Throwable failure() {
    return null;
  }

  /**
   * The journal the pipeline writes (for tools; do not append to it).
   *
   * @return the journal.
   */
  Journal journal();

  /**
   * The pipeline's hybrid logical clock.
   *
   * @return the clock.
   */
  HybridLogicalClock clock();

  /**
   * Stops accepting changes, waits up to the drain timeout for every stage to handle what was published, then
   * stops the stages and closes the journal. Changes not handled by then are replayed on the next start.
   */
  @Override
  void close();

  /** Builds and starts a {@link Pipeline}. Not thread-safe. */
  final class Builder {
    private final PipelineConfig config;
    private final List<ChangeHandler> resolve = new ArrayList<>();
    private final List<ChangeHandler> apply = new ArrayList<>();
    private final List<ChangeHandler> checksum = new ArrayList<>();
    private HybridLogicalClock clock = new HybridLogicalClock();

    private Builder(PipelineConfig config) {
      this.config = Objects.requireNonNull(config, "pipeline configuration");
    }

    /**
     * Adds resolve-stage handlers (conflict resolution). Handlers of one stage run in parallel.
     *
     * @param handlers the handlers.
     * @return this builder.
     */
    public Builder resolve(ChangeHandler... handlers) {
      resolve.addAll(List.of(handlers));
      return this;
    }

    /**
     * Adds apply-stage handlers (sinks); they see a change after every resolve handler has.
     *
     * @param handlers the handlers.
     * @return this builder.
     */
    public Builder apply(ChangeHandler... handlers) {
      apply.addAll(List.of(handlers));
      return this;
    }

    /**
     * Adds checksum-stage handlers; they see a change after every apply handler has.
     *
     * @param handlers the handlers.
     * @return this builder.
     */
    public Builder checksum(ChangeHandler... handlers) {
      checksum.addAll(List.of(handlers));
      return this;
    }

    /**
     * Sets the clock that stamps unstamped changes.
     *
     * @param value the clock.
     * @return this builder.
     */
    public Builder clock(HybridLogicalClock value) {
      this.clock = Objects.requireNonNull(value, "clock");
      return this;
    }

    /**
     * Opens the journal, replays what each handler has not checkpointed, and starts the stages. Returns once
     * the replayed changes are in the ring (they are handled before any change published later).
     *
     * @return the running pipeline.
     * @throws IllegalArgumentException if handler names are invalid or repeat.
     * @throws io.cutover.journal.JournalException if the journal cannot be opened or is damaged.
     */
    public Pipeline start() {
      return DisruptorPipeline.start(config, clock, List.of(
          new DisruptorPipeline.StageSpec("resolve", resolve),
          new DisruptorPipeline.StageSpec("apply", apply),
          new DisruptorPipeline.StageSpec("checksum", checksum)));
    }
  }
}
