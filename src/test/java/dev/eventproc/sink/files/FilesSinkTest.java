package dev.eventproc.sink.files;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.testutils.CommitGate;
import dev.eventproc.testutils.Race;
import dev.eventproc.testutils.TestSpark;
import dev.eventproc.testutils.TimestampCases;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

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
    Path batch1 = Path.of(sink.writerDir(1, new WriterId("files", "q")).toUri().getPath());
    long before = Files.getLastModifiedTime(batch1).toMillis();

    assertThat(sink.write(spark.range(10, 15).toDF(), 1, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);

    assertThat(Files.getLastModifiedTime(batch1).toMillis()).isEqualTo(before);
    List<Row> perBatch = spark.read().parquet(dir.toString()).groupBy("batch_id").count().orderBy("batch_id").collectAsList();
    assertThat(perBatch).extracting(r -> r.get(0) + ":" + r.get(1)).containsExactly("0:10", "1:5");
    assertThat(Files.exists(dir.resolve("batch_id=0/writer-files-q/_eventproc_commit"))).isTrue();
  }

  /**
   * A reset checkpoint (a new query id: a new writer) writes batch ids the old writer used. Both writers'
   * batches stay, each once (issue 13 item 1: the new writer used to delete the old one's directory).
   */
  @Test
  void aNewWriterNeverReplacesBatchesAnotherWriterCommitted() throws Exception {
    Path dir = TestSpark.newDir("files-reset").resolve("out");
    FilesSink sink = sink(dir, FilesSink.Format.JSON);
    sink.write(spark.range(0, 10).toDF(), 0, "old-query");
    sink.write(spark.range(10, 20).toDF(), 1, "old-query");
    assertThat(sink.write(spark.range(100, 103).toDF(), 0, "new-query").status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.write(spark.range(103, 110).toDF(), 1, "new-query").status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.write(spark.range(110, 111).toDF(), 2, "new-query").status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.write(spark.range(0, 10).toDF(), 0, "old-query").status()).as("old writer's replay").isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(sink.write(spark.range(100, 103).toDF(), 0, "new-query").status()).isEqualTo(Status.SKIPPED_REPLAY);

    Dataset<Row> all = spark.read().json(dir.toString());
    Map<Long, Long> counts = new java.util.TreeMap<>();
    for (Row r : all.groupBy("batch_id").count().collectAsList()) {
      counts.put(((Number) r.get(0)).longValue(), r.getLong(1));
    }
    assertThat(counts).containsExactly(Map.entry(0L, 13L), Map.entry(1L, 17L), Map.entry(2L, 1L));
    assertThat(all.count()).as("every row of both writers").isEqualTo(31);
    assertThat(all.select("id").distinct().count()).as("none twice").isEqualTo(31);
  }

  /**
   * A zombie: two drivers with one writer identity write the same batches at the same moment, both
   * held after staging until both have found no directory in place. The later rename fails (refused:
   * no clobber, no nesting; or its staged directory already cleaned up by the winner); that writer then
   * finds its own writer's marker and counts a replay. Neither deletes the winner's directory.
   */
  @Test
  void twoWritersOfOneIdentityRacingOnABatchCommitItOnce() throws Exception {
    Path dir = TestSpark.newDir("files-race").resolve("out");
    List<FilesSink> writers = List.of(sink(dir, FilesSink.Format.PARQUET), sink(dir, FilesSink.Format.PARQUET));
    try (CommitGate gate = CommitGate.at(FaultInjection.Point.AFTER_STAGING, "files", 2)) {
      for (long batch = 0; batch < 4; batch++) {
        long id = batch;
        long lostBefore = writers.get(0).metrics().racesLost() + writers.get(1).metrics().racesLost();
        List<Status> statuses = Race.together(writers, w -> spark.newSession().range(id * 100, id * 100 + 10).toDF(),
            (w, rows) -> w.write(rows, id, "zombie-q").status());
        assertThat(statuses).as("batch " + batch).containsExactlyInAnyOrder(Status.COMMITTED, Status.SKIPPED_REPLAY);
        assertThat(gate.arrivals()).as("both writers staged batch " + batch + " before either renamed").isEqualTo(2 * (int) (batch + 1));
        FilesSink loser = statuses.get(0) == Status.SKIPPED_REPLAY ? writers.get(0) : writers.get(1);
        assertThat(writers.get(0).metrics().racesLost() + writers.get(1).metrics().racesLost())
            .as("batch " + batch + ": the loser's commit failed").isEqualTo(lostBefore + 1);
        // The loser fails at its rename: refused because the winner's directory is in place, or (when the winner's
        // cleanup of this writer's attempts came first) because its own staged directory is gone. Never replaced.
        Throwable refused = rootCause(loser.metrics().lastRaceLost());
        assertThat(refused).as("batch " + batch + ": why the loser's rename failed").isInstanceOfAny(FileAlreadyExistsException.class,
            DirectoryNotEmptyException.class, NoSuchFileException.class);
        if (refused instanceof NoSuchFileException gone) {
          assertThat(gone.getFile()).as("batch " + batch + ": the loser's own staged attempt").contains("/_tmp/batch_id=" + batch + "-");
        }
        try (Stream<Path> inside = Files.list(dir.resolve("batch_id=" + batch + "/writer-files-zombie-q"))) {
          assertThat(inside.filter(Files::isDirectory)).as("no directory nested in batch " + batch).isEmpty();
        }
      }
    }
    List<Row> perBatch = spark.read().parquet(dir.toString()).groupBy("batch_id").count().orderBy("batch_id").collectAsList();
    assertThat(perBatch).extracting(r -> r.get(0) + ":" + r.get(1)).containsExactly("0:10", "1:10", "2:10", "3:10");
  }

  private static Throwable rootCause(Throwable t) {
    Throwable c = t;
    while (c != null && c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c;
  }

  /** Timestamps come back as written, to the microsecond, far from now and before 1970, in either format. */
  @ParameterizedTest
  @EnumSource(FilesSink.Format.class)
  void timestampsRoundTrip(FilesSink.Format format) {
    Path dir = TestSpark.newDir("files-ts").resolve("out");
    assertThat(sink(dir, format).write(TimestampCases.rows(spark), 0, "q").status()).isEqualTo(Status.COMMITTED);
    Dataset<Row> back = format == FilesSink.Format.PARQUET ? spark.read().parquet(dir.toString())
        : spark.read().schema(TimestampCases.SCHEMA).json(dir.toString()); // how a reader of JSON files gets timestamps
    TimestampCases.assertReadBack(format.toString(), TimestampCases.byId(back.select("id", "ts").collectAsList()));
  }

  @Test
  void onlyAppendModeIsAccepted() {
    assertThatThrownBy(() -> Sinks.fromConfig(Map.of("sink.type", "files", "sink.name", "f", "sink.mode", "upsert",
        "sink.key.columns", "id", "sink.files.path", "/tmp/x")))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.mode: 'upsert' does not apply to files: a files sink only appends");
  }

  /**
   * A table of the layout before per-writer directories (a batch's files and marker directly in
   * batch_id=N/): its writer still finds its batches, a new batch of either writer goes to the new
   * layout, and Spark reads both layouts together, each row once.
   */
  @Test
  void batchesOfTheOldLayoutAreStillRecognisedAndRead() throws Exception {
    Path dir = TestSpark.newDir("files-legacy").resolve("out");
    for (long batch = 0; batch < 2; batch++) {
      Path old = dir.resolve("batch_id=" + batch);
      spark.range(batch * 10, batch * 10 + 10).toDF().write().parquet(old.toString());
      Files.writeString(old.resolve("_eventproc_commit"), new WriterId("files", "old-q").appId() + "\n" + batch + "\n10\n");
    }
    FilesSink sink = sink(dir, FilesSink.Format.PARQUET);
    assertThat(sink.write(spark.range(0, 10).toDF(), 0, "old-q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(sink.write(spark.range(10, 20).toDF(), 1, "old-q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(sink.write(spark.range(20, 25).toDF(), 2, "old-q").status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.write(spark.range(100, 103).toDF(), 0, "new-q").status()).isEqualTo(Status.COMMITTED);

    Dataset<Row> all = spark.read().parquet(dir.toString());
    List<Row> perBatch = all.groupBy("batch_id").count().orderBy("batch_id").collectAsList();
    assertThat(perBatch).extracting(r -> r.get(0) + ":" + r.get(1)).containsExactly("0:13", "1:10", "2:5");
    assertThat(all.select("id").distinct().count()).isEqualTo(28);
  }

  /** Object stores rename a directory file by file: refused, naming the key and the way out, unless allowed. */
  @Test
  void objectStorePathsAreRefusedUnlessTheRiskIsAccepted() {
    Map<String, String> c = new java.util.HashMap<>(Map.of("sink.type", "files", "sink.name", "f", "sink.mode", "append",
        "sink.files.path", "s3a://bucket/events"));
    assertThatThrownBy(() -> Sinks.fromConfig(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.files.path: 's3a://bucket/events' is on file system 's3a'")
        .hasMessageContaining("Use a Delta or Iceberg sink")
        .hasMessageContaining("sink.files.allow.non.atomic.rename=true");
    SinkSpec spec = SinkSpec.builder().name("f").mode(WriteMode.APPEND).build();
    assertThatThrownBy(() -> FilesSink.create(spec, "gs://bucket/events", FilesSink.Format.PARQUET))
        .isInstanceOf(ConfigException.class).hasMessageContaining("file system 'gs'");

    c.put("sink.files.allow.non.atomic.rename", "true");
    assertThat(Sinks.fromConfig(c)).isInstanceOf(FilesSink.class);
    assertThat(FilesSink.create(spec, "abfs://c@account.dfs.core.windows.net/events", FilesSink.Format.PARQUET, true).target())
        .startsWith("abfs://");
    assertThat(FilesSink.create(spec, "hdfs://nn:8020/events", FilesSink.Format.PARQUET).target()).startsWith("hdfs://");
  }
}
