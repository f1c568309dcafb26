package dev.eventproc.bench;

import static dev.eventproc.bench.BenchResult.secondsSince;
import static org.apache.spark.sql.functions.col;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.delta.DeltaSink;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * Issue 18, goal 4: Delta MERGE cost per batch as the table grows. For each table size a Delta table
 * holding version 1 of every key is built with a plain Spark write (untimed; unpartitioned, the schema
 * and key layout an eventproc upsert target gets: keys in random order over the files, as events
 * arrive). Then a batch of {@code batchKeys} keys, spread evenly over the key space, each with a newer
 * version, is merged into it in rounds, alternating ABBA between eventproc's Delta upsert (the sink
 * path of {@link LakehouseBench}'s "eventproc merge", the batch one row per key) and a bare SQL MERGE
 * without bookkeeping. Both variants write the same table, each round a fresh version, so both see the
 * same table as it grows in history (after one untimed MERGE); each variant's seconds are the median of its rounds.
 *
 * <p>Goal: eventproc's seconds per batch at the largest table at most 1.2x its seconds at the
 * smallest (flat), judged as a rows/s ratio like the other time goals; the ratio to the bare MERGE is
 * printed per size.
 */
public final class DeltaCurveBench {
  static final String SUITE = "delta-curve";
  /** Flat: eventproc's time per batch at the largest table at most this times its time at the smallest. */
  public static final double FLAT_WITHIN = 1.2;
  public static final List<Long> DEFAULT_SIZES = List.of(1_000_000L, 5_000_000L, 10_000_000L);
  public static final long DEFAULT_BATCH_KEYS = 100_000;

  /**
   * What to run.
   *
   * @param sizes table rows, ascending
   * @param batchKeys keys per merged batch (at most the smallest size)
   * @param rounds MERGEs per variant and size (ABBA order over the rounds)
   * @param deletionVectors whether the tables are built with {@code delta.enableDeletionVectors}
   */
  public record Settings(List<Long> sizes, long batchKeys, int rounds, boolean deletionVectors) {
    public Settings {
      sizes = List.copyOf(sizes);
      if (sizes.isEmpty() || sizes.stream().anyMatch(s -> s < batchKeys) || batchKeys < 1 || rounds < 1) {
        throw new IllegalArgumentException("delta-curve: sizes " + sizes + " must each be at least the batch keys " + batchKeys
            + " (at least 1), rounds " + rounds + " at least 1");
      }
    }
  }

  /** One point of the curve: seconds per batch of both variants at a table size (NaN when not run). */
  public record Point(long tableRows, double eventprocSeconds, double bareSeconds) {}

  private DeltaCurveBench() {}

  /** The variant name of eventproc's MERGE at a table size, as reported. */
  static String eventproc(long size) {
    return String.format(Locale.ROOT, "eventproc merge, %,d-row table", size);
  }

  /** The variant name of the bare MERGE at a table size, as reported. */
  static String bare(long size) {
    return String.format(Locale.ROOT, "bare merge, %,d-row table", size);
  }

  /** Runs every size; tables live under {@code dir} (the caller deletes it). */
  public static void run(SparkSession spark, Settings s, Path dir, BenchReport report) throws Exception {
    for (long size : s.sizes()) {
      runSize(spark, s, size, dir.resolve("t" + size), report);
    }
    long smallest = s.sizes().get(0);
    long largest = s.sizes().get(s.sizes().size() - 1);
    if (largest != smallest) {
      report.goal(new BenchGoal(SUITE, eventproc(largest), eventproc(smallest), 1 / FLAT_WITHIN, String.format(Locale.ROOT,
          "flat: time per batch at %,d rows <= %.1fx at %,d (issue 18, goal 4)", largest, FLAT_WITHIN, smallest)));
    }
    for (Point p : points(report, s.sizes())) {
      report.note(String.format(Locale.ROOT, "delta-curve: %,13d rows: eventproc %7.2f s/batch, bare %7.2f s/batch, "
          + "eventproc/bare time %.3fx", p.tableRows(), p.eventprocSeconds(), p.bareSeconds(), p.eventprocSeconds() / p.bareSeconds()));
    }
  }

  private static void runSize(SparkSession spark, Settings s, long size, Path table, BenchReport report) throws Exception {
    String path = table.toString();
    PostgresBench.rows(spark, size, 1).write().format("delta").save(path);
    if (s.deletionVectors()) { // MERGEs from here on mark replaced rows instead of rewriting their files
      spark.sql("ALTER TABLE delta.`" + path + "` SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')");
    }
    BatchSink ours = DeltaSink.atPath(SinkSpec.builder().name("bench_curve").mode(WriteMode.UPSERT).keyColumns("id")
        .versionColumn("version").keysUniqueInEachBatch().build(), path);
    List<Double> oursSeconds = new ArrayList<>();
    List<Double> bareSeconds = new ArrayList<>();
    List<String> rounds = new ArrayList<>();
    long[] version = {1};
    long[] batchId = {0};
    String view = "bench_curve_batch";
    // A fresh table's first MERGE was the slowest of every size (at 10M rows 29 s against 9 s for the last;
    // with deletion vectors 25 s against 4 s), and round 0 would always give it to the same variant: it runs
    // untimed, so the timed rounds see the table as a running stream does.
    Dataset<Row> first = batch(spark, size, s.batchKeys(), ++version[0]);
    first.createOrReplaceTempView(view);
    try {
      spark.sql(bareMerge(path, view)).collectAsList();
    } finally {
      spark.catalog().dropTempView(view);
      first.unpersist();
    }
    for (int round = 0; round < s.rounds(); round++) {
      Variants.forRun(round).add("eventproc", () -> {
        Dataset<Row> batch = batch(spark, size, s.batchKeys(), ++version[0]);
        try {
          long t = System.nanoTime();
          ours.write(batch, batchId[0]++, UUID.randomUUID().toString());
          oursSeconds.add(secondsSince(t));
          rounds.add(lastMerge(spark, path, "eventproc", oursSeconds.get(oursSeconds.size() - 1)));
        } finally {
          batch.unpersist();
        }
      }).add("bare", () -> {
        Dataset<Row> batch = batch(spark, size, s.batchKeys(), ++version[0]);
        batch.createOrReplaceTempView(view);
        try {
          long t = System.nanoTime();
          spark.sql(bareMerge(path, view)).collectAsList();
          bareSeconds.add(secondsSince(t));
          rounds.add(lastMerge(spark, path, "bare", bareSeconds.get(bareSeconds.size() - 1)));
        } finally {
          spark.catalog().dropTempView(view);
          batch.unpersist();
        }
      }).runAll();
    }
    report.note(String.format(Locale.ROOT, "delta-curve: %,d rows, each MERGE in run order: %s", size, String.join("; ", rounds)));
    String layout = s.deletionVectors() ? "; deletion vectors on" : "";
    report.add(new BenchResult(SUITE, eventproc(size), s.batchKeys(), median(oursSeconds), String.format(Locale.ROOT,
        "exactly-once upsert of %,d keys (one row per key), median of %d%s", s.batchKeys(), s.rounds(), layout)));
    report.add(new BenchResult(SUITE, bare(size), s.batchKeys(), median(bareSeconds), String.format(Locale.ROOT,
        "SQL MERGE of the same keys, no bookkeeping, median of %d%s", s.rounds(), layout)));
  }

  private static String bareMerge(String path, String view) {
    return "MERGE INTO delta.`" + path + "` AS t USING " + view + " AS s ON t.id = s.id "
        + "WHEN MATCHED AND s.version > t.version THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *";
  }

  /** What the table's last commit (the MERGE just timed) did, from Delta's operation metrics. */
  private static String lastMerge(SparkSession spark, String path, String variant, double seconds) {
    Row last = spark.sql("DESCRIBE HISTORY delta.`" + path + "` LIMIT 1").select("operation", "operationMetrics").first();
    java.util.Map<String, String> m = last.getJavaMap(1);
    return String.format(Locale.ROOT, "%s %.2f s (%s: files removed %s, rows copied %s, updated %s, scan %s ms, rewrite %s ms)", variant,
        seconds, last.getString(0), m.get("numTargetFilesRemoved"), m.get("numTargetRowsCopied"), m.get("numTargetRowsUpdated"),
        m.get("scanTimeMs"), m.get("rewriteTimeMs"));
  }

  /**
   * A newer version of {@code keys} keys spread evenly over a table of {@code size} keys, as a dedupe
   * stage hands a batch over: one row per key, partitioned by key, in memory (built before the clock starts).
   */
  static Dataset<Row> batch(SparkSession spark, long size, long keys, long version) {
    long stride = size / keys;
    Dataset<Row> b = PostgresBench.rows(spark, size, version).where(col("id").substr(2, 10).cast("long").mod(stride).equalTo(0))
        .limit((int) keys).repartition(col("id")).persist(StorageLevel.MEMORY_ONLY());
    b.count();
    return b;
  }

  /** The curve as the report holds it (medians when the report is one of several runs). */
  public static List<Point> points(BenchReport report, List<Long> sizes) {
    List<Point> out = new ArrayList<>();
    for (long size : sizes) {
      double ours = report.find(SUITE, eventproc(size)).map(BenchResult::seconds).orElse(Double.NaN);
      double theirs = report.find(SUITE, bare(size)).map(BenchResult::seconds).orElse(Double.NaN);
      if (!Double.isNaN(ours) || !Double.isNaN(theirs)) {
        out.add(new Point(size, ours, theirs));
      }
    }
    return out;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
