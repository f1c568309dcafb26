package dev.eventproc.pipeline;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.eventproc.stage.EventStream;
import dev.eventproc.stage.ParsedEvents;
import dev.eventproc.stage.PipelineStage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * The batch's own counts as Spark observed metrics ({@code Dataset.observe}), so they appear in
 * {@code StreamingQueryProgress.observedMetrics} under {@code eventproc_<pipeline>} and in the Spark
 * UI's Structured Streaming tab: {@code rows} (the stage's output, quarantined rows included),
 * {@code to_sink} (rows for the main sink), {@code quarantined}, and for stages that count their drops in
 * the batch, {@code duplicates_dropped}. Computed while the batch is written: no extra pass.
 */
public final class BatchCounts {
  public static final String ROWS = "rows";
  public static final String TO_SINK = "to_sink";
  public static final String QUARANTINED = "quarantined";
  public static final String DUPLICATES_DROPPED = "duplicates_dropped";

  private BatchCounts() {}

  /** The name of a pipeline's observation in {@code observedMetrics}. */
  public static String observationName(String pipeline) {
    return "eventproc_" + pipeline;
  }

  /** The name of the observation of the rows entering a stage that Spark reads twice (see {@link PipelineStage}). */
  public static String inputObservationName(String pipeline) {
    return observationName(pipeline) + "_input";
  }

  /**
   * Rows read by a batch, counted once: for a stage that Spark reads twice (an aggregate and its
   * quarantine union), the valid rows that entered the stage plus the quarantined ones, from the batch's
   * observations; otherwise, or without those observations, Spark's {@code numInputRows} ({@code sourceRows}).
   */
  static long inputRows(StreamingQueryProgress p, String pipeline, long sourceRows) {
    Map<String, Row> observed = p.observedMetrics();
    Row valid = observed == null || pipeline == null ? null : observed.get(inputObservationName(pipeline));
    Row counts = valid == null ? null : observed.get(observationName(pipeline));
    if (counts == null) {
      return sourceRows;
    }
    return valid.<Long>getAs(PipelineStage.VALID_ROWS) + counts.<Long>getAs(QUARANTINED);
  }

  /** The stage's output with its counts observed. */
  static Dataset<Row> observe(Dataset<Row> staged, String pipeline) {
    boolean drops = ParsedEvents.hasDropCounts(staged);
    Column accounting = drops ? col(ParsedEvents.DROPPED).isNotNull() : lit(false);
    Column quarantined = col(EventStream.REASON).isNotNull();
    List<Column> counts = new ArrayList<>();
    counts.add(count(when(not(accounting), 1)).as(ROWS));
    counts.add(count(when(not(accounting).and(not(quarantined)), 1)).as(TO_SINK));
    counts.add(count(when(quarantined, 1)).as(QUARANTINED));
    if (drops) {
      counts.add(coalesce(sum(col(ParsedEvents.DROPPED)), lit(0L)).as(DUPLICATES_DROPPED));
    }
    return staged.observe(observationName(pipeline), counts.get(0), counts.subList(1, counts.size()).toArray(Column[]::new));
  }
}
