package dev.eventproc.sink.iceberg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.LakehouseSinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.sink.SparkTableSink;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.testutils.TestSpark;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The lakehouse contract on Iceberg tables of a local Hadoop catalog, plus Iceberg's commit record. */
class IcebergSinkTest extends LakehouseSinkContract {
  private final String namespace = "ns" + Long.toHexString(System.nanoTime());

  private String table(String name) {
    return TestSpark.ICEBERG_CATALOG + "." + namespace + "." + name;
  }

  @Override
  protected SparkTableSink newSink(SinkSpec spec, String name) {
    return IcebergSink.forTable(spec, table(name), null);
  }

  @Override
  protected Dataset<Row> read(String name) {
    return spark.table(table(name));
  }

  @Override
  protected List<Class<? extends Throwable>> conflictTypes() {
    return List.of(ValidationException.class, CommitFailedException.class);
  }

  @Override
  protected long commits(String name) {
    return spark.sql("SELECT count(*) FROM " + table(name) + ".snapshots").first().getLong(0);
  }

  @Override
  protected boolean exists(String name) {
    return spark.catalog().tableExists(table(name));
  }

  @Override
  protected boolean exactWrittenCounts() {
    return false;
  }

  @Test
  void theSnapshotThatCommitsABatchCarriesTheWriterAndTheBatch() throws Exception {
    SinkSpec spec = SinkSpec.builder().name("rec").mode(WriteMode.APPEND).build();
    SparkTableSink sink = newSink(spec, "record");
    sink.write(spark.range(3).toDF(), 0, "q");
    sink.write(spark.range(3).toDF(), 1, "q");
    Table t = org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark, table("record"));
    Snapshot current = t.currentSnapshot();
    // A validated append is still an append to readers (Iceberg's streaming source skips nothing).
    assertThat(current.operation()).isEqualTo("append");
    Map<String, String> summary = current.summary();
    assertThat(summary).containsEntry(IcebergTable.WRITER_PROPERTY, new WriterId("rec", "q").appId())
        .containsEntry(IcebergTable.BATCH_PROPERTY, "1");
    IcebergTable record = new IcebergTable(List.of(table("record").split("\\.")), "copy-on-write");
    assertThat(record.committedBatch(spark, new WriterId("rec", "q"))).isEqualTo(1);
    assertThat(record.committedBatch(spark, new WriterId("rec", "other"))).isEqualTo(-1);
  }

  private SparkTableSink branchSink(String name, WriteMode mode) {
    Map<String, String> c = new HashMap<>(Map.of("sink.type", "iceberg", "sink.name", "b", "sink.mode", ConfigReader.configName(mode),
        "sink.iceberg.table", table(name), "sink.iceberg.branch", "audit"));
    if (mode != WriteMode.APPEND) {
      c.put("sink.key.columns", "id");
    }
    if (mode == WriteMode.HISTORY) {
      c.put("sink.version.column", "version");
    }
    return (SparkTableSink) Sinks.fromConfig(c);
  }

  /**
   * sink.iceberg.branch (issue 13 item 9): every mode writes the branch, and the record is looked up
   * from the branch's head, so a replay is skipped; main is left as it was.
   */
  @Test
  void aBranchIsWrittenAndTheRecordIsReadFromItsHead() {
    for (WriteMode mode : WriteMode.values()) {
      String name = "on_audit_" + mode.name().toLowerCase();
      SparkTableSink sink = branchSink(name, mode);
      Dataset<Row> b0 = spark.range(3).selectExpr("CAST(id AS STRING) AS id", "id AS version");
      Dataset<Row> b1 = spark.range(3, 5).selectExpr("CAST(id AS STRING) AS id", "id AS version");
      assertThat(sink.write(b0, 0, "q").status()).as(mode.toString()).isEqualTo(Status.COMMITTED);
      assertThat(sink.write(b1, 1, "q").status()).as(mode.toString()).isEqualTo(Status.COMMITTED);
      assertThat(sink.write(b0, 0, "q").status()).as(mode + " replay").isEqualTo(Status.SKIPPED_REPLAY);
      assertThat(sink.write(b1, 1, "q").status()).as(mode + " replay").isEqualTo(Status.SKIPPED_REPLAY);
      assertThat(spark.table(table(name) + ".branch_audit").count()).as(mode + " on the branch").isEqualTo(5);
      assertThat(spark.table(table(name)).count()).as(mode + " main untouched").isZero();
    }
  }

  /** A session in write-audit-publish mode would send writes where the record is not looked up: refused. */
  @Test
  void aSessionInWriteAuditPublishModeIsRefused() {
    SinkSpec spec = SinkSpec.builder().name("wap").mode(WriteMode.APPEND).build();
    SparkTableSink sink = newSink(spec, "wap");
    for (String key : List.of("spark.wap.branch", "spark.wap.id")) {
      spark.conf().set(key, "audit");
      try {
        assertThatThrownBy(() -> sink.write(spark.range(2).toDF(), 0, "q")).hasMessageContaining(key + "=audit is set")
            .hasMessageContaining("sink.iceberg.branch");
      } finally {
        spark.conf().unset(key);
      }
    }
  }
}
