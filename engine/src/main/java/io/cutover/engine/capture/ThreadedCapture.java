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

  private long lastStamp;

  /**
   * The hybrid-logical-clock timestamp of a change of this side: its source commit time, made strictly
   * increasing per side (a source clock that steps back, or changes in the same millisecond, still order). So
   * last-writer-wins orders concurrent changes of the two sides by when they committed, not by when they
   * happened to be captured; changes made after seeing the other side's write are not conflicts at all (their
   * before image shows it). Called on the capture thread only.
   *
   * @param commitMicros the source commit time, microseconds since the epoch (0 when unknown: now).
   * @return the timestamp.
   */
  protected final long stamp(long commitMicros) {
    long millis = commitMicros > 0 ? commitMicros / 1_000L : System.currentTimeMillis();
    lastStamp = Math.max(io.cutover.engine.clock.HybridLogicalClock.timestamp(millis, 0), lastStamp + 1);
    return lastStamp;
  }

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
