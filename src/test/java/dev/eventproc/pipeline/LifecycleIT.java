package dev.eventproc.pipeline;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.input_file_name;
import static org.apache.spark.sql.functions.regexp_extract;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.reconcile.Reconciler;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.PaymentFiles;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Operations on a used pipeline (issue 13), end to end through {@code PipelineRunner}: a checkpoint
 * reset in front of an append files sink, then a renamed sink on the used checkpoint. Prints one
 * {@code LIFECYCLE} line with the figures the README's Reliability results quote.
 */
class LifecycleIT {
  private final SparkSession spark = TestSpark.session();

  @Test
  void aResetCheckpointKeepsBothRunsOfAnAppendFilesSinkAndARenamedSinkIsRefused() throws Exception {
    Path dir = TestSpark.newDir("lifecycle-files");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(600, 5).withMalformedRate(0).withDuplicateRate(0));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 3);
    Map<String, String> c = PaymentFiles.pipeline("lifecycle", dir);
    c.put("sink.type", "files");
    c.put("sink.mode", "append");
    c.put("sink.files.path", dir.resolve("files").toString());
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));

    PipelineRunner.run(spark, config, null);
    CheckpointGuard.reset(spark, config);
    PipelineRunner.run(spark, config, null);

    // Every message, once per run (writer); the writer's directory names the run.
    Dataset<Row> rows = spark.read().parquet(dir.resolve("files").toString())
        .withColumn("writer", regexp_extract(input_file_name(), "/(writer-[^/]+)/[^/]*$", 1));
    long messages = feed.messages().size();
    List<Row> perWriter = rows.groupBy("writer").count().collectAsList();
    assertThat(perWriter).as("two runs, two writers").hasSize(2).allSatisfy(r -> assertThat(r.getLong(1)).isEqualTo(messages));
    long doubled = rows.count() - rows.select("writer", "payment_id", "version").distinct().count();
    long distinctPerRun = rows.select("payment_id", "version").distinct().count();
    long lost = 2 * messages - rows.count() + doubled;
    assertThat(doubled).isZero();
    assertThat(lost).isZero();
    assertThat(rows.filter(col("writer").equalTo("")).count()).as("no batch outside a writer's directory").isZero();
    List<Result> checks = Reconciler.run(spark, config.sink(), config.reconcile());
    assertThat(checks).isNotEmpty().allSatisfy(r -> assertThat(r.failed()).as("%s", r).isFalse());

    // A renamed sink on the used checkpoint would be a new writer of the batch in flight: refused.
    Map<String, String> renamed = new LinkedHashMap<>(c);
    renamed.put("sink.name", "lifecycle_v2");
    assertThatThrownBy(() -> PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(renamed)), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("sink.name was 'lifecycle', now 'lifecycle_v2'");
    assertThat(spark.read().parquet(dir.resolve("files").toString()).count()).as("nothing written by the refused run")
        .isEqualTo(2 * messages);
    System.out.printf("LIFECYCLE files reset: messages=%d runs=2 rows=%d distinct=%d lost=%d doubled=%d reconcile=%d/%d PASS; "
        + "renamed sink refused%n", messages, rows.count(), distinctPerRun, lost, doubled, checks.size(), checks.size());
  }
}
