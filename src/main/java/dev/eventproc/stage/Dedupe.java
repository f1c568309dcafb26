package dev.eventproc.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import dev.eventproc.config.Durations;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** Streaming duplicate removal under a watermark. */
public final class Dedupe {
  /**
   * Spark's {@code uuid()}, evaluated inside {@code transform} (interpreted, not generated). The id must
   * be the same when Spark runs a task again, since it routes the row to a shuffle partition (a new id
   * could send the row to no reducer or two): {@code uuid()} is, seeded per query plan and partition,
   * where a random UUID per call is not. But its seed, new every batch, would be written into the
   * generated source of the parse stage, compiled again every batch; {@code transform} keeps it out.
   * ({@code monotonically_increasing_id()} is refused on streams.)
   */
  static final String RETRY_STABLE_UUID = "element_at(transform(array(0), x -> uuid()), 1)";

  private Dedupe() {}

  /**
   * Keeps the first row seen of each key and drops later duplicates, remembering a key until the
   * watermark passes its event time plus {@code delay} ({@code dropDuplicatesWithinWatermark}, Spark
   * 3.5). Rows older than the watermark are dropped as late (Spark counts them in the state
   * operator's {@code numRowsDroppedByWatermark}). Beyond the watermark, a sink in
   * {@code insert-if-absent} mode still keeps the target free of duplicate keys.
   */
  public static Dataset<Row> firstSeen(Dataset<Row> events, List<String> keys, String eventTimeColumn, Duration delay) {
    return events.withWatermark(eventTimeColumn, Durations.toSparkInterval(delay))
        .dropDuplicatesWithinWatermark(keys.toArray(String[]::new));
  }

  /**
   * {@link #firstSeen(Dataset, List, String, Duration)} over the valid rows of parsed events, on their
   * key and event-time columns: the schema's columns, what a sink takes. The quarantined rows are
   * {@link ParsedEvents#quarantined()}.
   */
  public static Dataset<Row> firstSeen(ParsedEvents events, Duration delay) {
    return firstSeen(events.valid(), events.keyColumns(), events.eventTimeColumn(), delay);
  }

  /**
   * All parsed rows, quarantined ones marked to pass through a stateful stage ({@link KeyGroups}): a
   * unique {@link ParsedEvents#PASS_THROUGH_ID} (source position plus a UUID, since a file's lines
   * share one position), so each is a group of its own, and a null event time, so a wild clock in a bad
   * row cannot move the watermark. Valid rows have a null id. See {@link #RETRY_STABLE_UUID}.
   */
  static Dataset<Row> withPassThroughIds(ParsedEvents events) {
    String eventTime = events.eventTimeColumn();
    Column quarantined = col(EventStream.REASON).isNotNull();
    return events.all()
        .withColumn(ParsedEvents.PASS_THROUGH_ID, when(quarantined,
            concat_ws("#", col(EventStream.POSITION), expr(RETRY_STABLE_UUID)))
            .otherwise(lit(null).cast("string")))
        .withColumn(eventTime, when(quarantined, lit(null).cast("timestamp")).otherwise(col(quote(eventTime))));
  }

  private static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }
}
