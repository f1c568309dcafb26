package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.MainAccess;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.FaultInjection.Point;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.PaymentFiles;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestSpark;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code eventproc status} for each sink type (one of each in a fan-out, so two runs cover them all): a
 * run that stops right after the sinks committed batch 1 (before Spark's checkpoint commit) leaves
 * every sink one batch ahead, a WARN saying the restart skips it; the restart settles it, and status is
 * OK and in step. Two tiny batches per run.
 */
class StatusIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<SinkType> TYPES = List.of(SinkType.DELTA, SinkType.ICEBERG, SinkType.POSTGRES, SinkType.KAFKA,
      SinkType.FILES);
  private final SparkSession spark = TestSpark.session();

  @AfterEach
  void noHook() {
    FaultInjection.setTestHook(null);
  }

  @Test
  void statusSaysEachSinkIsAheadAfterAHaltAtAfterCommitAndInStepAfterACleanStop() throws Exception {
    String name = "status";
    Path dir = TestSpark.newDir(name);
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(6, 7).withMalformedRate(0).withDuplicateRate(0));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 2);
    Map<String, String> c = PaymentFiles.pipeline(name, dir);
    // One sink of each type, in one fan-out: two runs cover them all.
    List<String> routes = new ArrayList<>();
    for (SinkType type : TYPES) {
      String route = "st_" + type.name().toLowerCase(Locale.ROOT);
      routes.add(route);
      Map<String, String> target = SinkConfigs.target(type, new LinkedHashMap<>(), dir.resolve(route), route, route);
      target.forEach((k, v) -> c.put("sink." + route + "." + k.substring("sink.".length()), v));
      c.put("sink." + route + ".type", type.name().toLowerCase(Locale.ROOT));
      c.put("sink." + route + ".mode", "append"); // one pass per batch: the cheapest commit of each type
    }
    c.put("sinks", String.join(",", routes));
    Path file = ChildPipeline.writeConfig(dir.resolve("job.properties"), c);
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));

    StatusReport before = StatusReport.check(spark, config, UnaryOperator.identity());
    assertThat(before.sinks()).hasSize(TYPES.size() + 1)
        .allSatisfy(s -> assertThat(s.state()).isEqualTo(SinkStatus.State.NOT_STARTED));
    assertThat(before.exitStatus()).isZero();

    // The process "dies" after the last sink committed batch 1 and before Spark recorded it.
    String last = routes.get(routes.size() - 1);
    FaultInjection.setTestHook((point, sink, batch) -> {
      if (point == Point.AFTER_COMMIT && sink.equals(name + "_" + last) && batch == 1) {
        throw new IllegalStateException("test: stop after the sinks committed batch 1");
      }
    });
    assertThatThrownBy(() -> PipelineRunner.run(spark, config, null)).hasStackTraceContaining("stop after the sinks committed");
    FaultInjection.setTestHook(null);

    StatusReport halted = StatusReport.check(spark, config, UnaryOperator.identity());
    assertThat(halted.checkpoint().lastPlanned()).isEqualTo(1);
    assertThat(halted.checkpoint().lastCommitted()).isZero();
    for (int i = 0; i < TYPES.size(); i++) {
      SinkStatus s = halted.sinks().get(i);
      assertThat(s.sink()).isEqualTo(name + "_" + routes.get(i));
      assertThat(s.record().lastBatch()).as("%s: %s", TYPES.get(i), s).isEqualTo(1);
      assertThat(s.state()).as("%s: %s", TYPES.get(i), s).isEqualTo(SinkStatus.State.AHEAD_BY_REPLAY);
      assertThat(s.verdict()).contains("batch 1 is committed in the sink and not in the checkpoint: the restart will skip it");
    }
    // The quarantine (Delta) got no rows and records only batches with rows (quarantine.record.empty.batches
    // defaults to false): nothing on record, read as empty batches, not as a loss.
    SinkStatus quarantine = halted.sinks().get(TYPES.size());
    assertThat(quarantine.record().lastBatch()).as("the quarantine: %s", quarantine).isEqualTo(-1);
    assertThat(quarantine.state()).as("the quarantine: %s", quarantine).isEqualTo(SinkStatus.State.BEHIND_EMPTY);
    assertThat(quarantine.verdict()).contains("this sink records only batches with rows");
    assertThat(halted.exitStatus()).isEqualTo(SinkStatus.Level.WARN.exitStatus()).isEqualTo(3);
    JsonNode json = statusJson(file, 3);
    assertThat(json.at("/sinks/0/state").asText()).isEqualTo("AHEAD_BY_REPLAY");
    assertThat(json.at("/sinks/0/last_committed_batch").asLong()).isEqualTo(1);
    assertThat(json.at("/checkpoint/last_committed_batch").asLong()).isZero();

    // A clean run replays batch 1 (every sink skips it) and stops: in step.
    PipelineRunner.run(spark, config, null);
    StatusReport clean = StatusReport.check(spark, config, UnaryOperator.identity());
    for (int i = 0; i < TYPES.size(); i++) {
      SinkStatus s = clean.sinks().get(i);
      assertThat(s.state()).as("%s: %s", TYPES.get(i), s).isEqualTo(SinkStatus.State.IN_STEP);
      assertThat(s.record().lastBatch()).isEqualTo(1).isEqualTo(clean.checkpoint().lastCommitted());
      assertThat(s.verdict()).startsWith("in step: batch 1 is the last committed in the sink and in the checkpoint");
    }
    assertThat(clean.exitStatus()).isZero();
    assertThat(statusJson(file, 0).at("/level").asText()).isEqualTo("OK");
    System.out.printf("STATUS halted:%n%s%nSTATUS clean:%n%s%n", halted.text(), clean.text());
  }

  /**
   * Runs {@code eventproc status --json} and checks its exit status. The command's session setup sets
   * local-mode defaults on the shared test session: they are put back after.
   */
  private JsonNode statusJson(Path config, int expectedStatus) throws Exception {
    Map<String, String> before = new LinkedHashMap<>();
    for (String key : List.of("spark.sql.shuffle.partitions", "spark.databricks.delta.snapshotPartitions")) {
      before.put(key, spark.conf().get(key));
    }
    PrintStream stdout = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int status;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      status = MainAccess.execute("status", "--config", config.toString(), "--json");
    } finally {
      System.setOut(stdout);
      before.forEach((k, v) -> spark.conf().set(k, v));
    }
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(status).as("exit status; output: %s", text).isEqualTo(expectedStatus);
    return JSON.readTree(text.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow());
  }
}
