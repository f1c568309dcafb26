package dev.eventproc.pipeline;

import java.io.Serializable;

/**
 * Lets batches into a pipeline's {@code foreachBatch} function until a stop is asked for. Then it waits
 * for the batch inside to finish, and holds the next one at the door until the query's stop interrupts
 * it: a stop never cancels a batch halfway through its sinks, and the batch held back was written
 * nowhere (it runs again after a restart, from Spark's offset log).
 */
final class BatchGate implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final long NONE = -1;
  private boolean closed;
  private boolean stopped;
  private long inside = NONE;
  private long lastDone = NONE;

  /**
   * Called as a batch arrives; returns when it may run.
   *
   * @throws InterruptedException when the gate is closed and the query has been marked stopped (Spark
   *     takes this exception as the query's clean end); its own interrupt may be deferred by Spark's
   *     uninterruptible thread, so {@link #stopped()} opens the way out
   */
  synchronized void enter(long batchId) throws InterruptedException {
    while (closed) {
      if (stopped) {
        throw new InterruptedException("the pipeline is stopping: batch " + batchId + " runs at the next start");
      }
      wait();
    }
    inside = batchId;
  }

  /** Called when a batch leaves {@code foreachBatch}, done or failed. */
  synchronized void leave(long batchId, boolean done) {
    inside = NONE;
    if (done) {
      lastDone = Math.max(lastDone, batchId);
    }
    notifyAll();
  }

  /**
   * Closes the gate and waits up to {@code timeoutMillis} for the batch inside to leave.
   *
   * @return whether no batch is inside any more
   */
  synchronized boolean close(long timeoutMillis) throws InterruptedException {
    closed = true;
    long end = System.currentTimeMillis() + timeoutMillis;
    for (long left = timeoutMillis; inside != NONE && left > 0; left = end - System.currentTimeMillis()) {
      wait(left);
    }
    return inside == NONE;
  }

  /** The query is marked stopped: a batch held at the gate leaves with an InterruptedException. */
  synchronized void stopped() {
    stopped = true;
    notifyAll();
  }

  /** The batch inside now, or -1. */
  synchronized long inside() {
    return inside;
  }

  /** The last batch that went through {@code foreachBatch} completely, or -1. */
  synchronized long lastDone() {
    return lastDone;
  }
}
