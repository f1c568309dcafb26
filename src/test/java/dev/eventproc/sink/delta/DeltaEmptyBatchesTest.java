package dev.eventproc.sink.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.BatchCount;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.testutils.TestSpark;
import io.delta.tables.DeltaTable;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;

/**
 * A Delta append sink that does not record empty batches (the quarantine's default): the first empty
 * batch creates the table and nothing else, rows of a later batch land in that table with their commit
 * record, and a replay of them is skipped.
 */
class DeltaEmptyBatchesTest {
  private final SparkSession spark = TestSpark.session();

  @Test
  void emptyBatchesLeaveTheCreatedTableAloneAndRowsAppendToItOnce() {
    String path = TestSpark.newDir("delta-empty-batches").resolve("quarantine").toString();
    BatchSink sink = DeltaSink.atPath(SinkSpec.builder().name("q").mode(WriteMode.APPEND).recordEmptyBatches(false).build(), path);
    Dataset<Row> empty = rows("WHERE false");
    Dataset<Row> two = rows("");

    assertThat(sink.writeCounted(empty, 0, "query", new BatchCount(0, 0)).status()).isEqualTo(Status.EMPTY);
    assertThat(sink.writeCounted(empty, 1, "query", new BatchCount(0, 0)).status()).isEqualTo(Status.EMPTY);
    assertThat(operations(path)).containsExactly("CREATE TABLE");

    assertThat(sink.writeCounted(two, 2, "query", new BatchCount(2, 0)).status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.writeCounted(two, 2, "query", new BatchCount(2, 0)).status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(operations(path)).containsExactly("WRITE", "CREATE TABLE");
    assertThat(spark.read().format("delta").load(path).selectExpr("quarantine_reason", "batch_id").orderBy("batch_id")
        .collectAsList()).extracting(Row::toString).containsExactly("[malformed-json,2]", "[missing-key,2]");
    empty.unpersist();
    two.unpersist();
  }

  /** Quarantine-shaped rows, cached as a pipeline hands them over. */
  private Dataset<Row> rows(String where) {
    return spark.sql("SELECT * FROM VALUES ('malformed-json', '{x', 'f@1', 2L), ('missing-key', '{}', 'f@2', 2L) "
        + "AS t(quarantine_reason, raw_value, source_position, batch_id) " + where).persist(StorageLevel.MEMORY_ONLY());
  }

  private List<String> operations(String path) {
    return DeltaTable.forPath(spark, path).history().selectExpr("operation").collectAsList().stream().map(r -> r.getString(0)).toList();
  }
}
