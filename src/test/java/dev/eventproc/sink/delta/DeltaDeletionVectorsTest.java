package dev.eventproc.sink.delta;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Issue 18 goal 4: a MERGE of keys spread over a Delta table copied every file it touched, so its cost
 * grew with the table. Tables eventproc creates for upsert and history have deletion vectors: a batch
 * updating rows copies none. Appends do not change rows and keep the table's protocol as it was.
 */
class DeltaDeletionVectorsTest {
  private static final StructType SCHEMA = StructType.fromDDL("id STRING, version BIGINT, amount INT");
  private final SparkSession spark = TestSpark.session();
  private final Path dir = TestSpark.newDir("delta-dv");

  private Dataset<Row> rows(long version, int n) {
    List<Row> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(RowFactory.create("k" + i, version, i));
    }
    return spark.createDataFrame(out, SCHEMA).repartition(2);
  }

  private BatchSink sink(String name, String mode, String deletionVectors) {
    Map<String, String> c = new HashMap<>(Map.of("sink.type", "delta", "sink.name", name, "sink.mode", mode,
        "sink.delta.path", dir.resolve(name).toString()));
    if (!mode.equals("append")) {
      c.put("sink.key.columns", "id");
    }
    if (mode.equals("upsert")) {
      c.put("sink.version.column", "version");
    }
    if (deletionVectors != null) {
      c.put("sink.delta.deletion.vectors", deletionVectors);
    }
    return Sinks.fromConfig(c);
  }

  private String property(String name) {
    Row detail = spark.sql("DESCRIBE DETAIL delta.`" + dir.resolve(name) + "`").first();
    Map<String, String> p = detail.getJavaMap(detail.fieldIndex("properties"));
    return p.get("delta.enableDeletionVectors");
  }

  private long lastMergeRowsCopied(String name) {
    Row last = spark.sql("DESCRIBE HISTORY delta.`" + dir.resolve(name) + "`").where("operation = 'MERGE'")
        .orderBy(col("version").desc()).first();
    Map<String, String> metrics = last.getJavaMap(last.fieldIndex("operationMetrics"));
    return Long.parseLong(metrics.get("numTargetRowsCopied"));
  }

  @Test
  void anUpsertTableEventprocCreatesHasDeletionVectorsAndAnUpdateCopiesNoRow() {
    BatchSink sink = sink("upsert_dv", "upsert", null);
    sink.write(rows(1, 400).coalesce(1), 0L, "q");
    sink.write(rows(2, 400).where("id IN ('k1', 'k200', 'k399')"), 1L, "q");

    assertThat(property("upsert_dv")).isEqualTo("true");
    assertThat(lastMergeRowsCopied("upsert_dv")).as("rows copied by the update of 3 of 400 rows in one file").isZero();
    assertThat(spark.read().format("delta").load(dir.resolve("upsert_dv").toString()).where("version = 2").count()).isEqualTo(3);
  }

  @Test
  void theKeyTurnsThemOffAndThenAnUpdateCopiesTheFileAndAppendsDoNotGetThem() {
    BatchSink off = sink("upsert_plain", "upsert", "false");
    off.write(rows(1, 400).coalesce(1), 0L, "q");
    off.write(rows(2, 400).where("id IN ('k1', 'k200', 'k399')"), 1L, "q");
    BatchSink append = sink("append_plain", "append", null);
    append.write(rows(1, 10), 0L, "q");

    assertThat(property("upsert_plain")).isNull();
    assertThat(lastMergeRowsCopied("upsert_plain")).as("the other 397 rows of the one file, copied").isEqualTo(397);
    assertThat(property("append_plain")).isNull();
  }

  @Test
  void aHistoryTableGetsThemByDefault() {
    assertThat(DeltaSink.deletionVectorsByDefault(SinkSpec.builder().name("h").mode(WriteMode.HISTORY)
        .keyColumns("id").versionColumn("version").build())).isTrue();
    assertThat(DeltaSink.deletionVectorsByDefault(SinkSpec.builder().name("i")
        .mode(WriteMode.INSERT_IF_ABSENT).keyColumns("id").build())).isFalse();
  }
}
