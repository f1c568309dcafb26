package dev.eventproc.cli;

import dev.eventproc.pipeline.ProgressListener.BatchStats;
import java.util.function.Consumer;

/**
 * The demo's sums over the batches its two runs report. Each run's own listener knows its stage's
 * counts (a dedupe stage counts the duplicates it drops in the batch itself), so the demo sums what
 * the runs report rather than listening to Spark's progress on its own.
 */
final class DemoTotals implements Consumer<BatchStats> {
  private long duplicatesDropped;
  private long lateDropped;

  @Override
  public synchronized void accept(BatchStats s) {
    duplicatesDropped += s.duplicatesDropped();
    lateDropped += s.lateDropped();
  }

  synchronized long duplicatesDropped() {
    return duplicatesDropped;
  }

  synchronized long lateDropped() {
    return lateDropped;
  }
}
