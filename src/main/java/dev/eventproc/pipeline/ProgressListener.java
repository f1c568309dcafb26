package dev.eventproc.pipeline;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.spark.sql.streaming.SourceProgress;
import org.apache.spark.sql.streaming.StateOperatorProgress;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * Listens to one query's progress and turns each completed batch into {@link BatchStats}: input
 * rows, duplicates and late rows dropped by the stateful stage, state size, watermark. Keeps totals.
 * A batch that fails reports nothing; its replay after restart reports once.
 */
public final class ProgressListener extends StreamingQueryListener {
  private final String queryName;
  private final Consumer<BatchStats> onBatch;
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong inputRows = new AtomicLong();
  private final AtomicLong duplicatesDropped = new AtomicLong();
  private final AtomicLong lateDropped = new AtomicLong();

  /**
   * One completed batch.
   *
   * @param batchId Spark's batch id
   * @param inputRows rows read from the source
   * @param duplicatesDropped rows dropped by a dedupe operator as duplicates
   * @param lateDropped rows dropped by stateful operators as older than the watermark
   * @param stateRows keys held in state after the batch
   * @param stateMemoryBytes memory used by state after the batch
   * @param watermark the watermark after the batch (ISO-8601), or null
   * @param durationMillis wall time of the batch
   */
  public record BatchStats(long batchId, long inputRows, long duplicatesDropped, long lateDropped, long stateRows,
      long stateMemoryBytes, String watermark, long durationMillis) {}

  /** Listens to the queries with this name (other queries of the session are ignored). */
  public ProgressListener(String queryName, Consumer<BatchStats> onBatch) {
    this.queryName = queryName;
    this.onBatch = onBatch;
  }

  @Override
  public void onQueryStarted(QueryStartedEvent event) {}

  @Override
  public void onQueryProgress(QueryProgressEvent event) {
    StreamingQueryProgress p = event.progress();
    if (queryName != null && !queryName.equals(p.name())) {
      return;
    }
    long input = 0;
    for (SourceProgress s : p.sources()) {
      input += s.numInputRows();
    }
    long dups = 0;
    long late = 0;
    long stateRows = 0;
    long stateMem = 0;
    for (StateOperatorProgress op : p.stateOperators()) {
      Map<String, Long> custom = op.customMetrics();
      Long d = custom.get("numDroppedDuplicateRows");
      dups += d == null ? 0 : d;
      late += op.numRowsDroppedByWatermark();
      stateRows += op.numRowsTotal();
      stateMem += op.memoryUsedBytes();
    }
    Long total = p.durationMs().get("triggerExecution");
    String watermark = p.eventTime().get("watermark");
    BatchStats stats = new BatchStats(p.batchId(), input, dups, late, stateRows, stateMem, watermark,
        total == null ? 0 : total);
    batches.incrementAndGet();
    inputRows.addAndGet(input);
    duplicatesDropped.addAndGet(dups);
    lateDropped.addAndGet(late);
    if (onBatch != null) {
      onBatch.accept(stats);
    }
  }

  @Override
  public void onQueryTerminated(QueryTerminatedEvent event) {}

  public long batches() {
    return batches.get();
  }

  public long inputRows() {
    return inputRows.get();
  }

  public long duplicatesDropped() {
    return duplicatesDropped.get();
  }

  public long lateDropped() {
    return lateDropped.get();
  }
}
