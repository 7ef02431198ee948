package io.cutover.engine.pipeline;

import io.cutover.engine.clock.HybridLogicalClock;
import io.cutover.engine.event.ChangeEvent;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.agrona.DirectBuffer;

/**
 * A pipeline that forwards every call to another: the base of decorators that change one thing about a pipeline
 * (what a capture's acknowledgements mean, what a backfill merges into the stream). Closing closes the delegate.
 */
public abstract class ForwardingPipeline implements Pipeline {
  /** The pipeline calls go to. */
  protected final Pipeline delegate;

  /**
   * A decorator.
   *
   * @param delegate the pipeline calls go to.
   */
  protected ForwardingPipeline(Pipeline delegate) {
    this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public CompletableFuture<Long> publish(ChangeEvent event) {
    return delegate.publish(event);
  }

  @Override
  public long publishEncoded(DirectBuffer buffer, int offset, int length) {
    return delegate.publishEncoded(buffer, offset, length);
  }

  @Override
  public boolean awaitDurable(long sequence, Duration timeout) throws InterruptedException {
    return delegate.awaitDurable(sequence, timeout);
  }

  @Override
  public boolean awaitHandled(long sequence, Duration timeout) throws InterruptedException {
    return delegate.awaitHandled(sequence, timeout);
  }

  @Override
  public long handledIndex() {
    return delegate.handledIndex();
  }

  @Override
  public CompletableFuture<Long> replay(String handler, long afterIndex) {
    return delegate.replay(handler, afterIndex);
  }

  @Override
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    return delegate.awaitIdle(timeout);
  }

  @Override
  public PipelineStats stats() {
    return delegate.stats();
  }

  @Override
  public Throwable failure() {
    return delegate.failure();
  }

  @Override
  public io.cutover.journal.Journal journal() {
    return delegate.journal();
  }

  @Override
  public HybridLogicalClock clock() {
    return delegate.clock();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
