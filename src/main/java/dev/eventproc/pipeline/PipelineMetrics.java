package dev.eventproc.pipeline;

import com.codahale.metrics.Counter;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricFilter;
import com.codahale.metrics.MetricRegistry;
import com.codahale.metrics.Timer;
import dev.eventproc.sink.BatchOutcome;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkMetrics;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.ToLongFunction;

/**
 * One pipeline's metrics in the {@link EventprocPlugin}'s registry. Per sink, {@code
 * eventproc.<pipeline>.<sink>.<metric>}: gauges over the sink's running totals ({@code
 * batches_committed}, {@code replays_skipped}, {@code empty_batches}, {@code rows_in}, {@code
 * rows_written}, {@code rows_ignored}) and a timer {@code commit_time} of committed batches. Per
 * pipeline, {@code eventproc.<pipeline>.<metric>}, fed with each batch's {@link ProgressListener.BatchStats}:
 * counters {@code batches}, {@code input_rows}, {@code duplicates_dropped}, {@code late_dropped},
 * {@code quarantined}, {@code accounting_not_closed}; gauges of the last batch {@code last_batch_id},
 * {@code state_rows}, {@code state_memory_bytes}, {@code watermark_lag_ms}, {@code kafka_offsets_behind};
 * and a timer {@code batch_duration}.
 */
public final class PipelineMetrics implements Consumer<ProgressListener.BatchStats> {
  /** The first part of every name. */
  public static final String PREFIX = "eventproc";
  static final String BATCHES = "batches";

  private final Counter batches;
  private final Counter inputRows;
  private final Counter duplicatesDropped;
  private final Counter lateDropped;
  private final Counter quarantined;
  private final Counter notClosed;
  private final Timer batchDuration;
  private final boolean accountingCloses;
  private final AtomicReference<ProgressListener.BatchStats> last = new AtomicReference<>();

  private PipelineMetrics(MetricRegistry r, String base, boolean accountingCloses) {
    this.accountingCloses = accountingCloses;
    batches = r.counter(base + BATCHES);
    inputRows = r.counter(base + "input_rows");
    duplicatesDropped = r.counter(base + "duplicates_dropped");
    lateDropped = r.counter(base + "late_dropped");
    quarantined = r.counter(base + "quarantined");
    notClosed = r.counter(base + "accounting_not_closed");
    batchDuration = r.timer(base + "batch_duration");
    lastBatchGauge(r, base + "last_batch_id", ProgressListener.BatchStats::batchId);
    lastBatchGauge(r, base + "state_rows", ProgressListener.BatchStats::stateRows);
    lastBatchGauge(r, base + "state_memory_bytes", ProgressListener.BatchStats::stateMemoryBytes);
    lastBatchGauge(r, base + "watermark_lag_ms", ProgressListener.BatchStats::watermarkLagMillis);
    lastBatchGauge(r, base + "kafka_offsets_behind", ProgressListener.BatchStats::kafkaOffsetsBehind);
  }

  /**
   * Registers a pipeline's metrics, replacing any earlier ones of the same pipeline name (a pipeline
   * started again in the same application).
   *
   * @param sinks the sinks to report on (each route of a fan-out, the quarantine sink)
   */
  static PipelineMetrics register(MetricRegistry r, String pipeline, List<BatchSink> sinks) {
    return register(r, pipeline, sinks, true);
  }

  static PipelineMetrics register(MetricRegistry r, String pipeline, List<BatchSink> sinks, boolean accountingCloses) {
    String base = PREFIX + "." + pipeline + ".";
    r.removeMatching(MetricFilter.startsWith(base));
    for (BatchSink sink : sinks) {
      String s = base + sink.name() + ".";
      SinkMetrics m = sink.metrics();
      gauge(r, s + "batches_committed", m::batchesCommitted);
      gauge(r, s + "replays_skipped", m::replaysSkipped);
      gauge(r, s + "empty_batches", m::emptyBatches);
      gauge(r, s + "rows_in", m::rowsIn);
      gauge(r, s + "rows_written", m::rowsWritten);
      gauge(r, s + "rows_ignored", m::rowsIgnored);
      Timer commit = r.timer(s + "commit_time");
      m.addListener(o -> {
        if (o.status() == BatchOutcome.Status.COMMITTED) {
          commit.update(o.commitMillis(), TimeUnit.MILLISECONDS);
        }
      });
    }
    return new PipelineMetrics(r, base, accountingCloses);
  }

  private static void gauge(MetricRegistry r, String name, Gauge<Long> g) {
    r.register(name, g);
  }

  private void lastBatchGauge(MetricRegistry r, String name, ToLongFunction<ProgressListener.BatchStats> value) {
    gauge(r, name, () -> {
      ProgressListener.BatchStats s = last.get();
      return s == null ? -1 : value.applyAsLong(s);
    });
  }

  /** Adds one completed batch. */
  @Override
  public void accept(ProgressListener.BatchStats s) {
    batches.inc();
    inputRows.inc(s.inputRows());
    duplicatesDropped.inc(s.duplicatesDropped());
    lateDropped.inc(s.lateDropped());
    quarantined.inc(s.quarantined());
    if (accountingCloses && !s.closes()) {
      notClosed.inc();
    }
    batchDuration.update(s.durationMillis(), TimeUnit.MILLISECONDS);
    last.set(s);
  }
}
