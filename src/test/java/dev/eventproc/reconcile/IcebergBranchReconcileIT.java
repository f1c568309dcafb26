package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineRunner;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.PaymentFiles;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Table;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Reconciling an Iceberg sink that writes a branch ({@code sink.iceberg.branch}): the snapshot continuity
 * check walks that branch's ancestry, where the sink writes its commit records, and not the table's main
 * branch: it passes on what the pipeline wrote, and a batch missing on the branch fails it even when a
 * snapshot on main carries that batch.
 */
class IcebergBranchReconcileIT {
  private final SparkSession spark = TestSpark.session();

  @Test
  void aBranchSinksContinuityIsCheckedOnItsBranch() throws Exception {
    Path dir = TestSpark.newDir("reconcile-iceberg-branch");
    EventGenerator.Spec spec = EventGenerator.Spec.payments(120, 23).withVersions(1, 0).withMalformedRate(0);
    JsonFiles.write(dir.resolve("in"), EventGenerator.generate(spec).messages(), 3);
    Map<String, String> c = PaymentFiles.pipeline("recbranch", dir);
    c.put("stage.type", "none");
    c.put("sink.type", "iceberg");
    c.put("sink.mode", "append");
    SinkConfigs.target(SinkType.ICEBERG, c, dir, "recbr", "payments");
    c.put("sink.iceberg.branch", "audit");
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));
    PipelineRunner.run(spark, config, null);

    List<Result> results = Reconciler.run(spark, config.sink(), config.reconcile());
    assertThat(results).as("the continuity check found the three batches on the branch (the main branch has none)")
        .anySatisfy(r -> {
          assertThat(r.check()).isEqualTo("iceberg_snapshot_gaps");
          assertThat(r.detail()).contains("batches 0..2, 3 present, 0 missing");
        });
    assertThat(results).as("every check passes on the branch the sink wrote").allSatisfy(r -> assertThat(r.failed()).as("%s", r).isFalse());

    // The writer's record on the branch jumps from batch 2 to 4; main gets a snapshot claiming batch 3.
    String name = c.get("sink.iceberg.table");
    Table table = Spark3Util.loadIcebergTable(spark, name);
    String appId = table.snapshot("audit").summary().get("eventproc.writer");
    table.newAppend().set("eventproc.writer", appId).set("eventproc.batch", "4").toBranch("audit").commit();
    table.newAppend().set("eventproc.writer", appId).set("eventproc.batch", "3").commit();
    spark.sql("REFRESH TABLE " + name);
    List<Result> planted = Reconciler.run(spark, config.sink(), config.reconcile());
    assertThat(planted).as("batch 3 is missing on the branch; main's snapshot of it does not count").anySatisfy(r -> {
      assertThat(r.check()).isEqualTo("iceberg_snapshot_gaps");
      assertThat(r.failed()).isTrue();
      assertThat(r.offending()).isEqualTo("3");
    });
  }
}
