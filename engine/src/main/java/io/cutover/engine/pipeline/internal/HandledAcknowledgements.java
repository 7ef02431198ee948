package io.cutover.engine.pipeline.internal;

import io.cutover.engine.event.ChangeEvent;
import io.cutover.engine.pipeline.Pipeline;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.locks.LockSupport;

/**
 * {@link Pipeline#acknowledgedWhenHandled}: a publish's future completes once every stage has checkpointed the
 * change's journal index; a watcher thread (started with the first publish) polls the pipeline's handled index
 * every millisecond while acknowledgements wait, and sleeps (woken by the next one) while none does.
 */
public final class HandledAcknowledgements extends io.cutover.engine.pipeline.ForwardingPipeline {
  private static final long IDLE_PARK_NANOS = 100_000_000L;
  private final PriorityBlockingQueue<Waiter> waiting = new PriorityBlockingQueue<>();
  private volatile boolean open = true;
  /** Set while the watcher sleeps with nothing waiting, for the next acknowledgement to wake it. */
  private volatile boolean dozing;
  private volatile Thread watcher;

  private record Waiter(long index, CompletableFuture<Long> ack) implements Comparable<Waiter> {
    @Override
    public int compareTo(Waiter other) {
      return Long.compare(index, other.index);
    }
  }

  /**
   * A view.
   *
   * @param delegate the pipeline.
   */
  public HandledAcknowledgements(Pipeline delegate) {
    super(delegate);
  }

  @Override
  public CompletableFuture<Long> publish(ChangeEvent event) {
    CompletableFuture<Long> handled = new CompletableFuture<>();
    startWatcher();
    delegate.publish(event).whenComplete((index, error) -> {
      if (error != null) {
        handled.completeExceptionally(error);
      } else {
        waiting.add(new Waiter(index, handled));
        if (dozing) {
          dozing = false;
          LockSupport.unpark(watcher);
        }
      }
    });
    return handled;
  }

  private synchronized void startWatcher() {
    if (watcher != null) {
      return;
    }
    watcher = new Thread(() -> {
      while (open) {
        Waiter first = waiting.peek();
        if (first != null && first.index() <= delegate.handledIndex()) {
          long handled = delegate.handledIndex();
          while ((first = waiting.peek()) != null && first.index() <= handled) {
            waiting.poll().ack().complete(first.index());
          }
        } else if (first == null) {
          dozing = true;
          if (waiting.isEmpty()) {
            LockSupport.parkNanos(IDLE_PARK_NANOS); // set before the check: a waiter added after it unparks
          }
          dozing = false;
        } else {
          LockSupport.parkNanos(1_000_000L);
        }
      }
      Waiter left;
      while ((left = waiting.poll()) != null) {
        left.ack().completeExceptionally(new IllegalStateException("the pipeline closed before handling journal "
            + "index " + left.index()));
      }
    }, "cutover-handled-acks");
    watcher.setDaemon(true);
    watcher.start();
  }

  /** Waits until every stage handled the change (the view's meaning of durable). */
  @Override
  public boolean awaitDurable(long sequence, Duration timeout) throws InterruptedException {
    return delegate.awaitHandled(sequence, timeout);
  }

  @Override
  public void close() {
    delegate.close();
    open = false;
    Thread w;
    synchronized (this) {
      w = watcher;
    }
    if (w != null) {
      LockSupport.unpark(w);
      try {
        w.join(1_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
