package dev.eventproc.bench;

import dev.eventproc.config.Durations;
import dev.eventproc.pipeline.ProgressListener;
import dev.eventproc.stage.LatestVersion;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeoutException;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The streaming stages on identical input: latest-version dedupe (ours, {@code flatMapGroupsWithState})
 * against Spark's {@code dropDuplicatesWithinWatermark}, and the state size of latest-version dedupe
 * over a long run. Input is Spark's {@code rate-micro-batch} source: {@code rowsPerBatch} rows per
 * batch, event time advancing one second per batch, each key seen twice per batch (a duplicate with
 * a higher version) and again five batches later; with a 3 s watermark delay a key leaves state
 * before it returns, so state should plateau near rows per batch times (delay + 1 s) / 2 keys.
 */
public final class StageBench {
  static final String SUITE = "stage";
  /** Issue 18, goal 3: dedupe-latest at least 0.9x of Spark's dropDuplicatesWithinWatermark. */
  public static final double GOAL_VS_SPARK_DEDUPE = 0.9;
  private static final Duration DELAY = Duration.ofSeconds(3);
  private static final String STORE_PROVIDER = "spark.sql.streaming.stateStore.providerClass";
  private static final String ROCKSDB = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider";

  private StageBench() {}

  /** Runs the case; {@code run} is the repeat's index (variants alternate order, see {@link Variants}). */
  public static void run(SparkSession spark, long rows, Path work, BenchReport report, int run) throws Exception {
    int batches = 24;
    long perBatch = Math.max(1000, rows / batches);
    Measured[] m = new Measured[4];
    Variants.forRun(run)
        .add("dropDuplicatesWithinWatermark", () -> m[0] = measure(spark, work.resolve("first-seen"), perBatch, batches, false, null))
        .add("dedupe-latest", () -> m[1] = measure(spark, work.resolve("latest"), perBatch, batches, true, null))
        .add("dropDuplicatesWithinWatermark rocksdb",
            () -> m[2] = measure(spark, work.resolve("first-seen-rocksdb"), perBatch, batches, false, ROCKSDB))
        .add("dedupe-latest rocksdb", () -> m[3] = measure(spark, work.resolve("latest-rocksdb"), perBatch, batches, true, ROCKSDB))
        .runAll();
    Measured baseline = m[0];
    Measured latest = m[1];
    report.note(String.format(Locale.ROOT, "stage: state memory per key after the last batch (memoryUsedBytes / state rows): "
        + "default store: dropDuplicatesWithinWatermark %s, dedupe-latest %s; RocksDB: dropDuplicatesWithinWatermark %s, "
        + "dedupe-latest %s (RocksDB's figure is its native memory: memtables, block cache, index and filter blocks)",
        m[0].bytesPerKey(), m[1].bytesPerKey(), m[2].bytesPerKey(), m[3].bytesPerKey()));
    report.add(new BenchResult(SUITE, "dropDuplicatesWithinWatermark", baseline.rows, baseline.seconds,
        "Spark's first-seen dedupe, same input"));
    report.add(new BenchResult(SUITE, "eventproc dedupe-latest", latest.rows, latest.seconds,
        "flatMapGroupsWithState, event-time timeout"));
    report.add(new BenchResult(SUITE, "dropDuplicatesWithinWatermark (RocksDB)", m[2].rows, m[2].seconds,
        "the same on the RocksDB state store"));
    report.add(new BenchResult(SUITE, "eventproc dedupe-latest (RocksDB)", m[3].rows, m[3].seconds,
        "the same on the RocksDB state store"));
    report.goal(new BenchGoal(SUITE, "eventproc dedupe-latest", "dropDuplicatesWithinWatermark", GOAL_VS_SPARK_DEDUPE,
        "latest-version dedupe vs Spark's dedupe (issue 18, goal 3)"));
    long bound = perBatch * (DELAY.toSeconds() + 2) / 2;
    report.note(String.format(Locale.ROOT, "stage: dedupe-latest state rows per batch %s; bound (rate x watermark) %,d keys: %s",
        latest.stateRows, bound, latest.plateau(bound) ? "flat, within the bound" : "NOT FLAT or above the bound"));
  }

  /**
   * Timed batches (the first two, with class loading and state setup, are excluded), state rows per batch
   * and the state memory the last batch reported.
   */
  record Measured(long rows, double seconds, List<Long> stateRows, long lastStateBytes) {
    String bytesPerKey() {
      long keys = stateRows.isEmpty() ? 0 : stateRows.get(stateRows.size() - 1);
      return keys == 0 ? "n/a" : String.format(Locale.ROOT, "%,d B", lastStateBytes / keys);
    }

    boolean plateau(long bound) {
      List<Long> tail = stateRows.subList(stateRows.size() / 2, stateRows.size());
      return tail.stream().allMatch(n -> n <= bound * 1.1);
    }
  }

  /** Runs one variant; {@code storeProvider} null keeps the session's state store (Spark's default). */
  private static Measured measure(SparkSession spark, Path dir, long perBatch, int batches, boolean latest, String storeProvider)
      throws TimeoutException {
    String before = spark.conf().getOption(STORE_PROVIDER).getOrElse(() -> null);
    if (storeProvider != null) {
      spark.conf().set(STORE_PROVIDER, storeProvider);
    }
    try {
      return measure(spark, dir, perBatch, batches, latest);
    } finally {
      if (before == null) {
        spark.conf().unset(STORE_PROVIDER);
      } else {
        spark.conf().set(STORE_PROVIDER, before);
      }
    }
  }

  private static Measured measure(SparkSession spark, Path dir, long perBatch, int batches, boolean latest)
      throws TimeoutException {
    long keys = perBatch * 5 / 2;
    Dataset<Row> input = spark.readStream().format("rate-micro-batch")
        .option("rowsPerBatch", perBatch)
        .option("numPartitions", 2)
        .option("advanceMillisPerBatch", 1000)
        .option("startTimestamp", 1_767_225_600_000L)
        .load()
        .selectExpr("CAST((value DIV 2) % " + keys + " AS STRING) AS id", "value AS version", "timestamp AS event_time",
            "CAST(value % 1000 AS INT) AS amount");
    Dataset<Row> staged = latest
        ? LatestVersion.apply(input, List.of("id"), "version", null, "event_time", DELAY)
        : input.withWatermark("event_time", Durations.toSparkInterval(DELAY)).dropDuplicatesWithinWatermark("id");
    StreamingQuery q = staged.writeStream()
        .option("checkpointLocation", dir.resolve("checkpoint").toString())
        .foreachBatch((VoidFunction2<Dataset<Row>, Long>) (batch, id) -> batch.count())
        .trigger(Trigger.ProcessingTime(0))
        .start();
    try {
      while (q.lastProgress() == null || q.lastProgress().batchId() < batches - 1) {
        if (q.exception().isDefined()) {
          throw new IllegalStateException("stage bench query failed", q.exception().get());
        }
        Thread.sleep(20);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } finally {
      q.stop();
    }
    List<Long> state = new ArrayList<>();
    long measuredRows = 0;
    double millis = 0;
    long stateBytes = 0;
    for (StreamingQueryProgress p : q.recentProgress()) {
      if (p.numInputRows() == 0) {
        continue;
      }
      state.add(ProgressListener.stateRows(p));
      stateBytes = ProgressListener.stateMemoryBytes(p);
      if (p.batchId() >= 2) {
        measuredRows += p.numInputRows();
        millis += p.durationMs().get("triggerExecution");
      }
    }
    return new Measured(measuredRows, millis / 1000.0, state, stateBytes);
  }
}
