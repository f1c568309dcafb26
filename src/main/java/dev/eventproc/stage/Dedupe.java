package dev.eventproc.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import dev.eventproc.config.Durations;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF0;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/** Streaming duplicate removal under a watermark. */
public final class Dedupe {
  /**
   * A random UUID per row. Not Spark's uuid(): streaming gives it a new seed every batch and codegen
   * writes the seed into the stage's Java source, so every batch would compile the parse stage anew.
   */
  private static final UserDefinedFunction RANDOM_UUID =
      udf((UDF0<String>) () -> UUID.randomUUID().toString(), DataTypes.StringType).asNondeterministic().asNonNullable();

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
   * unique {@link ParsedEvents#PASS_THROUGH_ID} (source position plus a random UUID, since a file's
   * lines share one position), so each is a group of its own, and a null event time, so a wild clock
   * in a bad row cannot move the watermark. Valid rows have a null id.
   */
  static Dataset<Row> withPassThroughIds(ParsedEvents events) {
    String eventTime = events.eventTimeColumn();
    Column quarantined = col(EventStream.REASON).isNotNull();
    return events.all()
        .withColumn(ParsedEvents.PASS_THROUGH_ID, when(quarantined,
            concat_ws("#", col(EventStream.POSITION), RANDOM_UUID.apply()))
            .otherwise(lit(null).cast("string")))
        .withColumn(eventTime, when(quarantined, lit(null).cast("timestamp")).otherwise(col(quote(eventTime))));
  }

  private static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }
}
