package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** {@code eventproc reconcile} on a Delta history table: intervals and current rows vs the source pass, then name a planted fault. */
class HistoryReconcileTest {
  private final SparkSession spark = TestSpark.session();

  @Test
  void aHistoryTablePassesItsChecksAndAStaleCurrentRowFails() {
    Path dir = TestSpark.newDir("history-reconcile");
    Dataset<Row> events = spark.sql("SELECT * FROM VALUES ('a', 1L, 0L, 10, 'u'), ('a', 3L, 0L, 12, 'u'), ('a', 2L, 0L, 11, 'u'), "
        + "('b', 2L, 0L, 20, 'u'), ('b', 4L, 0L, 0, 'd'), ('c', 1L, 0L, 30, 'u'), ('c', 1L, 0L, 30, 'u') AS e(id, version, lsn, amount, op)");
    events.createOrReplaceTempView("history_reconcile_source");
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "hrec");
    c.put("checkpoint.location", dir.resolve("cp").toString());
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.schema", "id STRING, version BIGINT, lsn BIGINT, amount INT, op STRING");
    c.put("source.key.columns", "id");
    c.put("stage.type", "none");
    c.put("sink.type", "delta");
    c.put("sink.mode", "history");
    c.put("sink.key.columns", "id");
    c.put("sink.version.column", "version");
    c.put("sink.tiebreak.column", "lsn");
    c.put("sink.delete.condition", "op = 'd'");
    c.put("sink.delta.path", dir.resolve("t").toString());
    c.put("reconcile.source.table", "history_reconcile_source");
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));
    config.sink().write(events, 0, "q1");

    List<Result> clean = Reconciler.run(spark, config.sink(), config.reconcile());
    assertThat(clean).extracting(Result::check).contains("history_current", "history_intervals", "history_vs_source");
    assertThat(clean).as("%s", clean).noneMatch(Result::failed);

    spark.sql("UPDATE delta.`" + dir.resolve("t") + "` SET __end_at = NULL WHERE id = 'b'");
    List<Result> planted = Reconciler.run(spark, config.sink(), config.reconcile());
    assertThat(planted).filteredOn(r -> r.check().equals("history_vs_source"))
        .singleElement().satisfies(r -> assertThat(r.offending()).isEqualTo("b"));
    assertThat(planted).filteredOn(r -> r.check().equals("history_current")).singleElement()
        .satisfies(r -> assertThat(r.status()).isEqualTo("PASS"));
  }
}
