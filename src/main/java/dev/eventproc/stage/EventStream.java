package dev.eventproc.stage;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.trim;
import static org.apache.spark.sql.functions.when;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.DataStreamReader;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reads events from Kafka or a directory of JSON-lines files and parses them, keeping every input
 * row: rows that cannot be used are marked for quarantine (with the raw bytes, the reason and the
 * source position), never dropped. Valid rows carry neither raw bytes nor position.
 *
 * <pre>{@code
 * ParsedEvents events = EventStream.read(spark, sourceOptions);
 * Dataset<Row> clean = Dedupe.firstSeen(events.valid(), keys, "event_time", Duration.ofMinutes(10));
 * events.withQuarantine(clean).writeStream().foreachBatch(router)...
 * }</pre>
 *
 * <p>Quarantine reasons: {@code malformed-json} (not JSON, not an object, or a field of the wrong
 * type), {@code missing-key} (a key column null or blank, or null in a column a sink keys on; see
 * {@link InputRules}), {@code nul-in-key} (U+0000 in a key), {@code missing-version} (a null version
 * or tie-break), {@code missing-event-time}, and
 * {@code event-time-in-future} (further ahead than {@code source.max.future.skew} of the time the source
 * received the row: the Kafka record's timestamp, or the file's modification time). That time, not
 * the wall clock, is the reference so that a backlog read hours late still sees one fast clock among
 * its events as ahead of them; it is part of the row, so a replay classifies rows the same.
 */
public final class EventStream {
  /** Why a row is quarantined; null for a valid row. */
  public static final String REASON = "quarantine_reason";
  /** The payload exactly as read (Kafka value bytes, or the file line as UTF-8). */
  public static final String RAW = "raw_value";
  /** Where the row came from: {@code topic/partition@offset} or the file path. */
  public static final String POSITION = "source_position";
  static final Set<String> RESERVED = Set.of(REASON, RAW, POSITION);
  /** When the source received the row (Kafka record timestamp, file modification time); parse-time only. */
  private static final String RECEIVED = "_eventproc_received";
  private static final String CORRUPT = "_eventproc_corrupt";
  private static final String PARSED = "_eventproc_parsed";
  private static final String NUL = "\u0000";

  private EventStream() {}

  /** Reads and parses the configured source as a stream. */
  public static ParsedEvents read(SparkSession spark, SourceOptions options) {
    return read(spark, options, InputRules.NONE);
  }

  /** Reads and parses the configured source as a stream, quarantining what {@code rules} name too. */
  public static ParsedEvents read(SparkSession spark, SourceOptions options, InputRules rules) {
    Dataset<Row> raw = switch (options.type()) {
      case KAFKA -> readKafka(spark.readStream(), options);
      case FILES -> readFiles(spark.readStream(), options);
    };
    return parse(raw, options, rules);
  }

  private static Dataset<Row> readKafka(DataStreamReader reader, SourceOptions o) {
    DataStreamReader r = reader.format("kafka")
        .option("kafka.bootstrap.servers", o.bootstrapServers())
        .option("subscribe", o.topics())
        .option("startingOffsets", o.startingOffsets());
    if (o.maxOffsetsPerTrigger() != null) {
      r = r.option("maxOffsetsPerTrigger", o.maxOffsetsPerTrigger());
    }
    for (Map.Entry<String, String> e : o.kafkaReaderOptions().entrySet()) {
      r = r.option(e.getKey(), e.getValue());
    }
    return kafkaRows(r.load());
  }

  /**
   * Kafka's columns as raw rows. A record without a timestamp (-1, message format v0) reaches Spark as
   * 1969-12-31T23:59:59.999Z: it counts as no receive time, or every event would look far in the future.
   */
  static Dataset<Row> kafkaRows(Dataset<Row> kafka) {
    return kafka.select(
        col("value").as(RAW),
        concat(col("topic"), lit("/"), col("partition").cast("string"), lit("@"), col("offset").cast("string")).as(POSITION),
        when(col("timestamp").geq(lit(Timestamp.from(Instant.EPOCH))), col("timestamp")).as(RECEIVED));
  }

  private static Dataset<Row> readFiles(DataStreamReader reader, SourceOptions o) {
    DataStreamReader r = reader.format("text").option("maxFileAge", o.maxFileAge().toMillis() + "ms");
    if (o.maxFilesPerTrigger() != null) {
      r = r.option("maxFilesPerTrigger", o.maxFilesPerTrigger());
    }
    return fileRows(r.load(o.filesPath()));
  }

  private static Dataset<Row> fileRows(Dataset<Row> text) {
    return text.select(col("value").cast(DataTypes.BinaryType).as(RAW), col("_metadata.file_path").as(POSITION),
        col("_metadata.file_modification_time").as(RECEIVED));
  }

  /** Parses raw rows ({@link #RAW}, {@link #POSITION}, the time received) into the schema's columns plus the three quarantine columns. */
  static ParsedEvents parse(Dataset<Row> raw, SourceOptions o, InputRules rules) {
    StructType schema = o.schema();
    StructType withCorrupt = schema.add(CORRUPT, DataTypes.StringType, true);
    Column parsed = from_json(col(RAW).cast(DataTypes.StringType), withCorrupt,
        Map.of("mode", "PERMISSIVE", "columnNameOfCorruptRecord", CORRUPT));
    Dataset<Row> p = raw.withColumn(PARSED, parsed);

    List<Column> out = new ArrayList<>();
    for (StructField f : schema.fields()) {
      out.add(col(PARSED).getField(f.name()).as(f.name()));
    }
    Column reason = when(col(RAW).isNull(), lit("malformed-json"))
        .when(col(PARSED).isNull().or(col(PARSED).getField(CORRUPT).isNotNull()), lit("malformed-json"));
    for (String k : o.keyColumns()) {
      Column v = col(PARSED).getField(k);
      Column missing = v.isNull();
      if (schema.apply(k).dataType() instanceof StringType) {
        missing = missing.or(trim(v).equalTo(""));
      }
      reason = reason.when(missing, lit("missing-key"));
    }
    for (String k : rules.sinkKeyColumns()) {
      reason = reason.when(col(PARSED).getField(k).isNull(), lit("missing-key"));
    }
    Set<String> keys = new LinkedHashSet<>(o.keyColumns());
    keys.addAll(rules.sinkKeyColumns());
    for (String k : keys) {
      if (schema.apply(k).dataType() instanceof StringType) {
        reason = reason.when(col(PARSED).getField(k).contains(NUL), lit("nul-in-key"));
      }
    }
    if (o.eventTimeColumn() != null) {
      Column ts = col(PARSED).getField(o.eventTimeColumn());
      // A source without a receive time falls back to the batch time. Streaming turns
      // current_timestamp() into the batch's time as a literal, which whole-stage codegen writes into
      // the parse stage's Java source: every batch would compile the stage anew. Inside transform() (a
      // higher-order function, evaluated by reference, not generated) the source stays the same.
      Column received = coalesce(col(RECEIVED), expr("element_at(transform(array(current_timestamp()), t -> t), 1)"));
      reason = reason.when(ts.isNull(), lit("missing-event-time"))
          .when(ts.gt(received.plus(expr("INTERVAL " + o.maxFutureSkew().toMillis() + " MILLISECONDS"))),
              lit("event-time-in-future"));
    }
    for (String v : rules.versionColumns()) {
      reason = reason.when(col(PARSED).getField(v).isNull(), lit("missing-version"));
    }
    out.add(reason.as(REASON));
    out.add(col(RAW));
    out.add(col(POSITION));
    // Valid rows do not carry their raw bytes or position further (through shuffles and caches): only
    // quarantined rows keep them.
    Dataset<Row> all = p.select(out.toArray(Column[]::new))
        .withColumn(RAW, when(col(REASON).isNull(), lit(null).cast(DataTypes.BinaryType)).otherwise(col(RAW)))
        .withColumn(POSITION, when(col(REASON).isNull(), lit(null).cast(DataTypes.StringType)).otherwise(col(POSITION)));
    return new ParsedEvents(all, schema, o.keyColumns(), o.eventTimeColumn());
  }
}
