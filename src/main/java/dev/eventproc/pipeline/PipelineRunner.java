package dev.eventproc.pipeline;

import dev.eventproc.stage.StageOptions;
import java.nio.file.Path;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pipeline to its end: until the query stops (drained with {@code trigger=available-now} or
 * {@code once}, stopped by a signal) or fails. While it runs, SIGINT (Ctrl-C) and SIGTERM stop it
 * between batches ({@link Pipeline#stop()}): the batch in flight finishes and is reported (for at most
 * 60 s), then {@code run} returns normally. A second signal exits at once. Any other JVM shutdown stops
 * it the same way from a shutdown hook, racing Spark's own hook.
 */
public final class PipelineRunner {
  private static final Logger LOG = LoggerFactory.getLogger(PipelineRunner.class);

  private PipelineRunner() {}

  /**
   * Starts the pipeline and blocks until it ends.
   *
   * @param onBatch called after each completed batch (may be null)
   * @return the finished pipeline, with its sinks' metrics
   * @throws PipelineFailedException when the query fails; the cause is Spark's, unchanged
   */
  public static Pipeline run(SparkSession spark, PipelineConfig config, Consumer<ProgressListener.BatchStats> onBatch) {
    Pipeline pipeline = null;
    Thread stopper = null;
    StopSignals signals = null;
    try {
      pipeline = Pipeline.start(spark, config, report(config, onBatch));
      Pipeline started = pipeline;
      stopper = new Thread(() -> {
        if (started.query().isActive()) {
          LOG.info("pipeline={}: stopping on shutdown", config.name());
          GracefulStop.stop(started, GracefulStop.BOUND);
        }
      }, "eventproc-shutdown-" + config.name());
      Runtime.getRuntime().addShutdownHook(stopper);
      signals = StopSignals.install(config.name(), () -> GracefulStop.stop(started, GracefulStop.BOUND));
      pipeline.query().awaitTermination();
      return pipeline;
    } catch (StreamingQueryException e) {
      throw new PipelineFailedException(config.name(), e.getCause() == null ? e : e.getCause());
    } finally {
      if (signals != null) {
        signals.close();
      }
      if (pipeline != null) {
        pipeline.removeListener();
      }
      if (stopper != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(stopper);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running or has run
        }
      }
    }
  }

  /** The caller's callback, the metrics file and a warning when a batch's accounting does not close. */
  private static Consumer<ProgressListener.BatchStats> report(PipelineConfig config, Consumer<ProgressListener.BatchStats> onBatch) {
    MetricsFile file = config.metricsFile() == null ? null : new MetricsFile(config.name(), Path.of(config.metricsFile()));
    boolean closes = config.stage().type() != StageOptions.Type.AGGREGATE;
    return stats -> {
      if (closes && !stats.closes()) {
        long accounted = stats.written() + stats.duplicatesDropped() + stats.lateDropped() + stats.quarantined();
        // Spark's input count includes rows it read again to recompute work lost with an executor.
        String hint = stats.inputRows() > accounted ? " (expected after an executor was lost: Spark counts the input it read "
            + "again; the sinks' counts are exact)" : "";
        LOG.warn("pipeline={} batch={}: accounting does not close: {} in != {} to the sink + {} duplicates + {} late + {} "
            + "quarantined{}", config.name(), stats.batchId(), stats.inputRows(), stats.written(), stats.duplicatesDropped(),
            stats.lateDropped(), stats.quarantined(), hint);
      }
      if (file != null) {
        file.accept(stats);
      }
      if (onBatch != null) {
        onBatch.accept(stats);
      }
    };
  }

  /** The streaming query of a pipeline failed. */
  public static final class PipelineFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PipelineFailedException(String name, Throwable cause) {
      super("pipeline " + name + " failed: " + cause.getMessage(), cause);
    }
  }
}
