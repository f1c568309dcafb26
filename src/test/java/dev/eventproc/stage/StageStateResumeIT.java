package dev.eventproc.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQueryException;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;

/**
 * A {@code dedupe-latest} checkpoint written by an earlier eventproc of the same state layout resumes
 * with its state: the stage must group keys exactly as before (same key columns, types and values, so
 * the same state rows and the same shuffle partition), or a running pipeline would forget every key
 * it holds and emit older versions as new.
 *
 * <p>The fixture {@code checkpoints/dedupe-latest-layout2} holds batches 0 and 1 of {@link #stage},
 * written by commit 30203c1 (keys grouped by a key function, {@code groupByKey}) with
 * {@code run(emptyDirectory, 2)}: ten composite keys of every scalar type (a double -0.0 and a float
 * -0.0, which the stage files under 0.0; a NaN; a null) at versions 100 down to 91, then the same keys at
 * older versions, dropped. Batch 2 brings them once more, -0.0 again and the NaN of another computation.
 */
class StageStateResumeIT {
  private static final String FIXTURE = "checkpoints/dedupe-latest-layout2";
  /** A key of every scalar type a key column may have, a null among them. */
  private static final List<String> KEY = List.of("id", "at", "score", "ratio", "nan", "day", "small_amount",
      "large_amount", "even", "bytes", "number", "nothing");

  /**
   * Ten rows per batch, one second of event time apart; versions fall as values rise. Keys 0-9 (ids, and
   * the other key columns derived from them) in batches 0 to 2; new ids 30-39 in batch 3.
   */
  static Dataset<Row> stage(SparkSession spark) {
    Dataset<Row> input = spark.readStream().format("rate-micro-batch")
        .option("rowsPerBatch", 10)
        .option("numPartitions", 1)
        .option("advanceMillisPerBatch", 1000)
        .option("startTimestamp", 1_767_225_600_000L)
        .load()
        .selectExpr("CAST(CASE WHEN value < 30 THEN value % 10 ELSE value END AS STRING) AS id",
            "100 - value AS version", "timestamp AS event_time",
            "timestamp_micros(1767225600000001 + value % 10) AS at",
            "CASE WHEN value < 30 THEN -CAST(value * 0 AS DOUBLE) ELSE CAST(value * 0 AS DOUBLE) END AS score",
            "CASE WHEN value < 30 THEN -CAST(value * 0 AS FLOAT) ELSE CAST(value * 0 AS FLOAT) END AS ratio",
            "CASE WHEN value < 20 THEN CAST('NaN' AS DOUBLE) ELSE sqrt(CAST(-1 - value * 0 AS DOUBLE)) END AS nan",
            "date_add(DATE'2026-01-01', CAST(value % 10 AS INT)) AS day",
            "CAST(value % 10 + 0.25 AS DECIMAL(10,2)) AS small_amount",
            "CAST(value % 10 + 0.25 AS DECIMAL(20,2)) AS large_amount",
            "value % 2 = 0 AS even", "CAST(CAST(value % 10 AS STRING) AS BINARY) AS bytes",
            "CAST(value % 10 AS INT) AS number", "CAST(NULL AS STRING) AS nothing");
    return LatestVersion.apply(input, KEY, "version", null, "event_time", Duration.ofHours(1));
  }

  @Test
  void aCheckpointOfTheSameLayoutResumesWithItsState() throws Exception {
    Path checkpoint = TestSpark.newDir("stage-resume").resolve("checkpoint");
    copy(Paths.get(getClass().getClassLoader().getResource(FIXTURE).toURI()), checkpoint);

    List<String> emitted = run(checkpoint, 2);

    // Batch 2 repeats keys 0-9 at older versions: dropped, by the state of batches 0 and 1. Batch 3's
    // keys are new. A stage that lost the state, or filed -0.0 apart from 0.0, emits batch 2's rows.
    assertThat(emitted).containsExactlyInAnyOrder("30:70", "31:69", "32:68", "33:67", "34:66", "35:65", "36:64",
        "37:63", "38:62", "39:61");
  }

  /**
   * Runs the stage on {@code checkpoint} for {@code batches} more batches, one query start each (a
   * trigger of one batch: the rate source always has a next batch, so no batch runs that the test does
   * not count): the rows they emitted, as id:version.
   */
  static List<String> run(Path checkpoint, int batches) throws TimeoutException, StreamingQueryException {
    List<String> emitted = new CopyOnWriteArrayList<>();
    for (int i = 0; i < batches; i++) {
      stage(TestSpark.session()).writeStream()
          .option("checkpointLocation", checkpoint.toString())
          .foreachBatch((VoidFunction2<Dataset<Row>, Long>) (batch, id) -> emitted.addAll(
              batch.selectExpr("concat(id, ':', version)").as(Encoders.STRING()).collectAsList()))
          .trigger(Trigger.Once())
          .start()
          .awaitTermination();
    }
    return emitted;
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> files = Files.walk(from)) {
      files.forEach(f -> {
        try {
          Path target = to.resolve(from.relativize(f).toString());
          if (Files.isDirectory(f)) {
            Files.createDirectories(target);
          } else {
            Files.copy(f, target);
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
