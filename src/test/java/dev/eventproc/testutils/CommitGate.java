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
 */
public final class CommitGate implements AutoCloseable {
  private static final long WAIT_SECONDS = 60;

  private final AtomicInteger arrivals = new AtomicInteger();

  private CommitGate(Point point, String sinkName, int writers) {
    CyclicBarrier barrier = new CyclicBarrier(writers);
    FaultInjection.setTestHook((p, sink, batch) -> {
      if (p != point || !sink.equals(sinkName)) {
        return;
      }
      arrivals.incrementAndGet();
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
    return new CommitGate(point, sinkName, writers);
  }

  /** How many times a writer reached the point. */
  public int arrivals() {
    return arrivals.get();
  }

  @Override
  public void close() {
    FaultInjection.setTestHook(null);
  }
}
