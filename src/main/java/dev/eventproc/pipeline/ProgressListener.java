package dev.eventproc.pipeline;

import dev.eventproc.sink.BatchOutcome;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.apache.spark.sql.streaming.SourceProgress;
import org.apache.spark.sql.streaming.StateOperatorProgress;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.StreamingQueryManager;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * Listens to one query's progress and turns each completed batch into {@link BatchStats}, joining
 * Spark's figures (input rows, rows dropped by stateful operators, state size, watermark, Kafka lag)
 * with what the pipeline's sinks did with the batch. Keeps totals. A batch that fails reports
 * nothing; its replay after restart reports once. Progress of an idle trigger (Spark reports one every
 * {@code spark.sql.streaming.noDataProgressEventInterval} while a query waits for data, repeating the
 * last plan's state metrics) is not a batch and is ignored, as is a second report of one batch id.
 */
public final class ProgressListener extends StreamingQueryListener {
  private final String queryName;
  private final QuarantineSplit split;
  private final Consumer<BatchStats> onBatch;
  private final AtomicLong batches = new AtomicLong();
  private final AtomicLong inputRows = new AtomicLong();
  private final AtomicLong written = new AtomicLong();
  private final AtomicLong duplicatesDropped = new AtomicLong();
  private final AtomicLong lateDropped = new AtomicLong();
  private final AtomicLong quarantined = new AtomicLong();
  private final AtomicLong unbalanced = new AtomicLong();
  /** The last batch id counted; events arrive in order on Spark's listener bus. */
  private final AtomicLong lastCounted = new AtomicLong(-1);
  /** The last batch handed to {@code onBatch} (metrics file included); guarded by this. */
  private long lastReported = -1;
  /** Whether the run's termination event has been delivered; guarded by this. */
  private boolean terminated;
  /** The run of the last termination delivered before {@link #bind}; guarded by this. */
  private UUID endedBeforeBind;
  private volatile UUID runId;
  private volatile StreamingQueryManager streams;
  /** Spark times this step only when a batch ran (an empty batch that moves the watermark included). */
  private static final String RAN = "addBatch";

  /**
   * One completed batch. Accounting closes when {@code inputRows = written + duplicatesDropped +
   * lateDropped + quarantined} (see {@link #closes()}); an aggregate stage's {@code written} counts
   * windows, not events, so its batches do not close this way.
   *
   * @param batchId Spark's batch id
   * @param inputRows rows read from the source, each once (Spark's count, or for an aggregate, which Spark
   *     reads twice, the rows that entered it; see {@link BatchCounts#inputRows})
   * @param written rows handed to the main sink (its batch, before the sink's own per-key reduction)
   * @param duplicatesDropped rows dropped by the stage as duplicates (or older versions)
   * @param lateDropped rows dropped by stateful operators as older than the watermark
   * @param quarantined rows written to the quarantine sink
   * @param stateRows keys held in state after the batch
   * @param stateMemoryBytes memory used by state after the batch
   * @param watermark the watermark after the batch (ISO-8601), or null
   * @param watermarkLagMillis wall-clock time of the batch minus the watermark, or -1 without one
   * @param durationMillis wall time of the batch
   * @param commitMillis time the sinks spent committing
   * @param replaysSkipped sinks (main, quarantine) that skipped the batch as already committed
   * @param kafkaOffsetsBehind the most offsets any Kafka source partition is behind the latest, or -1
   */
  public record BatchStats(long batchId, long inputRows, long written, long duplicatesDropped, long lateDropped,
      long quarantined, long stateRows, long stateMemoryBytes, String watermark, long watermarkLagMillis, long durationMillis,
      long commitMillis, int replaysSkipped, long kafkaOffsetsBehind) {
    /** Whether every input row is accounted for. */
    public boolean closes() {
      return inputRows == written + duplicatesDropped + lateDropped + quarantined;
    }
  }

  /**
   * Listens to the queries with this name (other queries of the session are ignored), or, once
   * {@link #bind bound}, to one run of one query.
   */
  public ProgressListener(String queryName, QuarantineSplit split, Consumer<BatchStats> onBatch) {
    this.queryName = queryName;
    this.split = split;
    this.onBatch = onBatch;
  }

  /**
   * Ties this listener to one run of a query: it then ignores every other query, whatever its name, and
   * unregisters itself from {@code streams} when that run ends.
   */
  public void bind(StreamingQuery query) {
    boolean endedAlready;
    synchronized (this) {
      runId = query.runId();
      streams = query.sparkSession().streams();
      endedAlready = runId.equals(endedBeforeBind);
      if (endedAlready) {
        terminated = true;
        notifyAll();
      }
    }
    if (endedAlready) {
      streams.removeListener(this); // its end came before this call: nothing of the run is left to deliver
    }
  }

  /** The last batch handed to the callback, or -1. */
  public synchronized long lastReported() {
    return lastReported;
  }

  /** Waits until batch {@code batchId} has been reported (true), or until {@code deadlineMillis} passes. */
  public synchronized boolean awaitReported(long batchId, long deadlineMillis) throws InterruptedException {
    for (long left = deadlineMillis - System.currentTimeMillis(); lastReported < batchId && left > 0;
        left = deadlineMillis - System.currentTimeMillis()) {
      wait(left);
    }
    return lastReported >= batchId;
  }

  /** Rows held in state after a batch, over all its stateful operators. */
  public static long stateRows(StreamingQueryProgress p) {
    long n = 0;
    for (StateOperatorProgress op : p.stateOperators()) {
      n += op.numRowsTotal();
    }
    return n;
  }

  /** State memory (bytes) after a batch, as its stateful operators report it. */
  public static long stateMemoryBytes(StreamingQueryProgress p) {
    long n = 0;
    for (StateOperatorProgress op : p.stateOperators()) {
      n += op.memoryUsedBytes();
    }
    return n;
  }

  @Override
  public void onQueryStarted(QueryStartedEvent event) {}

  @Override
  public void onQueryProgress(QueryProgressEvent event) {
    StreamingQueryProgress p = event.progress();
    if (runId != null ? !runId.equals(p.runId()) : queryName != null && !queryName.equals(p.name())) {
      return;
    }
    if (!p.durationMs().containsKey(RAN) || p.batchId() <= lastCounted.get()) {
      return;
    }
    lastCounted.set(p.batchId());
    long input = 0;
    long behind = -1;
    for (SourceProgress s : p.sources()) {
      input += s.numInputRows();
      String max = s.metrics() == null ? null : s.metrics().get("maxOffsetsBehindLatest");
      if (max != null) {
        behind = Math.max(behind, (long) Double.parseDouble(max));
      }
    }
    input = BatchCounts.inputRows(p, queryName, input);
    long dups = 0;
    long late = 0;
    long stateRows = stateRows(p);
    long stateMem = 0;
    for (StateOperatorProgress op : p.stateOperators()) {
      Map<String, Long> custom = op.customMetrics();
      Long d = custom.get("numDroppedDuplicateRows");
      dups += d == null ? 0 : d;
      late += op.numRowsDroppedByWatermark();
      stateMem += op.memoryUsedBytes();
    }
    long main = 0;
    long quarantine = 0;
    long commit = 0;
    int skipped = 0;
    QuarantineSplit.Split s = split == null ? null : split.outcome(p.batchId());
    if (s != null) {
      main = s.main().rowsIn();
      quarantine = s.quarantine().rowsIn();
      commit = s.main().commitMillis() + s.quarantine().commitMillis();
      skipped = (s.main().status() == BatchOutcome.Status.SKIPPED_REPLAY ? 1 : 0)
          + (s.quarantine().status() == BatchOutcome.Status.SKIPPED_REPLAY ? 1 : 0);
      dups += s.duplicatesDropped();
    }
    Long total = p.durationMs().get("triggerExecution");
    String watermark = p.eventTime().get("watermark");
    long lag = -1;
    if (watermark != null && !watermark.startsWith("1970-01-01")) {
      lag = Instant.parse(p.timestamp()).toEpochMilli() - Instant.parse(watermark).toEpochMilli();
    }
    BatchStats stats = new BatchStats(p.batchId(), input, main, dups, late, quarantine, stateRows, stateMem, watermark, lag,
        total == null ? 0 : total, commit, skipped, behind);
    batches.incrementAndGet();
    inputRows.addAndGet(input);
    written.addAndGet(main);
    duplicatesDropped.addAndGet(dups);
    lateDropped.addAndGet(late);
    quarantined.addAndGet(quarantine);
    if (!stats.closes()) {
      unbalanced.incrementAndGet();
    }
    if (onBatch != null) {
      onBatch.accept(stats);
    }
    synchronized (this) {
      lastReported = p.batchId();
      notifyAll();
    }
  }

  @Override
  public void onQueryTerminated(QueryTerminatedEvent event) {
    StreamingQueryManager s;
    synchronized (this) {
      if (runId == null) {
        endedBeforeBind = event.runId(); // bind() may yet name this run
        return;
      }
      if (!runId.equals(event.runId())) {
        return;
      }
      terminated = true;
      notifyAll();
      s = streams;
    }
    if (s != null) {
      s.removeListener(this); // on Spark's listener bus, after this run's last progress event
    }
  }

  /**
   * Waits until Spark's listener bus has delivered the end of this run, which comes after every
   * progress event of the run: then every batch has been reported. True if it came before the deadline.
   */
  public synchronized boolean awaitTerminated(long deadlineMillis) throws InterruptedException {
    for (long left = deadlineMillis - System.currentTimeMillis(); !terminated && left > 0; left = deadlineMillis - System.currentTimeMillis()) {
      wait(left);
    }
    return terminated;
  }

  public long batches() {
    return batches.get();
  }

  public long inputRows() {
    return inputRows.get();
  }

  public long written() {
    return written.get();
  }

  public long duplicatesDropped() {
    return duplicatesDropped.get();
  }

  public long lateDropped() {
    return lateDropped.get();
  }

  public long quarantined() {
    return quarantined.get();
  }

  /** Batches whose accounting did not close. */
  public long unbalancedBatches() {
    return unbalanced.get();
  }
}
