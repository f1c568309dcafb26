package dev.eventproc.sink.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.Sinks;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.testutils.Race;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class FilesSinkTest {
  private final SparkSession spark = TestSpark.session();

  private FilesSink sink(Path dir, FilesSink.Format format) {
    return FilesSink.create(SinkSpec.builder().name("files").mode(WriteMode.APPEND).build(), dir.toString(), format);
  }

  @Test
  void eachBatchIsOneDirectoryAReplayIsSkippedAndPlainSparkReadsIt() throws Exception {
    Path dir = TestSpark.newDir("files").resolve("out");
    FilesSink sink = sink(dir, FilesSink.Format.PARQUET);
    assertThat(sink.write(spark.range(0, 10).toDF(), 0, "q").status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.write(spark.range(10, 15).toDF(), 1, "q").status()).isEqualTo(Status.COMMITTED);
    long before = Files.getLastModifiedTime(dir.resolve("batch_id=1")).toMillis();

    assertThat(sink.write(spark.range(10, 15).toDF(), 1, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);

    assertThat(Files.getLastModifiedTime(dir.resolve("batch_id=1")).toMillis()).isEqualTo(before);
    List<Row> perBatch = spark.read().parquet(dir.toString()).groupBy("batch_id").count().orderBy("batch_id").collectAsList();
    assertThat(perBatch).extracting(r -> r.get(0) + ":" + r.get(1)).containsExactly("0:10", "1:5");
    assertThat(Files.exists(dir.resolve("batch_id=0/_eventproc_commit"))).isTrue();
  }

  @Test
  void aDirectoryOfAnotherWriterIsReplacedAndOnlyThatOne() throws Exception {
    Path dir = TestSpark.newDir("files-reset").resolve("out");
    FilesSink sink = sink(dir, FilesSink.Format.JSON);
    sink.write(spark.range(0, 10).toDF(), 0, "old-query");
    sink.write(spark.range(10, 20).toDF(), 1, "old-query");
    assertThat(sink.write(spark.range(100, 103).toDF(), 0, "new-query").status()).isEqualTo(Status.COMMITTED);
    Map<Long, Long> counts = new java.util.TreeMap<>();
    for (Row r : spark.read().json(dir.toString()).groupBy("batch_id").count().collectAsList()) {
      counts.put(((Number) r.get(0)).longValue(), r.getLong(1));
    }
    assertThat(counts).containsExactly(Map.entry(0L, 3L), Map.entry(1L, 10L));
  }

  /**
   * A zombie: two drivers with one writer identity write the same batches at the same moment. One
   * directory per batch wins; the other writer finds its own writer's marker and counts a replay.
   * Neither deletes the winner's directory, nor nests its files inside it.
   */
  @Test
  void twoWritersOfOneIdentityRacingOnABatchCommitItOnce() throws Exception {
    Path dir = TestSpark.newDir("files-race").resolve("out");
    List<FilesSink> writers = List.of(sink(dir, FilesSink.Format.PARQUET), sink(dir, FilesSink.Format.PARQUET));
    for (long batch = 0; batch < 4; batch++) {
      long id = batch;
      List<Status> statuses = Race.together(writers, w -> spark.newSession().range(id * 100, id * 100 + 10).toDF(),
          (w, rows) -> w.write(rows, id, "zombie-q").status());
      assertThat(statuses).as("batch " + batch).containsExactlyInAnyOrder(Status.COMMITTED, Status.SKIPPED_REPLAY);
      try (java.util.stream.Stream<Path> inside = Files.list(dir.resolve("batch_id=" + batch))) {
        assertThat(inside.filter(Files::isDirectory)).as("no directory nested in batch " + batch).isEmpty();
      }
    }
    List<Row> perBatch = spark.read().parquet(dir.toString()).groupBy("batch_id").count().orderBy("batch_id").collectAsList();
    assertThat(perBatch).extracting(r -> r.get(0) + ":" + r.get(1)).containsExactly("0:10", "1:10", "2:10", "3:10");
  }

  @Test
  void onlyAppendModeIsAccepted() {
    assertThatThrownBy(() -> Sinks.fromConfig(Map.of("sink.type", "files", "sink.name", "f", "sink.mode", "upsert",
        "sink.key.columns", "id", "sink.files.path", "/tmp/x")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.mode: 'upsert' does not apply to files: a files sink only appends");
  }
}
