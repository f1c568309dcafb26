package dev.eventproc.sink.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.LakehouseSinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SparkTableSink;
import dev.eventproc.sink.WriterId;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The lakehouse contract on Delta tables addressed by path. */
class DeltaSinkTest extends LakehouseSinkContract {
  private final Path dir = TestSpark.newDir("delta-sink");

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  @Override
  protected SparkTableSink newSink(SinkSpec spec, String name) {
    return DeltaSink.atPath(spec, path(name));
  }

  @Override
  protected Dataset<Row> read(String name) {
    return spark.read().format("delta").load(path(name));
  }

  @Override
  protected long commits(String name) {
    return spark.sql("DESCRIBE HISTORY delta.`" + path(name) + "`").selectExpr("max(version)").first().getLong(0);
  }

  @Override
  protected boolean exists(String name) {
    return Files.exists(dir.resolve(name));
  }

  /**
   * What a racing attempt of the same writer meets when the winner recorded the batch after the loser
   * looked: Delta skips the write silently. The append must then report a replay, not the winner's rows,
   * and the MERGE's empty result must read as skipped.
   */
  @Test
  void aWriteThatDeltaSkipsAsRecordedAlreadyReadsAsAReplay() {
    WriterId writer = new WriterId("t", "q");
    DeltaTarget target = DeltaTarget.atPath(path("recorded"));
    Dataset<Row> rows = spark.range(3).selectExpr("CAST(id AS STRING) AS id", "id AS version");
    assertThat(target.append(rows, writer, 0)).isEqualTo(CommitResult.written(3));
    assertThat(target.append(rows, writer, 0)).isEqualTo(CommitResult.skipped());
    assertThat(read("recorded").count()).isEqualTo(3);

    rows.createOrReplaceTempView("recorded_again");
    List<Row> merged = target.withCommitRecord(spark, writer, 0, () -> spark.sql("MERGE INTO " + target.sqlRef()
        + " AS t USING recorded_again AS s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *").collectAsList());
    assertThat(target.mergeSkipped(merged.isEmpty() ? null : merged.get(0))).isTrue();
    List<Row> next = target.withCommitRecord(spark, writer, 1, () -> spark.sql("MERGE INTO " + target.sqlRef()
        + " AS t USING recorded_again AS s ON t.id = s.id WHEN NOT MATCHED THEN INSERT *").collectAsList());
    assertThat(target.mergeSkipped(next.isEmpty() ? null : next.get(0))).as("batch 1 is new: merged").isFalse();
  }

  /** A creation that keeps failing is retried, then fails with Spark's own error, not a retry library's wrapper. */
  @Test
  void aTableThatCannotBeCreatedFailsWithSparksOwnError() {
    SinkSpec spec = SinkSpec.builder().name("t").mode(dev.eventproc.sink.WriteMode.UPSERT).keyColumns("id").build();
    SparkTableSink sink = DeltaSink.forTable(spec, "no_such_schema_" + Long.toHexString(System.nanoTime()) + ".t");
    Dataset<Row> rows = spark.range(1).selectExpr("CAST(id AS STRING) AS id");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sink.write(rows, 0, "q"))
        .isInstanceOf(org.apache.spark.sql.AnalysisException.class)
        .hasMessageContaining("no_such_schema_");
  }
}
