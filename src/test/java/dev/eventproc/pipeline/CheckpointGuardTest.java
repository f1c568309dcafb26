package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.Race;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestSpark;
import java.io.Reader;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint guard on sink identity and commit shape (issue 13 item 3) and its comparison, first
 * write and Kafka cluster (issue 21 item 13). No query runs: the guard reads and writes its file only.
 */
class CheckpointGuardTest {
  private final SparkSession spark = TestSpark.session();

  private static Map<String, String> base(Path dir) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "guarded");
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("sink.type", "delta");
    c.put("sink.mode", "append");
    c.put("sink.delta.path", dir.resolve("table").toString());
    return c;
  }

  private void check(Map<String, String> c) {
    CheckpointGuard.check(spark, PipelineConfig.from(EventprocConfig.of(c)));
  }

  /** Starts with {@code base}, then restarts with {@code change} applied; the refusal's message. */
  private String refusal(String name, Map<String, String> base, Consumer<Map<String, String>> change) {
    Map<String, String> first = new LinkedHashMap<>(base);
    first.put("checkpoint.location", TestSpark.newDir("guard-" + name).resolve("checkpoint").toString());
    check(first);
    Map<String, String> second = new LinkedHashMap<>(first);
    change.accept(second);
    Throwable t = catchThrowable(() -> check(second));
    assertThat(t).as(name).isInstanceOf(ConfigException.class);
    assertThat(t.getMessage()).contains("--reset-checkpoint", "new checkpoint.location");
    return t.getMessage();
  }

  @Test
  void aChangedSinkIdentityOrCommitShapeIsRefusedNamingTheKeyTheOldAndNewValue() {
    Path dir = TestSpark.newDir("guard-sinks");
    Map<String, String> c = base(dir);
    assertThat(refusal("name", c, m -> m.put("sink.name", "renamed"))).contains("sink.name was 'guarded', now 'renamed'");
    assertThat(refusal("path", c, m -> m.put("sink.delta.path", dir.resolve("other").toString())))
        .contains("sink.delta.path was '" + dir.resolve("table") + "', now '" + dir.resolve("other") + "'");
    assertThat(refusal("type", c, m -> {
      m.remove("sink.delta.path");
      m.put("sink.type", "files");
      m.put("sink.files.path", dir.resolve("table").toString());
    })).contains("sink.type was 'delta', now 'files'", "sink.delta.path was '" + dir.resolve("table") + "', now ''");

    Map<String, String> kafka = base(dir);
    kafka.remove("sink.delta.path");
    kafka.put("sink.type", "kafka");
    kafka.put("sink.kafka.bootstrap.servers", "127.0.0.1:9");
    kafka.put("sink.kafka.topic", "out");
    assertThat(refusal("writers", kafka, m -> m.put("sink.kafka.writers", "partitioned")))
        .contains("sink.kafka.writers was 'single', now 'partitioned'");

    Map<String, String> pg = base(dir);
    pg.remove("sink.delta.path");
    pg.put("sink.type", "postgres");
    pg.put("sink.mode", "upsert");
    pg.put("sink.key.columns", "payment_id");
    pg.put("sink.postgres.url", "jdbc:postgresql://127.0.0.1:5432/postgres");
    pg.put("sink.postgres.table", "payments");
    assertThat(refusal("commit", pg, m -> m.put("sink.postgres.commit", "partition")))
        .contains("sink.postgres.commit was 'batch', now 'partition'", "sink.postgres.partitions was '', now '2'");

    Map<String, String> fanOut = base(dir);
    fanOut.remove("sink.type");
    fanOut.remove("sink.mode");
    fanOut.remove("sink.delta.path");
    fanOut.put("sinks", "lake,raw");
    fanOut.put("sink.lake.type", "delta");
    fanOut.put("sink.lake.mode", "append");
    fanOut.put("sink.lake.delta.path", dir.resolve("lake").toString());
    fanOut.put("sink.raw.type", "files");
    fanOut.put("sink.raw.mode", "append");
    fanOut.put("sink.raw.files.path", dir.resolve("raw").toString());
    assertThat(refusal("route", fanOut, m -> m.put("sink.raw.files.path", dir.resolve("raw2").toString())))
        .contains("sink.raw.files.path was '" + dir.resolve("raw") + "'");
    assertThat(refusal("quarantine", c, m -> m.put("quarantine.delta.path", dir.resolve("q").toString())))
        .contains("quarantine.delta.path was '");
  }

  /** Spelling is not meaning: spaces in lists, a trailing slash, a duration written another way. */
  @Test
  void spacingAndSpellingAreNotChanges() {
    Path dir = TestSpark.newDir("guard-spelling");
    Map<String, String> c = base(dir);
    c.put("source.key.columns", "payment_id,account_id");
    check(c);
    Map<String, String> again = new LinkedHashMap<>(c);
    again.put("source.key.columns", " payment_id , account_id");
    again.put("sink.delta.path", dir.resolve("table") + "/");
    assertThatCode(() -> check(again)).doesNotThrowAnyException();
    assertThat(CheckpointGuard.normalise("stage.window.duration", "1 minute"))
        .isEqualTo(CheckpointGuard.normalise("stage.window.duration", "60s"));
    assertThat(CheckpointGuard.normalise("stage.aggregates", "count(*)  AS n,sum( amount ) AS total"))
        .isEqualTo(CheckpointGuard.normalise("stage.aggregates", "count(*) AS n, sum(amount) AS total"));
  }

  /**
   * A fingerprint written before sinks were recorded (or a route added later) passes and is completed;
   * from then on the sink is guarded.
   */
  @Test
  void anOlderFingerprintIsCompletedAndThenGuardsTheSink() throws Exception {
    Path dir = TestSpark.newDir("guard-upgrade");
    Map<String, String> c = base(dir);
    check(c);
    Path file = dir.resolve("checkpoint").resolve(CheckpointGuard.FILE);
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file)) {
      p.load(r);
    }
    p.keySet().removeIf(k -> ((String) k).startsWith("sink.") || ((String) k).startsWith("quarantine."));
    try (Writer w = Files.newBufferedWriter(file)) {
      p.store(w, "as an older eventproc wrote it");
    }
    check(c);
    assertThat(Files.readString(file)).contains("sink.delta.path=", "sink.name=guarded");
    Map<String, String> renamed = new LinkedHashMap<>(c);
    renamed.put("sink.name", "renamed");
    assertThatThrownBy(() -> check(renamed)).isInstanceOf(ConfigException.class).hasMessageContaining("sink.name was 'guarded'");
  }

  /**
   * A dedupe stage's state written by an eventproc before its state layout changed (typed key groups,
   * quarantined rows passed through), or by a later one in a layout this version does not know, is
   * refused with the way out, before Spark fails on it mid-start.
   */
  @Test
  void dedupeStateOfAnEarlierLayoutIsRefusedWithTheWayOut() throws Exception {
    for (String stage : List.of("dedupe-first-seen", "dedupe-latest")) {
      Path dir = TestSpark.newDir("guard-state-layout-" + stage);
      Map<String, String> c = base(dir);
      c.put("source.event.time.column", "event_time");
      c.put("stage.type", stage);
      if (stage.equals("dedupe-latest")) {
        c.put("stage.version.column", "version");
      }
      check(c);
      check(c); // a restart of the same version passes
      Path file = dir.resolve("checkpoint").resolve(CheckpointGuard.FILE);
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      }
      p.keySet().removeIf(k -> ((String) k).startsWith("eventproc.stage."));
      try (Writer w = Files.newBufferedWriter(file)) {
        p.store(w, "as an eventproc before the state layout change wrote it");
      }
      assertThatThrownBy(() -> check(c)).as(stage).isInstanceOf(ConfigException.class)
          .hasMessageContaining("state").hasMessageContaining(stage).hasMessageContaining("--reset-checkpoint");
      // A later eventproc's layout (a rollback): refused as well, and not called an earlier version's.
      p.setProperty(StageStateLayout.KEY, "3");
      try (Writer w = Files.newBufferedWriter(file)) {
        p.store(w, "as a later eventproc, of a layout this one does not know, wrote it");
      }
      assertThatThrownBy(() -> check(c)).as(stage + ", layout 3").isInstanceOf(ConfigException.class)
          .hasMessageContaining("state layout 3").hasMessageContaining("--reset-checkpoint")
          .hasMessageContaining("a later eventproc").hasMessageNotContaining("earlier");
    }
  }

  /** Two pipelines starting on one new checkpoint at once: one wins, the other refuses. */
  @Test
  void ofTwoFirstStartsOnOneCheckpointOnlyOnePasses() throws Exception {
    for (int round = 0; round < 3; round++) {
      Path dir = TestSpark.newDir("guard-first");
      Map<String, String> one = base(dir);
      Map<String, String> other = new LinkedHashMap<>(one);
      other.put("sink.name", "other");
      List<String> outcomes = Race.together(List.of(one, other), c -> PipelineConfig.from(EventprocConfig.of(c)), (c, config) -> {
        try {
          CheckpointGuard.check(spark, config);
          return "passed";
        } catch (ConfigException e) {
          return "refused";
        }
      });
      assertThat(outcomes).as("round " + round).containsExactlyInAnyOrder("passed", "refused");
    }
  }

  /** A Kafka source's cluster: another address of the same cluster passes, another cluster is refused. */
  @Test
  void aKafkaSourceIsGuardedByItsClusterNotItsAddress() throws Exception {
    Path dir = TestSpark.newDir("guard-kafka");
    Map<String, String> c = base(dir);
    c.put("source.type", "kafka");
    c.remove("source.files.path");
    c.put("source.kafka.bootstrap.servers", TestKafka.servers());
    c.put("source.kafka.topic", "guarded_in");
    check(c);
    Path file = dir.resolve("checkpoint").resolve(CheckpointGuard.FILE);
    assertThat(Files.readString(file)).contains(CheckpointGuard.KAFKA_CLUSTER_ID + "=");

    Map<String, String> moved = new LinkedHashMap<>(c);
    moved.put("source.kafka.bootstrap.servers", TestKafka.servers().replace("127.0.0.1", "localhost"));
    assertThatCode(() -> check(moved)).as("same cluster, another address").doesNotThrowAnyException();

    List<String> lines = new ArrayList<>();
    for (String l : Files.readAllLines(file)) {
      lines.add(l.startsWith(CheckpointGuard.KAFKA_CLUSTER_ID + "=") ? CheckpointGuard.KAFKA_CLUSTER_ID + "=another-cluster" : l);
    }
    Files.write(file, lines);
    assertThatThrownBy(() -> check(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.kafka.cluster.id was 'another-cluster', now '")
        .hasMessageContaining("another Kafka cluster");
  }
}
