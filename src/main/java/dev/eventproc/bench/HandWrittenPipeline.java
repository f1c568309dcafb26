package dev.eventproc.bench;

import static dev.eventproc.bench.EndToEndBench.PG_SCHEMA;
import static dev.eventproc.bench.EndToEndBench.SCHEMA;
import static dev.eventproc.bench.EndToEndBench.WATERMARK_DELAY;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.desc;
import static org.apache.spark.sql.functions.from_json;
import static org.apache.spark.sql.functions.row_number;

import dev.eventproc.bench.EndToEndBench.Settings;
import dev.eventproc.bench.EndToEndBench.Target;
import dev.eventproc.pipeline.CheckpointFiles;
import dev.eventproc.util.Jdbc;
import io.delta.tables.DeltaTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.apache.spark.sql.types.StructType;

/**
 * The pipeline a competent user writes by hand for the end-to-end job, the baseline of
 * {@link EndToEndBench}'s sustained phase: the same Kafka topic and JSON parsing, Spark's
 * {@code dropDuplicatesWithinWatermark} on (key, version) (redelivered copies removed; keying on the
 * key alone would drop the newer versions), and a {@code foreachBatch} that keeps the newest row per
 * key of the batch and writes it with the usual at-least-once upsert: PostgreSQL through Spark's
 * JDBC writer (tuned as {@link PostgresBaselines}) into an unlogged staging table and one
 * {@code INSERT ... ON CONFLICT DO UPDATE} where the version is newer; Delta through one
 * {@code MERGE} without transaction ids. No ledger, no quarantine, no accounting. Its checkpoint goes
 * through Spark's own checkpoint file manager, as in the user's own session ({@link CheckpointFiles} is
 * eventproc's).
 */
final class HandWrittenPipeline {
  static final String TABLE = "handwritten";
  private static final String COLUMNS = "payment_id, account_id, amount, currency, version, op, event_time";
  static final String SPARKS_CHECKPOINT_FILES = "org.apache.spark.sql.execution.streaming.FileContextBasedCheckpointFileManager";

  private HandWrittenPipeline() {}

  /** The config {@link E2eSupport#checkSink} reads the result with (table name or Delta path). */
  static Map<String, String> sinkLocation(Settings s, Target target) {
    return target == Target.POSTGRES ? Map.of("sink.postgres.table", TABLE)
        : Map.of("sink.delta.path", s.work().resolve(TABLE).resolve("table").toString());
  }

  /** Creates the target (outside the timing, as a deployment has it), then starts the query draining {@code topic}. */
  static StreamingQuery start(SparkSession spark, Settings s, Target target, String topic) throws SQLException, TimeoutException {
    StructType schema = StructType.fromDDL(SCHEMA);
    Dataset<Row> events = spark.readStream().format("kafka")
        .option("kafka.bootstrap.servers", s.kafkaServers())
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .option("maxOffsetsPerTrigger", String.valueOf(s.batchEvents()))
        .load()
        .select(from_json(col("value").cast("string"), schema).as("e")).select("e.*")
        .withWatermark("event_time", WATERMARK_DELAY.toSeconds() + " seconds")
        .dropDuplicatesWithinWatermark("payment_id", "version");
    VoidFunction2<Dataset<Row>, Long> write = target == Target.POSTGRES ? postgres(s) : delta(spark, s, schema);
    // A query takes the session's settings when it starts (it runs on a copy of the session): Spark's manager for this one.
    String sessions = spark.conf().get(CheckpointFiles.CONF_KEY, null);
    spark.conf().set(CheckpointFiles.CONF_KEY, SPARKS_CHECKPOINT_FILES);
    try {
      return events.writeStream().trigger(Trigger.AvailableNow())
          .option("checkpointLocation", s.work().resolve(TABLE).resolve("checkpoint").toString())
          .foreachBatch(write).start();
    } finally {
      if (sessions == null) {
        spark.conf().unset(CheckpointFiles.CONF_KEY);
      } else {
        spark.conf().set(CheckpointFiles.CONF_KEY, sessions);
      }
    }
  }

  private static VoidFunction2<Dataset<Row>, Long> postgres(Settings s) throws SQLException {
    String table = PG_SCHEMA + "." + TABLE;
    String staging = table + "_stage";
    try (Connection c = connect(s)) {
      PostgresBaselines.exec(c, "CREATE TABLE " + table + " (payment_id text PRIMARY KEY, account_id text, amount numeric(12,2), currency text, "
          + "version bigint, op text, event_time timestamptz)");
      PostgresBaselines.exec(c, "CREATE UNLOGGED TABLE " + staging + " (LIKE " + table + ")");
    }
    String url = PostgresBaselines.tuned(s.pgUrl());
    String upsert = "INSERT INTO " + table + " AS t (" + COLUMNS + ") SELECT DISTINCT ON (payment_id) " + COLUMNS + " FROM " + staging
        + " ORDER BY payment_id, version DESC ON CONFLICT (payment_id) DO UPDATE SET account_id = EXCLUDED.account_id, "
        + "amount = EXCLUDED.amount, currency = EXCLUDED.currency, version = EXCLUDED.version, op = EXCLUDED.op, "
        + "event_time = EXCLUDED.event_time WHERE t.version < EXCLUDED.version";
    return (batch, id) -> {
      try (Connection c = connect(s)) {
        PostgresBaselines.exec(c, "TRUNCATE " + staging);
      }
      batch.write().mode(SaveMode.Append).option("batchsize", String.valueOf(PostgresBaselines.JDBC_BATCH))
          .jdbc(url, staging, Jdbc.properties(s.pgUser(), s.pgPassword()));
      try (Connection c = connect(s)) {
        PostgresBaselines.exec(c, upsert);
      }
    };
  }

  private static VoidFunction2<Dataset<Row>, Long> delta(SparkSession spark, Settings s, StructType schema) {
    String path = sinkLocation(s, Target.DELTA).get("sink.delta.path");
    spark.createDataFrame(List.of(), schema).write().format("delta").save(path);
    // The same layout as the table eventproc's upsert sink creates: with deletion vectors, a MERGE copies no unchanged row.
    spark.sql("ALTER TABLE delta.`" + path + "` SET TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')");
    return (batch, id) -> {
      Dataset<Row> newest = batch.withColumn("rn", row_number().over(Window.partitionBy("payment_id").orderBy(desc("version"))))
          .where("rn = 1").drop("rn");
      DeltaTable.forPath(batch.sparkSession(), path).as("t").merge(newest.as("s"), "t.payment_id = s.payment_id")
          .whenMatched("s.version > t.version").updateAll()
          .whenNotMatched().insertAll()
          .execute();
    };
  }

  private static Connection connect(Settings s) throws SQLException {
    return Jdbc.connect(s.pgUrl(), s.pgUser(), s.pgPassword());
  }
}
