package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint's own safety, in every mode (issue 22): {@code --reset-checkpoint} deletes only a
 * directory holding Spark's checkpoint layout and eventproc's fingerprint, never a file system or bucket
 * root, the paths root, or a directory holding a sink's data; the fingerprint never stores or prints a
 * secret (a value of a secret key, or one that came from {@code ${env:}}/{@code ${file:}}).
 */
class CheckpointSafetyTest {
  private final SparkSession spark = TestSpark.session();

  private static Map<String, String> config(Path dir) {
    Map<String, String> c = PipelineConfigTest.valid();
    c.put("checkpoint.location", dir.resolve("cp").toString());
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("sink.delta.path", dir.resolve("table").toString());
    return c;
  }

  /** A directory as Spark and eventproc leave a checkpoint. */
  private static void checkpointLayout(Path cp) throws Exception {
    Files.createDirectories(cp.resolve("offsets"));
    Files.createDirectories(cp.resolve("commits"));
    Files.createDirectories(cp.resolve("state/0/0"));
    Files.writeString(cp.resolve("offsets/0"), "v1");
    Files.writeString(cp.resolve("metadata"), "{\"id\":\"x\"}");
    Files.writeString(cp.resolve(".metadata.crc"), "crc");
    Files.writeString(cp.resolve(CheckpointGuard.FILE), "source.type=files\n");
  }

  @Test
  void resetDeletesACheckpoint() throws Exception {
    Path dir = TestSpark.newDir("reset-ok");
    checkpointLayout(dir.resolve("cp"));
    CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(config(dir))));
    assertThat(dir.resolve("cp")).doesNotExist();
    CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(config(dir)))); // nothing left: fine
  }

  @Test
  void resetRefusesADirectoryThatHoldsASinksData() throws Exception {
    Path dir = TestSpark.newDir("reset-sink");
    Map<String, String> c = config(dir);
    c.put("checkpoint.location", dir.toString());
    checkpointLayout(dir);
    Files.createDirectories(dir.resolve("table/_delta_log"));
    assertThatThrownBy(() -> CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(c))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("checkpoint.location")
        .hasMessageContaining("sink.delta.path");
    assertThat(dir.resolve("table/_delta_log")).isDirectory();
  }

  @Test
  void resetRefusesTheRootItself() throws Exception {
    Path dir = TestSpark.newDir("reset-root");
    Map<String, String> c = config(dir);
    c.put("paths.root", dir.toString());
    c.put("checkpoint.location", dir.toString());
    c.put("quarantine.delta.path", dir.resolve("quarantine").toString());
    checkpointLayout(dir);
    assertThatThrownBy(() -> CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(c))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("checkpoint.location").hasMessageContaining("paths.root");
    assertThat(dir.resolve("metadata")).exists();
  }

  @Test
  void resetRefusesADirectoryThatIsNotACheckpoint() throws Exception {
    Path dir = TestSpark.newDir("reset-other");
    Path cp = Files.createDirectories(dir.resolve("cp"));
    Files.writeString(cp.resolve("quarterly-report.xlsx"), "precious");
    assertThatThrownBy(() -> CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(config(dir)))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("checkpoint.location")
        .hasMessageContaining(CheckpointGuard.FILE);
    checkpointLayout(cp); // a checkpoint with something else in it is not deleted either
    assertThatThrownBy(() -> CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(config(dir)))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("quarterly-report.xlsx");
    assertThat(cp.resolve("quarterly-report.xlsx")).hasContent("precious");
  }

  @Test
  void resetRefusesAFileSystemOrBucketRoot() {
    for (String root : new String[] {"/", "file:///", "s3a://team-bucket/", "s3a://team-bucket", "hdfs://nn:8020/"}) {
      Map<String, String> c = PipelineConfigTest.valid();
      c.put("checkpoint.location", root);
      c.put("quarantine.delta.path", "/tmp/eventproc-never-used-quarantine");
      assertThatThrownBy(() -> CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(c)))).as(root)
          .isInstanceOf(ConfigException.class).hasMessageContaining("checkpoint.location").hasMessageContaining("root");
    }
  }

  @Test
  void theFingerprintNeverHoldsOrPrintsASecret() throws Exception {
    Path dir = TestSpark.newDir("fingerprint");
    Map<String, String> c = config(dir);
    c.put("source.files.path", "${env:TEAM_INPUT}");
    c.put("stage.type", "aggregate");
    c.put("stage.window.duration", "1 minute");
    c.put("stage.aggregates", "${env:TEAM_AGGREGATES}");
    c.put("sink.mode", "append");
    c.remove("sink.key.columns");
    c.remove("sink.version.column");
    c.remove("sink.delete.condition");
    Path in = dir.resolve("in-secret-name-4711");
    PipelineConfig first = PipelineConfig.from(EventprocConfig.of(c,
        n -> n.equals("TEAM_INPUT") ? in.toString() : "sum(amount) AS total_4711"));
    CheckpointGuard.check(spark, first);
    String stored = Files.readString(dir.resolve("cp").resolve(CheckpointGuard.FILE));
    assertThat(stored).contains("source.files.path=").doesNotContain("secret-name-4711").doesNotContain("total_4711");

    Files.createDirectories(dir.resolve("cp/offsets")); // the checkpoint is now in use
    CheckpointGuard.check(spark, first); // the same secrets match
    PipelineConfig changed = PipelineConfig.from(EventprocConfig.of(c,
        n -> n.equals("TEAM_INPUT") ? dir.resolve("in-other-name-0815").toString() : "sum(amount) AS total_0815"));
    assertThatThrownBy(() -> CheckpointGuard.check(spark, changed)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.files.path").hasMessageContaining("stage.aggregates")
        .hasMessageNotContaining("4711").hasMessageNotContaining("0815");

    // A fingerprint written before secrets were kept out of it still holds one in plain text: never printed.
    Files.deleteIfExists(dir.resolve("cp").resolve("." + CheckpointGuard.FILE + ".crc")); // Hadoop's checksum of the old text
    Files.writeString(dir.resolve("cp").resolve(CheckpointGuard.FILE), stored.replaceAll("(?m)^source\\.files\\.path=.*$",
        "source.files.path=" + in.toString().replace(":", "\\:")));
    assertThatThrownBy(() -> CheckpointGuard.check(spark, changed)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.files.path").hasMessageNotContaining("4711").hasMessageNotContaining("0815");
  }
}
