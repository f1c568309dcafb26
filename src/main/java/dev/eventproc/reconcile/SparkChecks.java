package dev.eventproc.reconcile;

import static dev.eventproc.reconcile.SinkChecks.keyed;
import static dev.eventproc.reconcile.SinkChecks.nz;
import static dev.eventproc.reconcile.SinkChecks.target;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;

import dev.eventproc.config.Identifiers;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/** The Spark side of the checks, shared by the families Spark reads (Delta, Iceberg, files, Kafka). */
final class SparkChecks {
  private SparkChecks() {}

  /**
   * Duplicate keys, rows vs distinct keys and, with a source, source vs sink and daily totals, on {@code ref};
   * a history table gets its interval checks instead.
   */
  static List<Result> keyChecks(SparkSession spark, AbstractBatchSink sink, String ref, ReconcileOptions o) {
    SinkSpec spec = sink.spec();
    List<Result> out = new ArrayList<>();
    if (keyed(spec)) {
      String table = ref;
      String key;
      if (spec.keyColumns().size() == 1) {
        key = spec.keyColumns().get(0);
      } else {
        String view = "eventproc_reconcile_keys_" + sink.name();
        Dataset<Row> keyedView = spark.sql("SELECT *, concat_ws('\\u001f', "
            + String.join(", ", spec.keyColumns().stream().map(c -> "CAST(" + Identifiers.quoteSpark(c) + " AS STRING)").toList())
            + ") AS " + Reconciler.KEY_VIEW_COLUMN + " FROM " + ref);
        keyedView.createOrReplaceTempView(view);
        table = Identifiers.quoteSpark(view);
        key = Reconciler.KEY_VIEW_COLUMN;
      }
      if (spec.mode() == WriteMode.HISTORY) {
        out.addAll(history(spark, sink, table, key, o));
        return out;
      }
      out.addAll(run(spark, sink, "duplicate_keys.sql", Map.of("table", table), Map.of("key", key)));
      out.addAll(run(spark, sink, "rows_vs_distinct.sql", Map.of("table", table), Map.of("key", key)));
      if (o.hasSource() && o.amountColumn() != null && spec.versionColumn() != null && spec.keyColumns().size() == 1) {
        out.addAll(run(spark, sink, "source_vs_sink.sql", Map.of("table", table, "source_table", o.sparkSource()),
            Map.of("key", key, "version_col", spec.versionColumn(), "amount_col", o.amountColumn())));
      }
    }
    if (o.dailyTotals()) {
      out.addAll(run(spark, sink, "daily_totals.sql", Map.of("table", ref, "source_table", o.sparkSource()),
          Map.of("time_col", o.timeColumn(), "amount_col", o.amountColumn(), "from_date", o.from(), "to_date", o.to())));
    }
    return out;
  }

  /**
   * History tables: intervals; with a source, current rows against its newest event per key (deletes by
   * the sink's condition). No daily totals: a history table holds every version.
   */
  private static List<Result> history(SparkSession spark, AbstractBatchSink sink, String table, String key, ReconcileOptions o) {
    SinkSpec spec = sink.spec();
    String tiebreak = spec.tiebreakColumn() != null ? spec.tiebreakColumn() : spec.versionColumn();
    List<Result> out = new ArrayList<>(run(spark, sink, "history_intervals.sql", Map.of("table", table),
        Map.of("key", key, "tiebreak", tiebreak)));
    if (o.hasSource() && spec.keyColumns().size() == 1) {
      Column deleted = spec.deleteCondition() == null ? lit(false) : coalesce(expr(spec.deleteCondition()), lit(false));
      String view = "eventproc_reconcile_source_" + sink.name();
      spark.sql("SELECT * FROM " + o.sparkSource()).withColumn(Reconciler.DELETED_COLUMN, deleted).createOrReplaceTempView(view);
      out.addAll(run(spark, sink, "history_vs_source.sql", Map.of("table", table, "source_table", Identifiers.quoteSpark(view)),
          Map.of("key", key, "version_col", spec.versionColumn(), "tiebreak", tiebreak, "deleted_col", Reconciler.DELETED_COLUMN)));
    }
    return out;
  }

  /** Runs one check file of {@code sql/spark}; the results are the rows of its last statement. */
  static List<Result> run(SparkSession spark, BatchSink sink, String file, Map<String, String> tables,
      Map<String, String> values) {
    List<String> statements = SqlTemplate.load("spark/" + file).bindSpark(tables, values);
    List<Result> out = new ArrayList<>();
    for (int i = 0; i < statements.size(); i++) {
      Dataset<Row> result = spark.sql(statements.get(i));
      if (i == statements.size() - 1 && result.columns().length >= 4 && "check_name".equals(result.columns()[0])) {
        for (Row r : result.collectAsList()) {
          out.add(new Result(sink.name(), target(sink), r.getString(0), r.getString(1), nz(r.getString(2)), nz(r.getString(3))));
        }
      }
    }
    return out;
  }
}
