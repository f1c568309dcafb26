package dev.eventproc.sink.iceberg;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.LakehouseSinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SparkTableSink;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.testutils.TestSpark;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
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
}
