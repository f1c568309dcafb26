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
 * written by commit 30203c1 (keys grouped by a key function, {@code groupByKey}): ten keys (id, at, score) at
 * versions 100 down to 91, with score -0.0, then the same keys at older versions, dropped. The stage
 * must file -0.0 under 0.0 as the earlier one did.
 */
class StageStateResumeIT {
  private static final String FIXTURE = "checkpoints/dedupe-latest-layout2";
  private final SparkSession spark = TestSpark.session();

  /**
   * Ten rows per batch, one second of event time apart; versions fall as values rise. Keys (0-9, a
   * timestamp of microseconds, -0.0) in batches 0 to 2, whose state holds them with 0.0; new keys (30-39,
   * 0.0) in batch 3.
   */
  static Dataset<Row> stage(SparkSession spark) {
    Dataset<Row> input = spark.readStream().format("rate-micro-batch")
        .option("rowsPerBatch", 10)
        .option("numPartitions", 1)
        .option("advanceMillisPerBatch", 1000)
        .option("startTimestamp", 1_767_225_600_000L)
        .load()
        .selectExpr("CAST(CASE WHEN value < 30 THEN value % 10 ELSE value END AS STRING) AS id",
            "CASE WHEN value < 30 THEN -CAST(value * 0 AS DOUBLE) ELSE CAST(value * 0 AS DOUBLE) END AS score",
            "timestamp_micros(1767225600000001 + value % 10) AS at",
            "100 - value AS version", "timestamp AS event_time");
    return LatestVersion.apply(input, List.of("id", "at", "score"), "version", null, "event_time", Duration.ofHours(1));
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
   * trigger of one batch, so no batch runs that the test does not count): the rows they emitted, as
   * id:version.
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
