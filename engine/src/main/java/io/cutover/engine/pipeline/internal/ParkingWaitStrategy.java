package io.cutover.engine.pipeline.internal;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import com.lmax.disruptor.WaitStrategy;
import java.util.concurrent.locks.LockSupport;

/**
 * Waits in three steps: spins a little (a change right behind the last one is taken at once), then parks for short
 * moments (a steady stream of changes costs no more than a timer wake-up now and then), then, when nothing has been
 * published for a while, blocks until a publisher signals. An idle pipeline so costs nothing; a busy one never
 * takes a lock on publish: a publisher reads one volatile flag and signals only when a stage thread blocks.
 *
 * <p>A stage waiting on an earlier stage (not on the publisher) does not block while the change it waits for is
 * published: the earlier stage will finish it without a signal, so it keeps parking briefly instead. The block is
 * timed as well, so a missed signal would cost a moment, never the pipeline.
 */
public final class ParkingWaitStrategy implements WaitStrategy {
  static final int SPINS = 100;
  /**
   * Parks before blocking: four (about a quarter of a millisecond). Fifty kept a stage thread waking every 50 us
   * through the gaps between transactions at thousands a second (a tail 0.3-0.4 ms lower for the pipeline alone at
   * 100,000/s, and more CPU for {@code cutover run}, where the cores are shared with the databases).
   */
  static final int PARKS = 4;
  static final long PARK_NANOS = 50_000;
  static final long BLOCK_MILLIS = 100;

  private final Object mutex = new Object();
  private volatile boolean signalNeeded;

  @Override
  public long waitFor(long sequence, Sequence cursor, Sequence dependentSequence, SequenceBarrier barrier)
      throws AlertException, InterruptedException {
    long available;
    int waited = 0;
    while ((available = dependentSequence.get()) < sequence) {
      barrier.checkAlert();
      if (waited < SPINS) {
        Thread.onSpinWait();
      } else if (waited < SPINS + PARKS || cursor.get() >= sequence) {
        LockSupport.parkNanos(PARK_NANOS);
      } else {
        // stays in this step until the change is published (a timed-out block blocks again)
        block(sequence, cursor, barrier);
        continue;
      }
      waited++;
    }
    return available;
  }

  private void block(long sequence, Sequence cursor, SequenceBarrier barrier)
      throws AlertException, InterruptedException {
    synchronized (mutex) {
      signalNeeded = true;
      // set before the cursor is read: a publisher that moved the cursor after this read sees the flag
      if (cursor.get() < sequence) {
        barrier.checkAlert();
        mutex.wait(BLOCK_MILLIS);
      }
    }
  }

  @Override
  public void signalAllWhenBlocking() {
    if (signalNeeded) {
      synchronized (mutex) {
        signalNeeded = false;
        mutex.notifyAll();
      }
    }
  }

  @Override
  public String toString() {
    return "ParkingWaitStrategy{spins=" + SPINS + ", parks=" + PARKS + " x " + PARK_NANOS / 1000 + " us}";
  }
}
