package io.cutover.engine.pipeline.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.lmax.disruptor.AlertException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.Sequence;
import com.lmax.disruptor.SequenceBarrier;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ParkingWaitStrategyTest {
  private final RingBuffer<long[]> ring = RingBuffer.createMultiProducer(() -> new long[1], 64,
      new ParkingWaitStrategy());

  /** A thread waiting on a barrier for one sequence; its result, or what it threw. */
  private static final class Waiter {
    final CompletableFuture<Long> result = new CompletableFuture<>();
    final Thread thread;

    Waiter(SequenceBarrier barrier, long sequence) {
      thread = new Thread(() -> {
        try {
          result.complete(barrier.waitFor(sequence));
        } catch (Throwable e) {
          result.completeExceptionally(e);
        }
      }, "waiter");
      thread.setDaemon(true);
      thread.start();
    }

    boolean blocked() {
      for (StackTraceElement frame : thread.getStackTrace()) {
        if (frame.getMethodName().equals("block")) {
          return true;
        }
      }
      return false;
    }
  }

  @Test
  void anIdleStageBlocksUntilAChangeIsPublishedInsteadOfPolling() throws Exception {
    Waiter waiter = new Waiter(ring.newBarrier(), 0);
    awaitBlocked(waiter);
    int blocked = 0;
    for (int i = 0; i < 20; i++) {
      Thread.sleep(15);
      blocked += waiter.blocked() ? 1 : 0;
    }
    // a timed-out block blocks again: it does not go back to parking every 50 microseconds
    assertTrue(blocked >= 18, "blocked in " + blocked + " of 20 looks");
    assertFalse(waiter.result.isDone());
    long sequence = ring.next();
    ring.get(sequence)[0] = 42;
    ring.publish(sequence);
    assertEquals(0L, waiter.result.get(5, TimeUnit.SECONDS));
  }

  @Test
  void aStageWaitingOnAnEarlierStageDoesNotBlockOnAPublishedChange() throws Exception {
    long sequence = ring.next();
    ring.publish(sequence);
    Sequence earlier = new Sequence(-1);
    Waiter waiter = new Waiter(ring.newBarrier(earlier), sequence);
    for (int i = 0; i < 20; i++) {
      Thread.sleep(10);
      // no publisher will signal this one: the earlier stage finishes the change without a signal
      assertFalse(waiter.blocked(), "blocked while the change it waits for is published");
    }
    assertFalse(waiter.result.isDone());
    earlier.set(sequence);
    assertEquals(sequence, waiter.result.get(5, TimeUnit.SECONDS));
  }

  @Test
  void aBlockedStageSeesTheHaltAlert() throws Exception {
    SequenceBarrier barrier = ring.newBarrier();
    Waiter waiter = new Waiter(barrier, 0);
    awaitBlocked(waiter);
    barrier.alert();
    Throwable thrown = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
        () -> waiter.result.get(5, TimeUnit.SECONDS)).getCause();
    assertInstanceOf(AlertException.class, thrown);
  }

  @Test
  void everyChangeOfConcurrentPublishersReachesAStageThatBlocksBetweenBursts() throws Exception {
    Sequence consumed = new Sequence(-1);
    ring.addGatingSequences(consumed);
    SequenceBarrier barrier = ring.newBarrier();
    long total = 20_000;
    long[] sum = new long[1];
    Thread consumer = new Thread(() -> {
      long next = 0;
      try {
        while (next < total) {
          long available = barrier.waitFor(next);
          for (long s = next; s <= available; s++) {
            sum[0] += ring.get(s)[0];
          }
          consumed.set(available);
          next = available + 1;
        }
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    consumer.start();
    Thread[] producers = new Thread[2];
    for (int p = 0; p < producers.length; p++) {
      producers[p] = new Thread(() -> {
        for (int i = 0; i < total / 2; i++) {
          long s = ring.next();
          ring.get(s)[0] = 1;
          ring.publish(s);
          if (i % 1_000 == 0) {
            try {
              Thread.sleep(20); // long enough for the consumer to block between bursts
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        }
      });
      producers[p].start();
    }
    for (Thread producer : producers) {
      producer.join();
    }
    consumer.join(30_000);
    assertFalse(consumer.isAlive(), "the consumer did not see every change");
    assertEquals(total, sum[0]);
  }

  private static void awaitBlocked(Waiter waiter) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!waiter.blocked()) {
      assertTrue(System.nanoTime() < deadline, "the idle waiter never blocked");
      Thread.sleep(5);
    }
  }
}
