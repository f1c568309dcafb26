package dev.eventproc.sink.delta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.LakehouseSinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.sink.SparkTableSink;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.delta.DeltaConcurrentModificationException;
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
  protected List<Class<? extends Throwable>> conflictTypes() {
    return List.of(DeltaConcurrentModificationException.class);
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

  /**
   * The user's own foreachBatch code follows Delta's idempotent-write pattern (its own txnAppId and
   * txnVersion on the session), calls the sink, then writes again (issue 13 item 7). The sink hands the
   * session back as it found it, so on a replay the user's own write is still skipped by Delta.
   */
  @Test
  void theUsersOwnTransactionConfsSurviveTheSinkAndTheirWriteIsStillSkippedOnReplay() {
    SinkSpec spec = SinkSpec.builder().name("t").mode(WriteMode.UPSERT).keyColumns("id").build();
    SparkTableSink sink = DeltaSink.atPath(spec, path("user_txn_sink"));
    String own = path("user_txn_own");
    Dataset<Row> rows = spark.range(4).selectExpr("CAST(id AS STRING) AS id", "id AS version");
    try {
      for (int attempt = 0; attempt < 2; attempt++) { // batch 7, then its replay after a crash
        spark.conf().set(DeltaTarget.TXN_APP_ID, "users-own-app");
        spark.conf().set(DeltaTarget.TXN_VERSION, "7");
        sink.write(rows, 7, "q");
        assertThat(spark.conf().get(DeltaTarget.TXN_APP_ID, "<unset>")).isEqualTo("users-own-app");
        assertThat(spark.conf().get(DeltaTarget.TXN_VERSION, "<unset>")).isEqualTo("7");
        rows.write().format("delta").mode("append").save(own);
      }
      assertThat(spark.read().format("delta").load(own).count()).as("the user's write, once").isEqualTo(4);
      assertThat(read("user_txn_sink").count()).isEqualTo(4);
    } finally {
      spark.conf().unset(DeltaTarget.TXN_APP_ID);
      spark.conf().unset(DeltaTarget.TXN_VERSION);
    }
  }

  /**
   * Delta's transaction id is a session setting (delta-io/delta#3934): a Delta commit of the sink while
   * another thread is committing through the same session is refused with a message that says why and
   * what to do, rather than mixing the two writers' ids.
   */
  @Test
  void aSecondThreadCommittingThroughTheSameSessionIsRefused() throws Exception {
    SinkSpec spec = SinkSpec.builder().name("t").mode(WriteMode.UPSERT).keyColumns("id").build();
    SparkTableSink sink = DeltaSink.atPath(spec, path("threads"));
    Dataset<Row> rows = spark.range(2).selectExpr("CAST(id AS STRING) AS id");
    ExecutorService other = Executors.newSingleThreadExecutor();
    try {
      TxnConfs.borrow(spark, "busy", () -> {
        Future<?> second = other.submit(() -> sink.write(rows, 0, "q"));
        assertThatThrownBy(second::get).rootCause()
            .hasMessageContaining("sink t: Delta sink busy (thread ").hasMessageContaining("is committing through this Spark session in another thread")
            .hasMessageContaining("delta-io/delta#3934")
            .hasMessageContaining("spark.newSession()");
        return null;
      });
      assertThat(sink.write(rows, 0, "q").status()).as("once the other commit is done").isEqualTo(Status.COMMITTED);
    } finally {
      other.shutdownNow();
    }
  }

  /**
   * The commit record is read from the session catalog's table, the one the MERGE writes (issue 13
   * item 8): spark_catalog.db.table works as db.table; a name in another catalog is refused.
   */
  @Test
  void aTableInAnotherCatalogIsRefusedAndTheSessionCatalogWorksByEitherName() {
    Map<String, String> c = new HashMap<>(Map.of("sink.type", "delta", "sink.name", "t",
        "sink.mode", "append", "sink.delta.table", "lake.sales.payments"));
    assertThatThrownBy(() -> Sinks.fromConfig(c))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.delta.table: 'lake.sales.payments' names catalog 'lake'")
        .hasMessageContaining("sink.delta.path");

    String name = "spark_catalog.default.catalog_" + Long.toHexString(System.nanoTime());
    SinkSpec spec = SinkSpec.builder().name("t").mode(WriteMode.UPSERT).keyColumns("id").build();
    SparkTableSink sink = DeltaSink.forTable(spec, name);
    Dataset<Row> rows = spark.range(3).selectExpr("CAST(id AS STRING) AS id");
    assertThat(sink.write(rows, 0, "q").status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.write(rows, 0, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(spark.table(name).count()).isEqualTo(3);
  }
}
