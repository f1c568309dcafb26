package dev.eventproc.sink;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Running totals of one sink object (driver side). Thread-safe; read them at any time, e.g. from a
 * {@code StreamingQueryListener} or after a query has stopped.
 */
public final class SinkMetrics {
  private final AtomicLong batchesCommitted = new AtomicLong();
  private final AtomicLong replaysSkipped = new AtomicLong();
  private final AtomicLong emptyBatches = new AtomicLong();
  private final AtomicLong rowsIn = new AtomicLong();
  private final AtomicLong rowsWritten = new AtomicLong();
  private final AtomicLong rowsIgnored = new AtomicLong();
  private final AtomicLong commitMillis = new AtomicLong();
  private final AtomicReference<BatchOutcome> last = new AtomicReference<>();
  private final AtomicLong racesLost = new AtomicLong();
  private final AtomicReference<Throwable> lastRaceLost = new AtomicReference<>();
  private final List<Consumer<BatchOutcome>> listeners = new CopyOnWriteArrayList<>();

  /** Calls {@code listener} with every later outcome, on the driver thread that wrote the batch (e.g. to time commits). */
  public void addListener(Consumer<BatchOutcome> listener) {
    listeners.add(listener);
  }

  void record(BatchOutcome o) {
    switch (o.status()) {
      case COMMITTED -> batchesCommitted.incrementAndGet();
      case SKIPPED_REPLAY -> replaysSkipped.incrementAndGet();
      case EMPTY -> emptyBatches.incrementAndGet();
    }
    rowsIn.addAndGet(o.rowsIn());
    rowsWritten.addAndGet(o.rowsWritten());
    rowsIgnored.addAndGet(o.rowsIgnored());
    commitMillis.addAndGet(o.commitMillis());
    last.set(o);
    listeners.forEach(l -> l.accept(o));
  }

  /** A commit of this sink failed and the record showed another attempt of its writer committed the batch. */
  void raceLost(Throwable conflict) {
    racesLost.incrementAndGet();
    lastRaceLost.set(conflict);
  }

  public long batchesCommitted() {
    return batchesCommitted.get();
  }

  public long replaysSkipped() {
    return replaysSkipped.get();
  }

  public long emptyBatches() {
    return emptyBatches.get();
  }

  public long rowsIn() {
    return rowsIn.get();
  }

  public long rowsWritten() {
    return rowsWritten.get();
  }

  public long rowsIgnored() {
    return rowsIgnored.get();
  }

  public long commitMillis() {
    return commitMillis.get();
  }

  /**
   * Commits that failed, or found the batch committed after waiting, because another attempt of the
   * same writer (a zombie driver, a speculative one) committed the batch first; each is also counted
   * as a skipped replay.
   */
  public long racesLost() {
    return racesLost.get();
  }

  /** What the latest lost race failed with (the format's conflict, a fencing, a refused rename, the other attempt's lock), or null. */
  public Throwable lastRaceLost() {
    return lastRaceLost.get();
  }

  /** The outcome of the latest batch, or null before the first. */
  public BatchOutcome last() {
    return last.get();
  }

  @Override
  public String toString() {
    return "batches=" + batchesCommitted + " replaysSkipped=" + replaysSkipped + " empty=" + emptyBatches
        + " rowsIn=" + rowsIn + " rowsWritten=" + rowsWritten + " rowsIgnored=" + rowsIgnored
        + " commitMs=" + commitMillis + " racesLost=" + racesLost;
  }
}
