package dev.eventproc.pipeline;

import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a pipeline to its end: until the query stops (drained with {@code trigger=available-now} or
 * {@code once}, stopped by a signal) or fails. A JVM shutdown (Ctrl-C, SIGTERM) stops the query
 * cleanly between batches where possible.
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
    ProgressListener listener = new ProgressListener(config.name(), onBatch);
    spark.streams().addListener(listener);
    Pipeline pipeline = null;
    Thread stopper = null;
    try {
      pipeline = Pipeline.start(spark, config);
      Pipeline started = pipeline;
      stopper = new Thread(() -> {
        if (started.query().isActive()) {
          LOG.info("pipeline={}: stopping on shutdown", config.name());
          try {
            started.query().stop();
          } catch (Exception e) {
            LOG.warn("pipeline={}: stop failed: {}", config.name(), e.toString());
          }
        }
      }, "eventproc-stop-" + config.name());
      Runtime.getRuntime().addShutdownHook(stopper);
      pipeline.query().awaitTermination();
      return pipeline;
    } catch (StreamingQueryException e) {
      throw new PipelineFailedException(config.name(), e.getCause() == null ? e : e.getCause());
    } finally {
      spark.streams().removeListener(listener);
      if (stopper != null) {
        try {
          Runtime.getRuntime().removeShutdownHook(stopper);
        } catch (IllegalStateException shuttingDown) {
          // the hook is running or has run
        }
      }
    }
  }

  /** The streaming query of a pipeline failed. */
  public static final class PipelineFailedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    PipelineFailedException(String name, Throwable cause) {
      super("pipeline " + name + " failed: " + cause.getMessage(), cause);
    }
  }
}
