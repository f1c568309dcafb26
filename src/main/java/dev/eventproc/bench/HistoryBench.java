package dev.eventproc.bench;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.util.Locale;
import java.util.UUID;
import java.util.function.BiFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code sink.mode=history} against {@code upsert} on one sink type and the same two batches: version 1
 * of every row (timed apart), then version 2 of every row, which history turns into a closed row plus a
 * new current one per key and upsert into an update. Reports both rates and their ratio.
 */
final class HistoryBench {
  private HistoryBench() {}

  /**
   * @param suite the report's suite (the sink type)
   * @param sinks builds a sink of this type writing to a new target named by the second argument
   */
  static void run(SparkSession spark, String suite, long rows, BiFunction<SinkSpec, String, BatchSink> sinks, BenchReport report) {
    Dataset<Row> v1 = PostgresBench.rows(spark, rows, 1).persist(StorageLevel.MEMORY_ONLY());
    Dataset<Row> v2 = PostgresBench.rows(spark, rows, 2).persist(StorageLevel.MEMORY_ONLY());
    v1.count();
    v2.count();
    double upsert = timeSecondBatch(sinks.apply(spec("bench_upsert_" + suite, WriteMode.UPSERT), "history_bench_upsert"), v1, v2);
    report.add(new BenchResult(suite, "eventproc upsert, 2nd version", rows, upsert, "a newer version of every key, as upsert"));
    double history = timeSecondBatch(sinks.apply(spec("bench_history_" + suite, WriteMode.HISTORY), "history_bench_history"), v1, v2);
    report.add(new BenchResult(suite, "eventproc history, 2nd version", rows, history,
        "the same batches as history: each key's row closed and a new current row"));
    report.note(String.format(Locale.ROOT, "%s: history MERGE %.0f rows/s vs upsert %.0f rows/s on the same batches: %.2fx the time",
        suite, rows / history, rows / upsert, history / upsert));
    v1.unpersist();
    v2.unpersist();
  }

  private static SinkSpec spec(String name, WriteMode mode) {
    return SinkSpec.builder().name(name).mode(mode).keyColumns("id").versionColumn("version").build();
  }

  private static double timeSecondBatch(BatchSink sink, Dataset<Row> first, Dataset<Row> second) {
    String query = UUID.randomUUID().toString();
    sink.write(first, 0, query);
    long t = System.nanoTime();
    sink.write(second, 1, query);
    return (System.nanoTime() - t) / 1e9;
  }
}
