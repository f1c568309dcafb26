package dev.eventproc.cli;

import dev.eventproc.bench.BenchChart;
import dev.eventproc.bench.BenchReport;
import dev.eventproc.bench.DeltaCurveBench;
import dev.eventproc.bench.EndToEndBench;
import dev.eventproc.bench.KafkaBench;
import dev.eventproc.bench.LakehouseBench;
import dev.eventproc.bench.PostgresBench;
import dev.eventproc.bench.ScaleBench;
import dev.eventproc.bench.StageBench;
import dev.eventproc.bench.Variants;
import dev.eventproc.pipeline.Sessions;
import dev.eventproc.sink.SinkType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code eventproc bench}: each sink's exactly-once path against what a user would otherwise write, in one run. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Measure each sink's exactly-once path against its baselines, in one run, and print rows/s and ratios.")
final class BenchCommand implements Callable<Integer> {
  @Option(names = "--rows", defaultValue = "1000000", description = "Rows per variant (default ${DEFAULT-VALUE}).")
  long rows;

  @Option(names = "--cases", split = ",", defaultValue = "postgres,delta,iceberg,kafka,stage,e2e", description = "Cases to run (default ${DEFAULT-VALUE}).")
  List<String> cases;

  @Option(names = "--pg-url", defaultValue = "${env:EVENTPROC_BENCH_PG_URL:-jdbc:postgresql://127.0.0.1:5432/postgres}",
      description = "PostgreSQL for the postgres case (default ${DEFAULT-VALUE}).")
  String pgUrl;

  @Option(names = "--pg-user", defaultValue = "${env:EVENTPROC_BENCH_PG_USER:-postgres}", description = "PostgreSQL user.")
  String pgUser;

  @Option(names = "--pg-password-env", description = "Name of an environment variable holding the PostgreSQL password.")
  String pgPasswordEnv;

  @Option(names = "--pg-partitions", defaultValue = "2", description = "Slices of the partition commit shape (default ${DEFAULT-VALUE}).")
  int pgPartitions;

  @Option(names = "--pg-fillfactor", description = "Fillfactor of the bench table (default: the sink's, 80 for upsert).")
  Integer pgFillfactor;

  @Option(names = "--curve-sizes", split = ",", defaultValue = "1000000,5000000,10000000",
      description = "delta-curve case: table rows, ascending (default ${DEFAULT-VALUE}).")
  List<Long> curveSizes;

  @Option(names = "--curve-batch-keys", defaultValue = "100000",
      description = "delta-curve case: keys per merged batch (default ${DEFAULT-VALUE}).")
  long curveBatchKeys;

  @Option(names = "--curve-rounds", defaultValue = "2",
      description = "delta-curve case: MERGEs per variant and size, in ABBA order (default ${DEFAULT-VALUE}).")
  int curveRounds;

  @Option(names = "--no-curve-deletion-vectors", negatable = true, defaultValue = "true",
      description = "delta-curve case: build the tables with delta.enableDeletionVectors, as eventproc creates upsert and history "
          + "targets (default on; --no-curve-deletion-vectors builds them without).")
  boolean curveDeletionVectors;

  @Option(names = "--kafka-servers", description = "Kafka brokers for the kafka case (default: an in-process broker).")
  String kafkaServers;

  @Option(names = "--e2e-batch", defaultValue = "100000",
      description = "e2e case: Kafka offsets per batch while draining the backlog (default ${DEFAULT-VALUE}).")
  int e2eBatch;

  @Option(names = "--e2e-rate", defaultValue = "20000", description = "e2e case: events/s of the latency run (default ${DEFAULT-VALUE}).")
  int e2eRate;

  @Option(names = "--e2e-seconds", defaultValue = "30",
      description = "e2e case: seconds the latency run produces, after 5 s of warm-up; 0 skips it (default ${DEFAULT-VALUE}).")
  int e2eSeconds;

  // On by default: picocli sets a negatable option named in its negative form to false when given.
  @Option(names = "--no-warmup", defaultValue = "true", negatable = true,
      description = "Skip the unmeasured warm-up (by default every case runs once on a tenth of the rows first, so JIT warm-up "
          + "does not favour later cases).")
  boolean warmup;

  @Option(names = "--repeat", defaultValue = "1", description = "Runs of every case; each variant reports its median (default ${DEFAULT-VALUE}).")
  int repeat;

  @Option(names = "--scale-events", split = ",", defaultValue = "1000000,5000000,20000000",
      description = "scale case: backlog sizes, one step each, smallest first (default ${DEFAULT-VALUE}).")
  List<Long> scaleEvents;

  @Option(names = "--out", defaultValue = "target/bench", description = "Directory for results.csv, results.json and ratios.png.")
  Path out;

  @Override
  public Integer call() throws Exception {
    Configurator.setLevel("dev.eventproc", Boolean.getBoolean("eventproc.bench.debug") ? Level.DEBUG : Level.WARN);
    SparkSession spark = Sessions.getOrCreate("eventproc-bench", Map.of(), EnumSet.of(SinkType.DELTA, SinkType.ICEBERG));
    spark.sparkContext().setLogLevel("ERROR");
    String machine = Runtime.getRuntime().availableProcessors() + " cores, " + (Runtime.getRuntime().maxMemory() >> 20)
        + " MiB heap, " + System.getProperty("os.name") + " " + System.getProperty("os.arch") + ", Java "
        + System.getProperty("java.version") + ", Spark " + spark.version();
    System.out.println("eventproc bench: " + rows + " rows per variant on " + machine);
    if (warmup) {
      System.out.println("  warming up (a tenth of the rows, not measured)");
      BenchReport warm = new BenchReport();
      runCases(spark, Math.max(1000, rows / 10), warm, 0, false, true);
      if (warm.failed()) {
        System.out.print(warm.table());
        System.out.println("\nbench: a case failed during the warm-up; no figures were measured");
        spark.stop();
        return 1;
      }
    }
    System.out.println("  " + Variants.describe(Math.max(1, repeat)));
    List<BenchReport> runs = new ArrayList<>();
    for (int i = 0; i < Math.max(1, repeat); i++) {
      BenchReport run = new BenchReport();
      runCases(spark, rows, run, i, i == 0, false);
      runs.add(run);
    }
    BenchReport report = BenchReport.median(runs);
    System.out.println();
    System.out.print(report.table());
    Files.createDirectories(out);
    report.writeCsv(out.resolve("results.csv"));
    report.writeJson(out.resolve("results.json"), machine);
    boolean chart = BenchChart.write(report, out.resolve("ratios.png"), "eventproc bench: ratios on " + machine);
    System.out.println("\nwrote " + out.resolve("results.csv") + ", " + out.resolve("results.json")
        + (chart ? " and " + out.resolve("ratios.png") : "")
        + (Files.exists(out.resolve("scale-curve.png")) && cases.contains("scale") ? "; the scale curve in " + out.resolve("scale-curve.png") : ""));
    Path curve = out.resolve("delta-merge-curve.png");
    if (BenchChart.curve(DeltaCurveBench.points(report, curveSizes), curveBatchKeys, curve,
        "Delta MERGE per batch vs table rows" + (curveDeletionVectors ? " (deletion vectors on)" : "") + " on " + machine)) {
      System.out.println("wrote " + curve);
    }
    spark.stop();
    if (report.failed()) {
      System.out.println("bench: a case failed (see above): its figures are missing or incomplete");
      return 1;
    }
    return 0;
  }

  private void runCases(SparkSession spark, long n, BenchReport report, int run, boolean say, boolean warmingUp) throws IOException {
    for (String c : cases) {
      String name = c.trim().toLowerCase(Locale.ROOT);
      switch (name) {
        case "postgres" -> {
          if (say) {
            System.out.println("  postgres: Spark JDBC writer (reWriteBatchedInserts) insert and staging upsert, raw binary COPY, "
                + "eventproc (batch and partition commit) at " + pgUrl);
          }
          String password = pgPasswordEnv == null ? null : System.getenv(pgPasswordEnv);
          try {
            PostgresBench.run(spark, new PostgresBench.Settings(pgUrl, pgUser, password, "eventproc_bench", n, pgPartitions, pgFillfactor),
                report, run);
          } catch (Exception e) {
            report.fail("postgres: failed: " + Failures.describe(e) + " (give --pg-url/--pg-user of a reachable server)");
          }
        }
        case "delta", "iceberg" -> {
          if (say) {
            System.out.println("  " + name + ": native streaming append vs eventproc append; bare MERGE vs eventproc MERGE");
          }
          Path work = Files.createTempDirectory("eventproc-bench-" + name);
          try {
            LakehouseBench.run(spark, LakehouseBench.Format.valueOf(name.toUpperCase(Locale.ROOT)), n, work, report, run);
          } catch (Exception e) {
            report.fail(name + ": failed: " + Failures.describe(e));
          } finally {
            deleteQuietly(work);
          }
        }
        case "kafka" -> {
          if (say) {
            System.out.println("  kafka: Spark's Kafka sink (eventproc's producer settings, and Kafka's defaults), a raw transactional "
                + "producer, eventproc (single and partitioned)");
          }
          try {
            KafkaBench.run(spark, kafkaServers(), n, report, run);
          } catch (Exception e) {
            report.fail("kafka: failed: " + Failures.describe(e));
          }
        }
        case "stage" -> {
          if (say) {
            System.out.println("  stage: Spark's dropDuplicatesWithinWatermark vs eventproc dedupe-latest; state size over the run");
          }
          Path work = Files.createTempDirectory("eventproc-bench-stage");
          try {
            StageBench.run(spark, n, work, report, run);
          } catch (Exception e) {
            report.fail("stage: failed: " + Failures.describe(e));
          } finally {
            deleteQuietly(work);
          }
        }
        case "e2e" -> {
          if (say) {
            System.out.println("  e2e: Kafka -> dedupe-latest -> PostgreSQL upsert and -> Delta MERGE: sustained rate on a backlog, then "
                + "p99 event-to-visible latency at " + e2eRate + " events/s");
          }
          runEndToEnd(spark, n, report, run, warmingUp);
        }
        case "scale" -> {
          if (say) {
            System.out.println("  scale: Kafka -> dedupe-latest (RocksDB) -> PostgreSQL upsert on backlogs of " + scaleEvents
                + " events: rate, peak memory, state, what stays live");
          }
          runScale(spark, report, warmingUp);
        }
        case "delta-curve" -> {
          if (say) {
            System.out.println("  delta-curve: eventproc's Delta upsert vs a bare MERGE of " + curveBatchKeys + " keys into tables of "
                + curveSizes + " rows, " + curveRounds + " rounds per size in ABBA order"
                + (curveDeletionVectors ? ", deletion vectors on" : ""));
          }
          runCurve(spark, report, warmingUp);
        }
        default -> report.fail(c + ": unknown case (cases: postgres, delta, iceberg, kafka, stage, e2e, scale, delta-curve)");
      }
    }
  }

  /** The warm-up merges a tenth of the batch into a table of a tenth of the smallest size, once per variant. */
  private void runCurve(SparkSession spark, BenchReport report, boolean warmingUp) throws IOException {
    Path work = Files.createTempDirectory("eventproc-bench-delta-curve");
    try {
      long smallest = curveSizes.stream().min(Long::compare).orElse(1000L);
      DeltaCurveBench.Settings s = warmingUp
          ? new DeltaCurveBench.Settings(List.of(Math.max(1000, smallest / 10)), Math.max(100, curveBatchKeys / 10), 1,
              curveDeletionVectors)
          : new DeltaCurveBench.Settings(curveSizes, curveBatchKeys, curveRounds, curveDeletionVectors);
      DeltaCurveBench.run(spark, s, work, report);
    } catch (Exception e) {
      report.fail("delta-curve: failed: " + Failures.describe(e));
    } finally {
      deleteQuietly(work);
    }
  }

  private void runEndToEnd(SparkSession spark, long n, BenchReport report, int run, boolean warmingUp) throws IOException {
    String password = pgPasswordEnv == null ? null : System.getenv(pgPasswordEnv);
    List<EndToEndBench.Target> targets = new ArrayList<>(List.of(EndToEndBench.Target.values()));
    if (run % 4 == 1 || run % 4 == 2) {
      Collections.reverse(targets); // ABBA, as the other cases' variants
    }
    for (EndToEndBench.Target target : targets) {
      Path work = Files.createTempDirectory("eventproc-bench-e2e");
      try {
        // The warm-up drains a small backlog only: the latency run's length does not shrink with --rows.
        int batch = (int) Math.max(1000, Math.min(e2eBatch, n / 5));
        EndToEndBench.run(spark, new EndToEndBench.Settings(kafkaServers(), n, batch, e2eRate,
            Duration.ofSeconds(warmingUp ? 0 : e2eSeconds), pgUrl, pgUser, password, work), target, report, run);
      } catch (Exception e) {
        String where = target == EndToEndBench.Target.POSTGRES ? " (give --pg-url/--pg-user of a reachable server)" : "";
        report.fail("e2e " + target.name().toLowerCase(Locale.ROOT) + ": failed: " + Failures.describe(e) + where);
      } finally {
        deleteQuietly(work);
      }
    }
  }

  /** Why {@code --scale-events} cannot be run, or null. */
  static String refuseScaleSizes(List<Long> sizes) {
    return sizes == null || sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 10_000)
        ? "scale: --scale-events must list sizes of at least 10000 events, got " + sizes : null;
  }

  private void runScale(SparkSession spark, BenchReport report, boolean warmingUp) throws IOException {
    String refused = refuseScaleSizes(scaleEvents);
    if (refused != null) {
      report.fail(refused);
      return;
    }
    String password = pgPasswordEnv == null ? null : System.getenv(pgPasswordEnv);
    Path work = Files.createTempDirectory("eventproc-bench-scale");
    try {
      // The warm-up runs the smallest step at a tenth of its size, once, and draws no chart.
      List<Long> sizes = warmingUp ? List.of(Math.max(10_000, Collections.min(scaleEvents) / 10)) : scaleEvents;
      int batch = (int) Math.max(1000, Math.min(e2eBatch, Collections.min(sizes) / 5));
      ScaleBench.run(spark, new EndToEndBench.Settings(kafkaServers(), 0, batch, e2eRate, Duration.ZERO, pgUrl, pgUser, password, work),
          sizes, report, warmingUp ? null : out.resolve("scale-curve.png"));
    } catch (Exception e) {
      report.fail("scale: failed: " + Failures.describe(e) + " (give --pg-url/--pg-user of a reachable server)");
    } finally {
      deleteQuietly(work);
    }
  }

  private LocalKafkaBroker broker;

  /** The brokers given, or an in-process one started on first use (stopped when the JVM ends). */
  private String kafkaServers() throws IOException {
    if (kafkaServers != null) {
      return kafkaServers;
    }
    if (broker == null) {
      broker = LocalKafkaBroker.start(Files.createTempDirectory("eventproc-bench-kafka"));
      LocalKafkaBroker b = broker;
      Runtime.getRuntime().addShutdownHook(new Thread(b::close));
    }
    return broker.bootstrapServers();
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory: the OS cleans it up eventually
    }
  }
}
