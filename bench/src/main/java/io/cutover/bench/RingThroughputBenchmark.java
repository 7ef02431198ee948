package io.cutover.bench;

import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.SleepingWaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import com.lmax.disruptor.util.DaemonThreadFactory;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
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
 * One producer to one consumer through a bounded buffer of 16384: the Disruptor ring (as the pipeline uses it:
 * multi-producer sequencer; sleeping wait strategy, the pipeline's default, and yielding) against its
 * BlockingQueue twin. The producer's rate is the
 * end-to-end rate, since a full buffer stops it.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {"-Xmx1g"})
public class RingThroughputBenchmark {
  private static final int SIZE = 16_384;

  /** A ring slot. */
  public static final class Slot {
    long value;
  }

  /** The Disruptor side. */
  @State(Scope.Benchmark)
  public static class RingState {
    @Param({"PARKING", "SLEEPING", "YIELDING"})
    public String waitStrategy;
    Disruptor<Slot> disruptor;
    RingBuffer<Slot> ring;
    volatile long consumed;

    @Setup(Level.Trial)
    public void setUp() {
      disruptor = new Disruptor<>(Slot::new, SIZE, DaemonThreadFactory.INSTANCE, ProducerType.MULTI,
          "YIELDING".equals(waitStrategy) ? new YieldingWaitStrategy() : "PARKING".equals(waitStrategy)
              ? new io.cutover.engine.pipeline.internal.ParkingWaitStrategy() : new SleepingWaitStrategy());
      EventHandler<Slot> handler = (slot, sequence, endOfBatch) -> consumed = slot.value;
      disruptor.handleEventsWith(handler);
      ring = disruptor.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
      disruptor.halt();
    }
  }

  /** The BlockingQueue twin. */
  @State(Scope.Benchmark)
  public static class QueueState {
    final BlockingQueue<Slot> queue = new ArrayBlockingQueue<>(SIZE);
    final Slot item = new Slot();
    Thread consumer;
    volatile boolean running = true;
    volatile long consumed;

    @Setup(Level.Trial)
    public void setUp() {
      consumer = new Thread(() -> {
        try {
          while (running) {
            Slot slot = queue.poll(10, TimeUnit.MILLISECONDS);
            if (slot != null) {
              consumed = slot.value;
            }
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      });
      consumer.setDaemon(true);
      consumer.start();
    }

    @TearDown(Level.Trial)
    public void tearDown() throws InterruptedException {
      running = false;
      consumer.join();
    }
  }

  /**
   * Disruptor publish, consumed by the handler thread.
   *
   * @param state the ring.
   */
  @Benchmark
  public void disruptor(RingState state) {
    RingBuffer<Slot> ring = state.ring;
    long sequence = ring.next();
    ring.get(sequence).value = sequence;
    ring.publish(sequence);
  }

  /**
   * ArrayBlockingQueue put, consumed by the consumer thread (baseline).
   *
   * @param state the queue.
   * @throws InterruptedException never in practice.
   */
  @Benchmark
  public void blockingQueue(QueueState state) throws InterruptedException {
    state.queue.put(state.item);
  }
}
