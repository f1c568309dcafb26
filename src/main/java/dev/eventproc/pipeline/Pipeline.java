package dev.eventproc.pipeline;

import dev.eventproc.stage.Dedupe;
import dev.eventproc.stage.EventStream;
import dev.eventproc.stage.ParsedEvents;
import java.util.concurrent.TimeoutException;
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
  private static final Logger LOG = LoggerFactory.getLogger(Pipeline.class);

  private final PipelineConfig config;
  private final QuarantineSplit split;
  private final StreamingQuery query;

  private Pipeline(PipelineConfig config, QuarantineSplit split, StreamingQuery query) {
    this.config = config;
    this.split = split;
    this.query = query;
  }

  /** Builds the query on {@code spark} and starts it. */
  public static Pipeline start(SparkSession spark, PipelineConfig config) {
    ParsedEvents events = EventStream.read(spark, config.source());
    Dataset<Row> staged = stage(events, config);
    QuarantineSplit split = new QuarantineSplit(config.sink(), config.quarantine());
    DataStreamWriter<Row> writer = staged.writeStream()
        .queryName(config.name())
        .option("checkpointLocation", config.checkpoint())
        .foreachBatch(split)
        .trigger(trigger(config));
    LOG.info("pipeline={}: starting {} -> {} -> {} (quarantine -> {}), checkpoint {}", config.name(),
        config.source().describe(), config.stage().type(), config.sink(), config.quarantine(), config.checkpoint());
    try {
      return new Pipeline(config, split, writer.start());
    } catch (TimeoutException e) {
      throw new IllegalStateException("pipeline " + config.name() + ": the query did not start: " + e.getMessage(), e);
    }
  }

  /** The stage over all parsed rows; quarantined rows pass through it, so the source is read once. */
  static Dataset<Row> stage(ParsedEvents events, PipelineConfig config) {
    return switch (config.stage().type()) {
      case NONE -> events.all();
      case DEDUPE_FIRST_SEEN -> Dedupe.firstSeen(events, config.stage().watermarkDelay());
    };
  }

  private static Trigger trigger(PipelineConfig config) {
    return switch (config.trigger()) {
      case AVAILABLE_NOW -> Trigger.AvailableNow();
      case ONCE -> Trigger.Once();
      case PROCESSING_TIME -> Trigger.ProcessingTime(config.triggerInterval().toMillis());
    };
  }

  public PipelineConfig config() {
    return config;
  }

  public StreamingQuery query() {
    return query;
  }

  /** The foreachBatch function, with both sinks and their metrics. */
  public QuarantineSplit split() {
    return split;
  }
}
