package dev.eventproc.reconcile;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.FanOut;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * Runs the checks of {@code sql/} that fit each configured sink, binding their parameters from the
 * config. Every sink with key columns (not append) gets duplicate keys and rows vs distinct keys;
 * every sink its commit-record check (PostgreSQL ledger, Delta transaction ids, Iceberg snapshot
 * summaries, the files sink's batch directories, the Kafka topic read {@code read_committed}); with
 * {@link ReconcileOptions} a source, also source vs sink and daily totals.
 */
public final class Reconciler {
  /** A composite key is checked on a view that adds one text column joining the key columns. */
  static final String KEY_VIEW_COLUMN = "eventproc_key";
  /** History against a source: a view of the source adds this boolean column, true for a delete. */
  static final String DELETED_COLUMN = "eventproc_deleted";
  /** One check provider per sink family; a sink no family handles gets no checks. */
  private static final List<SinkChecks<?>> FAMILIES = List.of(new PostgresChecks(), new DeltaChecks(), new IcebergChecks(),
      new FilesChecks(), new KafkaChecks());

  private Reconciler() {}

  /** One row of a check's result. */
  public record Result(String sink, String target, String check, String status, String offending, String detail) {
    public boolean failed() {
      return !"PASS".equals(status);
    }
  }

  /**
   * Runs the checks that fit each of the sinks (a {@link FanOut}'s routes one by one) against
   * {@code options}; a sink whose checks cannot run gets one {@code ERROR} result saying why.
   */
  public static List<Result> run(SparkSession spark, BatchSink sink, ReconcileOptions options) {
    List<Result> out = new ArrayList<>();
    for (BatchSink s : sinks(sink)) {
      try {
        for (SinkChecks<?> family : FAMILIES) {
          if (family.handles(s)) {
            out.addAll(family.run(spark, s, options));
            break;
          }
        }
      } catch (RuntimeException e) {
        out.add(new Result(s.name(), SinkChecks.target(s), "run", "ERROR", "", "could not run the checks: " + e.getMessage()));
      }
    }
    return out;
  }

  private static List<BatchSink> sinks(BatchSink sink) {
    return sink instanceof FanOut f ? f.routes().stream().map(FanOut.Route::sink).toList() : List.of(sink);
  }
}
