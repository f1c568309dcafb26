package dev.eventproc.bench;

import static dev.eventproc.bench.BenchResult.secondsSince;
import static org.apache.spark.sql.functions.col;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.delta.DeltaSink;
import dev.eventproc.sink.iceberg.IcebergSink;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.storage.StorageLevel;

/**
 * The Delta and Iceberg cases, same rows, one run each: the format's own streaming append against
 * eventproc's exactly-once append (same source, one AvailableNow query each), and a bare SQL MERGE
 * with no bookkeeping against eventproc's upsert (a newer version of every row over a full table), and
 * history against upsert on the same two batches ({@link HistoryBench}).
 */
public final class LakehouseBench {
  /** Spark caches a catalog per name: each run gets its own, so its warehouse is the run's directory. */
  private static final AtomicInteger RUNS = new AtomicInteger();

  /** The lakehouse formats. */
  public enum Format { DELTA, ICEBERG }

  private LakehouseBench() {}

  /** Runs the case; {@code run} is the repeat's index (variants alternate order, see {@link Variants}). */
  public static void run(SparkSession spark, Format format, long rows, Path dir, BenchReport report, int run) throws Exception {
    String suite = format.name().toLowerCase();
    String catalog = "eventproc_bench_" + RUNS.incrementAndGet();
    if (format == Format.ICEBERG) {
      IcebergSink.registerCatalog(spark, catalog, dir.resolve("iceberg").toString());
    }
    Path source = dir.resolve("source");
    PostgresBench.rows(spark, rows, 1).repartition(4).write().mode(SaveMode.Overwrite).parquet(source.toString());
    Dataset<Row> stream = spark.readStream().schema(PostgresBench.rows(spark, 1, 1).schema()).parquet(source.toString());

    Variants appends = Variants.forRun(run);
    appends.add("native", () -> {
      String nativeTable = table(format, catalog, dir, "native_append");
      DataStreamWriter<Row> w = stream.writeStream().option("checkpointLocation", dir.resolve("cp-native").toString())
          .trigger(Trigger.AvailableNow());
      long t = System.nanoTime();
      await(format == Format.DELTA ? w.format("delta").start(nativeTable) : w.format("iceberg").toTable(nativeTable));
      report.add(new BenchResult(suite, "native streaming append", rows, secondsSince(t), suite + "'s own streaming sink, one AvailableNow query"));
    });
    appends.add("eventproc", () -> {
      BatchSink append = sink(format, catalog, SinkSpec.builder().name("bench_append").mode(WriteMode.APPEND).build(), dir,
          "eventproc_append");
      long t = System.nanoTime();
      await(stream.writeStream().option("checkpointLocation", dir.resolve("cp-ours").toString()).trigger(Trigger.AvailableNow())
          .foreachBatch(append).start());
      report.add(new BenchResult(suite, "eventproc append", rows, secondsSince(t), "exactly-once append, same source and query"));
    });
    appends.runAll();

    // A batch as a dedupe stage hands it over: one row per key, partitioned by key, in memory.
    Dataset<Row> v2 = PostgresBench.rows(spark, rows, 2).repartition(col("id")).persist(StorageLevel.MEMORY_ONLY());
    v2.count();
    String bare = table(format, catalog, dir, "bare_merge");
    SinkSpec.Builder upsert = SinkSpec.builder().mode(WriteMode.UPSERT).keyColumns("id").versionColumn("version");
    BatchSink ours = sink(format, catalog, upsert.name("bench_merge").keysUniqueInEachBatch().build(), dir, "eventproc_merge");
    BatchSink anyBatch = sink(format, catalog, SinkSpec.builder().mode(WriteMode.UPSERT).keyColumns("id").versionColumn("version")
        .name("bench_merge_any").build(), dir, "eventproc_merge_any");
    seed(spark, format, catalog, bare, rows);
    seed(spark, format, catalog, table(format, catalog, dir, "eventproc_merge"), rows);
    seed(spark, format, catalog, table(format, catalog, dir, "eventproc_merge_any"), rows);
    v2.createOrReplaceTempView("bench_v2");
    Variants merges = Variants.forRun(run);
    merges.add("bare", () -> {
      long t = System.nanoTime();
      spark.sql("MERGE INTO " + ref(format, bare) + " AS t USING bench_v2 AS s ON t.id = s.id "
          + "WHEN MATCHED AND s.version > t.version THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *").collectAsList();
      report.add(new BenchResult(suite, "bare merge", rows, secondsSince(t), "SQL MERGE of a newer version of every row, no bookkeeping"));
    });
    merges.add("eventproc", () -> {
      long t = System.nanoTime();
      ours.write(v2, 0, UUID.randomUUID().toString());
      report.add(new BenchResult(suite, "eventproc merge", rows, secondsSince(t), "exactly-once upsert of a batch out of a dedupe stage"));
    });
    merges.add("eventproc-any", () -> {
      long t = System.nanoTime();
      anyBatch.write(v2, 0, UUID.randomUUID().toString());
      report.add(new BenchResult(suite, "eventproc merge, any batch", rows, secondsSince(t),
          "the same, reducing the batch to one row per key first"));
    });
    try {
      merges.runAll();
    } finally {
      v2.unpersist();
    }
    HistoryBench.run(spark, suite, rows, (spec, name) -> sink(format, catalog, spec, dir, name), report);

    report.goal(new BenchGoal(suite, "eventproc append", "native streaming append", 1 / 1.15, "exactly-once append time <= 1.15x native"));
    report.goal(new BenchGoal(suite, "eventproc merge", "bare merge", 1 / 1.05, "MERGE with bookkeeping time <= 1.05x bare"));
  }

  private static BatchSink sink(Format format, String catalog, SinkSpec spec, Path dir, String name) {
    return format == Format.DELTA ? DeltaSink.atPath(spec, dir.resolve(name).toString())
        : IcebergSink.forTable(spec, catalog + ".bench." + name, null);
  }

  private static String table(Format format, String catalog, Path dir, String name) {
    return format == Format.DELTA ? dir.resolve(name).toString() : catalog + ".bench." + name;
  }

  private static String ref(Format format, String table) {
    return format == Format.DELTA ? "delta.`" + table + "`" : table;
  }

  /** A table holding version 1 of every row, written the format's plain way. */
  private static void seed(SparkSession spark, Format format, String catalog, String table, long rows) throws Exception {
    Dataset<Row> v1 = PostgresBench.rows(spark, rows, 1);
    if (format == Format.DELTA) {
      v1.write().format("delta").mode(SaveMode.Overwrite).save(table);
    } else {
      spark.sql("CREATE NAMESPACE IF NOT EXISTS " + catalog + ".bench");
      v1.writeTo(table).using("iceberg").createOrReplace();
    }
  }

  private static void await(StreamingQuery q) throws StreamingQueryException, TimeoutException {
    q.awaitTermination();
  }
}
