package dev.eventproc.reconcile;

import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * The checks of one sink family (one adapter): which sinks it takes and how it runs the checks of
 * {@code sql/} on them. {@link Reconciler} asks each family in turn, so adding an adapter adds a
 * family here and no branch there.
 *
 * @param <S> the adapter's sink class
 */
abstract class SinkChecks<S extends BatchSink> {
  private final Class<S> family;

  SinkChecks(Class<S> family) {
    this.family = family;
  }

  final boolean handles(BatchSink sink) {
    return family.isInstance(sink);
  }

  final List<Result> run(SparkSession spark, BatchSink sink, ReconcileOptions options) {
    return check(spark, family.cast(sink), options);
  }

  /** The results of every check that fits this sink and these options. */
  abstract List<Result> check(SparkSession spark, S sink, ReconcileOptions options);

  /** Sinks with key columns (not append) get the duplicate-key checks. */
  static boolean keyed(SinkSpec spec) {
    return spec.mode() != WriteMode.APPEND && !spec.keyColumns().isEmpty();
  }

  /** What a result names as the sink's target: its table or path, else its name. */
  static String target(BatchSink sink) {
    return sink instanceof AbstractBatchSink a ? a.target() : sink.name();
  }

  static String nz(String s) {
    return s == null ? "" : s;
  }
}
