package dev.eventproc.cli;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.CheckpointGuard;
import dev.eventproc.pipeline.Pipeline;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineRunner;
import dev.eventproc.pipeline.Sessions;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code eventproc run --config FILE}: runs source -> stage -> sink with a checkpoint. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = "Run the pipeline of a config file until stopped, or until drained with trigger=available-now.")
final class RunCommand implements Callable<Integer> {
  private static final Logger LOG = LoggerFactory.getLogger(RunCommand.class);

  @Option(names = {"-c", "--config"}, required = true, paramLabel = "FILE", description = "Java properties file; README lists every key.")
  Path config;

  @Option(names = "--reset-checkpoint", description = "Delete the checkpoint first (also one written for a different source, "
      + "schema, key or stage) and read the source again from its starting offsets.")
  boolean resetCheckpoint;

  @Mixin
  RestrictedOptions restricted;

  @Override
  public Integer call() {
    EventprocConfig raw = restricted.load(config);
    PipelineConfig pipeline = PipelineConfig.from(raw);
    LOG.info("config {}: {}", config, raw.masked());
    SparkSession spark = Sessions.getOrCreate(pipeline.name(), pipeline.sparkConf(), pipeline.sinkTypes(), pipeline.sparkMetrics());
    if (spark.sparkContext().uiWebUrl().isDefined()) {
      LOG.info("pipeline={}: Spark UI at {}", pipeline.name(), spark.sparkContext().uiWebUrl().get());
    }
    if (resetCheckpoint) {
      LOG.warn("pipeline={}: deleting checkpoint {} (--reset-checkpoint)", pipeline.name(), pipeline.checkpoint());
      CheckpointGuard.reset(spark, pipeline);
    }
    Pipeline done = PipelineRunner.run(spark, pipeline, stats -> System.out.println(Progress.line(pipeline.name(), stats)));
    System.out.println(Progress.summary(done));
    return 0;
  }
}
