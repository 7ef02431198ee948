package io.cutover.engine.capture;

import io.cutover.engine.event.Side;
import io.cutover.engine.pipeline.Pipeline;
import java.util.concurrent.atomic.AtomicLong;

/** The capture thread's lifecycle, shared by the capture methods: start once, count, stop and join. */
abstract class ThreadedCapture implements ChangeCapture {
  /** The side this capture reads. */
  protected final Side side;
  private final AtomicLong published = new AtomicLong();
  /** False once {@link #close()} was called; the capture loop checks it. */
  protected volatile boolean running;
  private Thread thread;

  ThreadedCapture(Side side) {
    this.side = side;
  }

  @Override
  public final synchronized void start(Pipeline pipeline) {
    if (thread != null) {
      throw new IllegalStateException("capture of " + side + " is already started");
    }
    running = true;
    thread = new Thread(() -> run(pipeline), "cutover-capture-" + side);
    thread.setDaemon(true);
    thread.start();
  }

  /**
   * The capture loop: runs on the capture thread until {@link #running} turns false.
   *
   * @param pipeline where changes are published.
   */
  protected abstract void run(Pipeline pipeline);

  /**
   * Counts changes published.
   *
   * @param count how many.
   */
  protected final void countPublished(long count) {
    published.addAndGet(count);
  }

  @Override
  public final long published() {
    return published.get();
  }

  @Override
  public final synchronized void close() {
    running = false;
    if (thread != null) {
      thread.interrupt();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      thread = null;
    }
  }
}
