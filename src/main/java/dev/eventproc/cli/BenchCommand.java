package dev.eventproc.cli;

import dev.eventproc.bench.BenchChart;
import dev.eventproc.bench.BenchReport;
import dev.eventproc.bench.DeltaCurveBench;
import dev.eventproc.bench.Variants;
import dev.eventproc.pipeline.Sessions;
import dev.eventproc.sink.SinkType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
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

  @Option(names = "--e2e-sinks", split = ",", defaultValue = "postgres,delta",
      description = "e2e case: sinks to run, postgres and/or delta (default ${DEFAULT-VALUE}).")
  List<String> e2eSinks;

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
    BenchCases runner = new BenchCases(this);
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
      runner.run(spark, Math.max(1000, rows / 10), warm, 0, false, true);
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
      runner.run(spark, rows, run, i, i == 0, false);
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
}
