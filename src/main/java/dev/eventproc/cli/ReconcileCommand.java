package dev.eventproc.cli;

import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.Sessions;
import dev.eventproc.reconcile.ReconcileReport;
import dev.eventproc.reconcile.Reconciler;
import dev.eventproc.security.RestrictedConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code eventproc reconcile --config FILE}: the checks of sql/ against the configured sinks; exit 1 on any FAIL. */
@Command(name = "reconcile", mixinStandardHelpOptions = true,
    description = "Run the reconciliation checks of sql/ that fit the configured sinks, print them, write JSON and Markdown "
        + "reports, and exit 1 if any check fails.")
final class ReconcileCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The pipeline's config file.")
  Path config;

  @Option(names = "--out", paramLabel = "DIR", description = "Directory for reconcile.json and reconcile.md "
      + "(default: <checkpoint.location>-reconcile for a local checkpoint, else target/reconcile).")
  Path out;

  @Mixin
  RestrictedOptions restricted;

  @Override
  public Integer call() throws Exception {
    PipelineConfig pipeline = PipelineConfig.from(restricted.load(config));
    if (out == null && pipeline.raw().restricted() != null) {
      // The default report directory is derived from checkpoint.location: it must stay below the root too.
      RestrictedConfig.checkDerivedLocalPath(pipeline.raw().restricted(), "checkpoint.location",
          defaultDir(pipeline).toString(), "the report directory --out defaults to");
    }
    SparkSession spark = Sessions.getOrCreate(pipeline.name() + "-reconcile", pipeline.sparkConf(), pipeline.sinkTypes());
    ReconcileReport report = run(spark, pipeline, out);
    System.out.print(report.table());
    return report.passed() ? 0 : 1;
  }

  /** Runs the checks and writes the report files; shared with the demo. */
  static ReconcileReport run(SparkSession spark, PipelineConfig pipeline, Path out) throws IOException {
    ReconcileReport report = new ReconcileReport(pipeline.name(), Instant.now(), Reconciler.run(spark, pipeline.sink(), pipeline.reconcile()));
    Path dir = out != null ? out : defaultDir(pipeline);
    report.writeJson(dir.resolve("reconcile.json"));
    report.writeMarkdown(dir.resolve("reconcile.md"));
    System.out.println("reports: " + dir.resolve("reconcile.json") + ", " + dir.resolve("reconcile.md"));
    return report;
  }

  private static Path defaultDir(PipelineConfig p) {
    String cp = p.checkpoint();
    boolean local = !cp.contains("://") || cp.startsWith("file:");
    return local ? Path.of(cp.replaceFirst("^file:(//)?", "").replaceAll("/+$", "") + "-reconcile") : Path.of("target", "reconcile");
  }
}
