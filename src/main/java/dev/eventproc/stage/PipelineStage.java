package dev.eventproc.stage;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The configured stage of a pipeline over every parsed row, in the form a pipeline's
 * {@code foreachBatch} function ({@code QuarantineSplit}) splits: the stage's output, the quarantined
 * rows (with {@code quarantine_reason}, {@code raw_value}, {@code source_position}) and, for the
 * dedupe stages, accounting rows ({@link ParsedEvents#DROPPED}). Not for a sink: hand a sink the output
 * of {@link Dedupe#firstSeen(ParsedEvents, java.time.Duration)} or
 * {@link LatestVersion#apply(ParsedEvents, String, String, java.time.Duration)} or
 * {@link WindowAggregate#apply(ParsedEvents, StageOptions.Aggregation, java.time.Duration)} instead, or split this
 * with {@link ParsedEvents#mainRows} and {@link ParsedEvents#quarantineRows}.
 *
 * <p>The dedupe stages read the source once: quarantined rows pass through their group function and
 * hold no state. An aggregate cannot pass rows through, so its quarantined rows are added back with a
 * union and Spark reads the source once per side, counting each row twice in {@code numInputRows}; the
 * rows entering the aggregation are therefore observed ({@code Dataset.observe}) under
 * {@code inputObservation} as {@value #VALID_ROWS}, for an exact count of rows read.
 */
public final class PipelineStage {
  /** The count observed under the input observation: valid rows entering an aggregate stage. */
  public static final String VALID_ROWS = "valid_rows";

  private PipelineStage() {}

  /**
   * The stage {@code options} over {@code events}.
   *
   * @param inputObservation the name under which an aggregate stage observes its valid input rows
   */
  public static Dataset<Row> apply(ParsedEvents events, StageOptions options, String inputObservation) {
    return switch (options.type()) {
      case NONE -> events.all();
      case DEDUPE_FIRST_SEEN -> FirstSeen.passThrough(events, options.watermarkDelay());
      case DEDUPE_LATEST -> LatestVersion.passThrough(events, options.versionColumn(), options.tiebreakColumn(),
          options.watermarkDelay());
      case AGGREGATE -> WindowAggregate.withQuarantine(events,
          events.valid().observe(inputObservation, count(lit(1)).as(VALID_ROWS)), options.aggregation(),
          options.watermarkDelay());
    };
  }
}
