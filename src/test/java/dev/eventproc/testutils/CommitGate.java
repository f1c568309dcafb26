package dev.eventproc.testutils;

import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.FaultInjection.Point;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Holds the racing writers of one sink at a fault point until all of them have arrived, then lets
 * them go on together: each has done everything before the point (read "not committed", staged its
 * data) before any of them commits, so the race really overlaps. A writer that never arrives (it
 * found the batch committed, or failed earlier) makes the others fail after a minute, naming the point.
 * Closing it removes the hook.
 *
 * <p>Writers that cannot all reach the point at the same time can be started one after the other
 * ({@link #awaitArrivals}): a Kafka producer fences the older one of its transactional id at
 * {@code initTransactions()}, so the second producer must start only once the first has sent its
 * records, and then both are held there all the same.
 */
public final class CommitGate implements AutoCloseable {
  private static final long WAIT_SECONDS = 60;

  private final AtomicInteger arrivals = new AtomicInteger();

  private CommitGate(Point point, String sinkName, int writers, FaultInjection.TestHook others) {
    CyclicBarrier barrier = new CyclicBarrier(writers);
    FaultInjection.setTestHook((p, sink, batch) -> {
      if (p != point || !sink.equals(sinkName)) {
        others.at(p, sink, batch);
        return;
      }
      arrivals.incrementAndGet();
      synchronized (this) {
        notifyAll();
      }
      try {
        barrier.await(WAIT_SECONDS, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted at " + p.spec(), e);
      } catch (BrokenBarrierException | TimeoutException e) {
        throw new IllegalStateException("sink " + sink + " batch " + batch + ": not all " + writers + " writers reached "
            + p.spec() + " within " + WAIT_SECONDS + " s, so they did not race through the commit", e);
      }
    });
  }

  /** Holds {@code writers} writers of sink {@code sinkName} at {@code point}, every time they pass it. */
  public static CommitGate at(Point point, String sinkName, int writers) {
    return new CommitGate(point, sinkName, writers, (p, sink, batch) -> {});
  }

  /**
   * As {@link #at(Point, String, int)}, and runs {@code others} at every other fault point of the JVM
   * (e.g. to hold the writer that goes first at a later point).
   */
  public static CommitGate at(Point point, String sinkName, int writers, FaultInjection.TestHook others) {
    return new CommitGate(point, sinkName, writers, others);
  }

  /** How many times a writer reached the point. */
  public int arrivals() {
    return arrivals.get();
  }

  /** Waits until writers reached the point {@code n} times in all; fails after a minute. */
  public synchronized void awaitArrivals(int n) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
    while (arrivals.get() < n) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new IllegalStateException(arrivals.get() + " of " + n + " arrivals at the gate within " + WAIT_SECONDS + " s");
      }
      TimeUnit.NANOSECONDS.timedWait(this, left);
    }
  }

  @Override
  public void close() {
    FaultInjection.setTestHook(null);
  }
}
