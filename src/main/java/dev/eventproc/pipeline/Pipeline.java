package dev.eventproc.pipeline;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.stage.EventStream;
import dev.eventproc.stage.ParsedEvents;
import dev.eventproc.stage.PipelineStage;
import dev.eventproc.stage.StageOptions;
import dev.eventproc.util.Errors;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamWriter;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Wires source, stage and sink of a {@link PipelineConfig} into one streaming query and starts it. */
public final class Pipeline {
  /** How long {@link #removeListener()} waits for an ended query's last progress events. */
  static final Duration LAST_REPORT_WAIT = Duration.ofSeconds(30);
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);
  private static final String STATE_PROVIDER = "spark.sql.streaming.stateStore.providerClass";

  private final PipelineConfig config;
  private final QuarantineSplit split;
  private final StreamingQuery query;
  private final ProgressListener listener;

  private Pipeline(PipelineConfig config, QuarantineSplit split, StreamingQuery query, ProgressListener listener) {
    this.config = config;
    this.split = split;
    this.query = query;
    this.listener = listener;
  }

  /** Builds the query on {@code spark} and starts it. */
  public static Pipeline start(SparkSession spark, PipelineConfig config) {
    return start(spark, config, null);
  }

  /**
   * Builds the query on {@code spark} and starts it, with a {@link ProgressListener} registered on
   * the session that calls {@code onBatch} (may be null) after each batch. The listener lives as long
   * as the query: it unregisters itself when the query ends (stopped, failed or drained), and hears no
   * other query, even one of the same name. Stop the pipeline with {@link #stop()}.
   */
  public static Pipeline start(SparkSession spark, PipelineConfig config, Consumer<ProgressListener.BatchStats> onBatch) {
    CheckpointGuard.check(spark, config);
    ParsedEvents events = EventStream.read(spark, config.source(), config.inputRules());
    Dataset<Row> staged = BatchCounts.observe(stage(events, config), config.name());
    QuarantineSplit split = new QuarantineSplit(config.sink(), config.quarantine());
    // With the plugin on, the pipeline's figures go to Spark's metrics system too (replacing a former run's).
    Consumer<ProgressListener.BatchStats> report = SparkMetrics.registry(spark)
        .map(r -> PipelineMetrics.register(r, config.name(), config.sinksAndQuarantine(),
            config.stage().type() != StageOptions.Type.AGGREGATE))
        .<Consumer<ProgressListener.BatchStats>>map(m -> onBatch == null ? m : m.andThen(onBatch))
        .orElse(onBatch);
    ProgressListener listener = new ProgressListener(config.name(), split, report);
    DataStreamWriter<Row> writer = staged.writeStream()
        .queryName(config.name())
        .option("checkpointLocation", config.checkpoint())
        .foreachBatch(split)
        .trigger(trigger(config));
    LOG.info("pipeline={}: starting {} -> {} -> {} (quarantine -> {}), checkpoint {}", config.name(),
        config.source().describe(), config.stage().type(), config.sink(), config.quarantine(), config.checkpoint());
    spark.streams().addListener(listener);
    // The provider is read when the query starts (and kept in its checkpoint); the session keeps its own.
    String provider = config.stage().stateStore().providerClass();
    String before = spark.conf().get(STATE_PROVIDER, null);
    try {
      if (provider != null) {
        spark.conf().set(STATE_PROVIDER, provider);
      }
      StreamingQuery query = writer.start();
      listener.bind(query);
      return new Pipeline(config, split, query, listener);
    } catch (TimeoutException e) {
      spark.streams().removeListener(listener);
      throw new IllegalStateException("pipeline " + config.name() + ": the query did not start: " + e.getMessage(), e);
    } catch (Exception e) { // AnalysisException is checked, thrown through Scala
      spark.streams().removeListener(listener);
      if (e instanceof AnalysisException) {
        throw new ConfigException("pipeline " + config.name() + ": Spark refuses this " + StageOptions.TYPE
            + "=" + ConfigReader.configName(config.stage().type()) + " query: " + e.getMessage());
      }
      throw Errors.<RuntimeException>rethrow(e);
    } finally {
      if (provider != null) {
        if (before == null) {
          spark.conf().unset(STATE_PROVIDER);
        } else {
          spark.conf().set(STATE_PROVIDER, before);
        }
      }
    }
  }

  /** The stage over all parsed rows, quarantined rows included (see {@link PipelineStage}). */
  static Dataset<Row> stage(ParsedEvents events, PipelineConfig config) {
    return PipelineStage.apply(events, config.stage(), BatchCounts.inputObservationName(config.name()));
  }

  private static Trigger trigger(PipelineConfig config) {
    return switch (config.trigger()) {
      case AVAILABLE_NOW -> Trigger.AvailableNow();
      // Spark's Once ignores the per-trigger limits (a whole backlog in one batch); AvailableNow keeps them.
      case ONCE -> Trigger.AvailableNow();
      case PROCESSING_TIME -> Trigger.ProcessingTime(config.triggerInterval().toMillis());
    };
  }

  public PipelineConfig config() {
    return config;
  }

  public StreamingQuery query() {
    return query;
  }

  /** The listener reporting this pipeline's batches. */
  public ProgressListener listener() {
    return listener;
  }

  /**
   * Stops the pipeline between batches: the batch in flight finishes and is reported (for at most 60
   * s; past that it is cancelled and runs again after a restart), the next one does not start, the
   * query stops and the listener is unregistered. Calling it on a stopped pipeline does nothing.
   */
  public void stop() {
    stop(GracefulStop.BOUND);
  }

  /** {@link #stop()} waiting at most {@code bound} for the batch in flight and its report. */
  public void stop(Duration bound) {
    GracefulStop.stop(this, bound);
    removeListener();
  }

  /**
   * Unregisters the progress listener (the query may still run). Of a query that has ended, the last
   * batches' progress events may still be queued on Spark's listener bus: it first waits (at most
   * {@link #LAST_REPORT_WAIT}) until they are delivered, so every batch is reported.
   */
  public void removeListener() {
    if (!query.isActive()) {
      try {
        if (!listener.awaitTerminated(System.currentTimeMillis() + LAST_REPORT_WAIT.toMillis())) {
          LOG.warn("pipeline={}: Spark's listener bus did not deliver the query's last progress events within {} s; "
              + "batches after {} are not reported", config.name(), LAST_REPORT_WAIT.toSeconds(), listener.lastReported());
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    query.sparkSession().streams().removeListener(listener);
  }

  /** The foreachBatch function, with both sinks and their metrics. */
  public QuarantineSplit split() {
    return split;
  }
}
