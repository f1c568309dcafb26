package dev.eventproc.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.CrashMatrix;
import dev.eventproc.testutils.EventRows;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kills a real pipeline JVM (files -> Kafka, append) at every fault point of both writer modes and
 * with SIGKILL; after a restart a read_committed consumer sees every valid event exactly once, every
 * field of its value equal to the event's (the event time as an instant).
 */
class KafkaCrashIT {
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  private static CrashHarness harness;

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("kafka-crash", 3, 200);
  }

  static Map<String, String> config(Path dir, String topic, String writers, String trigger) {
    Map<String, String> c = harness.config(dir, trigger);
    c.put("sink.type", "kafka");
    c.put("sink.mode", "append");
    c.put("sink.key.columns", "payment_id");
    c.put("sink.kafka.bootstrap.servers", TestKafka.servers());
    c.put("sink.kafka.topic", topic);
    c.put("sink.kafka.writers", writers.equals("single-task") ? "single" : writers);
    if (writers.equals("single-task")) {
      c.put("sink.kafka.produce.on", "task"); // the sliced write (the default writes on the driver)
    }
    CrashHarness.filesQuarantine(c, dir);
    if (writers.equals("partitioned")) {
      c.put("sink.kafka.partitions", "3");
    }
    return c;
  }

  static Stream<Arguments> faults() {
    return CrashMatrix.cases(
        new Object[] {"single", "before-commit"},
        new Object[] {"single", "after-staging"},
        new Object[] {"single", "after-commit"},
        new Object[] {"single-task", "after-staging"},
        new Object[] {"partitioned", "after-staging"},
        new Object[] {"partitioned", "after-commit"},
        // a writer committed its part and the process dies before the sink hears of it: on the driver the
        // whole batch (the restart finds it committed), in a task one partition of three (the restart resumes it)
        new Object[] {"single", "task-committed"},
        new Object[] {"partitioned", "task-committed"});
  }

  @ParameterizedTest(name = "{1} at batch {2}, writers={0}")
  @MethodSource("faults")
  void crashAtAFaultPointThenRestartEveryEventIsReadOnce(String writers, String point, int batch) throws Exception {
    String topic = "orders-" + writers + "-" + point + "-" + batch;
    Path dir = TestSpark.newDir("kafka-crash-" + writers + "-" + point + "-" + batch);
    ChildPipeline child = harness.crashThenRestart(dir, config(dir, topic, writers, "available-now"), point + "@" + batch + "/orders");
    if (point.equals("after-commit") || (point.equals("task-committed") && writers.equals("single"))) {
      // the Kafka sink's line: the quarantine sink, committed before it, logs the same words
      assertThat(child.log()).containsPattern("sink=orders target=\\S+ batch=" + batch + ": already committed by this writer, skipped");
    }
    if (point.equals("task-committed") && writers.equals("partitioned")) {
      // local[2] runs two of the three writer tasks at once and the first to commit halts the JVM, so at least one
      // partition is left; the pipeline's quarantine split hands the sink its count, so "rows in" is the batch's
      // rows and "written" what the restart sent.
      Matcher resumed = Pattern.compile("sink=orders target=\\S+ batch=" + batch + ": committed, rows in=(\\d+) written=(\\d+)")
          .matcher(child.log());
      assertThat(resumed.find()).as("the restart committed batch %d", batch).isTrue();
      assertThat(Long.parseLong(resumed.group(2))).as("the restart wrote only the writer partitions the killed run had not committed")
          .isPositive().isLessThan(Long.parseLong(resumed.group(1)));
    }
    assertReadOnce(topic);
  }

  @Test
  void randomKill9ThenRestartEveryEventIsReadOnce() {
    Path dir = TestSpark.newDir("kafka-kill9");
    harness.killRandomlyThenDrain(dir, trigger -> config(dir, "orders-kill9", "single", trigger), List.of("orders"),
        () -> assertReadOnce("orders-kill9"));
  }

  private void assertReadOnce(String topic) throws Exception {
    List<String> seen = new ArrayList<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      JsonNode v = JSON.readTree(r.value());
      assertThat(r.key()).isEqualTo(v.get("payment_id").asText());
      seen.add(EventRows.of(v));
    }
    assertThat(CrashHarness.counted(seen)).isEqualTo(harness.expectedAppendedRows());
  }
}
