package dev.eventproc.cli;

import dev.eventproc.bench.BenchReport;
import dev.eventproc.bench.DeltaCurveBench;
import dev.eventproc.bench.EndToEndBench;
import dev.eventproc.bench.KafkaBench;
import dev.eventproc.bench.LakehouseBench;
import dev.eventproc.bench.PostgresBench;
import dev.eventproc.bench.ScaleBench;
import dev.eventproc.bench.StageBench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;

/**
 * The cases of {@code eventproc bench}, run with the command's options: each case's variants and
 * baselines go into one {@link BenchReport}; a case that fails is reported there and the others run.
 */
final class BenchCases {
  private final BenchCommand options;

  BenchCases(BenchCommand options) {
    this.options = options;
  }

  /**
   * Runs every case of {@code --cases} once with {@code n} rows per variant into {@code report}.
   *
   * @param run the repeat's index (variants alternate their order, see {@code Variants})
   * @param say print what each case compares (the first measured run)
   * @param warmingUp the unmeasured warm-up: latency runs and charts are skipped
   */
  void run(SparkSession spark, long n, BenchReport report, int run, boolean say, boolean warmingUp) throws IOException {
    for (String c : options.cases) {
      String name = c.trim().toLowerCase(Locale.ROOT);
      switch (name) {
        case "postgres" -> {
          if (say) {
            System.out.println("  postgres: Spark JDBC writer (reWriteBatchedInserts) insert and staging upsert, raw binary COPY, "
                + "eventproc (batch and partition commit) at " + options.pgUrl);
          }
          String password = options.pgPasswordEnv == null ? null : System.getenv(options.pgPasswordEnv);
          try {
            PostgresBench.run(spark, new PostgresBench.Settings(options.pgUrl, options.pgUser, password, "eventproc_bench", n, options.pgPartitions, options.pgFillfactor),
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
                + "producer, eventproc (single on the driver and in a task, and partitioned)");
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
            String sinks = String.join(" and -> ", options.e2eSinks.stream().distinct()
                .map(t -> t.equals("postgres") ? "PostgreSQL upsert" : t.equals("delta") ? "Delta MERGE" : t).toList());
            System.out.println("  e2e: Kafka -> dedupe-latest -> " + sinks + ": sustained rate on a backlog, then "
                + "p99 event-to-visible latency at " + options.e2eRate + " events/s");
          }
          runEndToEnd(spark, n, report, run, warmingUp);
        }
        case "scale" -> {
          if (say) {
            System.out.println("  scale: Kafka -> dedupe-latest (RocksDB) -> PostgreSQL upsert on backlogs of " + options.scaleEvents
                + " events: rate, peak memory, state, what stays live");
          }
          runScale(spark, report, warmingUp);
        }
        case "delta-curve" -> {
          if (say) {
            System.out.println("  delta-curve: eventproc's Delta upsert vs a bare MERGE of " + options.curveBatchKeys + " keys into tables of "
                + options.curveSizes + " rows, " + options.curveRounds + " rounds per size in ABBA order"
                + (options.curveDeletionVectors ? ", deletion vectors on" : ""));
          }
          runCurve(spark, report, warmingUp);
        }
        default -> report.fail(c + ": unknown case (options.cases: postgres, delta, iceberg, kafka, stage, e2e, scale, delta-curve)");
      }
    }
  }

  /** The warm-up merges a tenth of the batch into a table of a tenth of the smallest size, once per variant. */
  private void runCurve(SparkSession spark, BenchReport report, boolean warmingUp) throws IOException {
    Path work = Files.createTempDirectory("eventproc-bench-delta-curve");
    try {
      long smallest = options.curveSizes.stream().min(Long::compare).orElse(1000L);
      DeltaCurveBench.Settings s = warmingUp
          ? new DeltaCurveBench.Settings(List.of(Math.max(1000, smallest / 10)), Math.max(100, options.curveBatchKeys / 10), 1,
              options.curveDeletionVectors)
          : new DeltaCurveBench.Settings(options.curveSizes, options.curveBatchKeys, options.curveRounds, options.curveDeletionVectors);
      DeltaCurveBench.run(spark, s, work, report);
    } catch (Exception e) {
      report.fail("delta-curve: failed: " + Failures.describe(e));
    } finally {
      deleteQuietly(work);
    }
  }

  private void runEndToEnd(SparkSession spark, long n, BenchReport report, int run, boolean warmingUp) throws IOException {
    String password = options.pgPasswordEnv == null ? null : System.getenv(options.pgPasswordEnv);
    String refused = refuseEndToEndSinks(options.e2eSinks);
    if (refused != null) {
      report.fail(refused);
      return;
    }
    List<EndToEndBench.Target> targets = options.e2eSinks.stream().distinct()
        .map(name -> EndToEndBench.Target.valueOf(name.toUpperCase(Locale.ROOT))).collect(Collectors.toCollection(ArrayList::new));
    if (run % 4 == 1 || run % 4 == 2) {
      Collections.reverse(targets); // ABBA, as the other options.cases' variants
    }
    for (EndToEndBench.Target target : targets) {
      Path work = Files.createTempDirectory("eventproc-bench-e2e");
      try {
        // The warm-up drains a small backlog only: the latency run's length does not shrink with --rows.
        int batch = (int) Math.max(1000, Math.min(options.e2eBatch, n / 5));
        EndToEndBench.run(spark, new EndToEndBench.Settings(kafkaServers(), n, batch, options.e2eRate,
            Duration.ofSeconds(warmingUp ? 0 : options.e2eSeconds), options.pgUrl, options.pgUser, password, work), target, report, run);
      } catch (Exception e) {
        String where = target == EndToEndBench.Target.POSTGRES ? " (give --pg-url/--pg-user of a reachable server)" : "";
        report.fail("e2e " + target.name().toLowerCase(Locale.ROOT) + ": failed: " + Failures.describe(e) + where);
      } finally {
        deleteQuietly(work);
      }
    }
  }

  /** Why {@code --e2e-sinks} cannot be run, or null. */
  static String refuseEndToEndSinks(List<String> names) {
    List<String> known = Stream.of(EndToEndBench.Target.values()).map(t -> t.name().toLowerCase(Locale.ROOT)).toList();
    return names == null || names.isEmpty() || !known.containsAll(names)
        ? "e2e: --e2e-sinks must list postgres and/or delta, got " + names : null;
  }

  /** Why {@code --scale-events} cannot be run, or null. */
  static String refuseScaleSizes(List<Long> sizes) {
    return sizes == null || sizes.isEmpty() || sizes.stream().anyMatch(n -> n < 10_000)
        ? "scale: --scale-events must list sizes of at least 10000 events, got " + sizes : null;
  }

  private void runScale(SparkSession spark, BenchReport report, boolean warmingUp) throws IOException {
    String refused = refuseScaleSizes(options.scaleEvents);
    if (refused != null) {
      report.fail(refused);
      return;
    }
    String password = options.pgPasswordEnv == null ? null : System.getenv(options.pgPasswordEnv);
    Path work = Files.createTempDirectory("eventproc-bench-scale");
    try {
      // The warm-up runs the smallest step at a tenth of its size, once, and draws no chart.
      List<Long> sizes = warmingUp ? List.of(Math.max(10_000, Collections.min(options.scaleEvents) / 10)) : options.scaleEvents;
      int batch = (int) Math.max(1000, Math.min(options.e2eBatch, Collections.min(sizes) / 5));
      ScaleBench.run(spark, new EndToEndBench.Settings(kafkaServers(), 0, batch, options.e2eRate, Duration.ZERO, options.pgUrl, options.pgUser, password, work),
          sizes, report, warmingUp ? null : options.out.resolve("scale-curve.png"));
    } catch (Exception e) {
      report.fail("scale: failed: " + Failures.describe(e) + " (give --pg-url/--pg-user of a reachable server)");
    } finally {
      deleteQuietly(work);
    }
  }

  private LocalKafkaBroker broker;

  /** The brokers given, or an in-process one started on first use (stopped when the JVM ends). */
  private String kafkaServers() throws IOException {
    if (options.kafkaServers != null) {
      return options.kafkaServers;
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
