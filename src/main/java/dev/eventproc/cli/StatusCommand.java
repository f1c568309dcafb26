package dev.eventproc.cli;

import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.Sessions;
import dev.eventproc.pipeline.StatusReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code eventproc status --config FILE [--json]}: each sink's commit records next to the checkpoint, with a verdict. */
@Command(name = "status", mixinStandardHelpOptions = true,
    description = "Compare what each sink's commit records say (last batch of this checkpoint's writer, its time and rows, "
        + "batches committed in part) with the checkpoint's last planned and committed batch, and say what it means. Reads "
        + "only. Exit status: 0 OK, 3 WARN (the sink holds a batch the checkpoint does not: a restart settles it), "
        + "4 FAIL (batches lost, or a checkpoint older than the sink), 1 a sink could not be read, 2 config error.")
final class StatusCommand implements Callable<Integer> {
  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "The pipeline's config file.")
  Path config;

  @Option(names = "--json", description = "Print one JSON object instead of text.")
  boolean json;

  @Mixin
  RestrictedOptions restricted;

  @Override
  public Integer call() {
    PipelineConfig pipeline = PipelineConfig.from(restricted.load(config));
    SparkSession spark = Sessions.getOrCreate(pipeline.name() + "-status", pipeline.sparkConf(), pipeline.sinkTypes());
    StatusReport report = StatusReport.check(spark, pipeline, restricted::redact);
    System.out.println(json ? report.json() : report.text());
    return report.exitStatus();
  }
}
