package dev.eventproc.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.kafka.KafkaSinkOptions.Writers;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kafka sink's progress lives in consumer-group offsets, which the broker drops
 * {@code offsets.retention.minutes} after the last commit (the groups never have members). A crash
 * after a batch's commit and before Spark's checkpoint, restarted after that: the sink must find the
 * batch in the topic's records (their {@code eventproc.*} headers) and skip it, or stop when the
 * topic cannot tell. Deleting the groups with the admin client stands for their expiry.
 */
class KafkaProgressRecoveryIT {
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  private static CrashHarness harness;

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("kafka-recovery", 3);
  }

  @ParameterizedTest(name = "writers={0}")
  @ValueSource(strings = {"single", "partitioned"})
  void aCommittedBatchWhoseProgressGroupExpiredIsSkippedOnRestart(String writers) throws Exception {
    String topic = "recovery-" + writers;
    Path dir = TestSpark.newDir("kafka-recovery-" + writers);
    Map<String, String> c = harness.config(dir, "available-now");
    c.put("sink.type", "kafka");
    c.put("sink.mode", "append");
    c.put("sink.key.columns", "payment_id");
    c.put("sink.kafka.bootstrap.servers", TestKafka.servers());
    c.put("sink.kafka.topic", topic);
    c.put("sink.kafka.writers", writers);
    if (writers.equals("partitioned")) {
      c.put("sink.kafka.partitions", "3");
    }
    CrashHarness.filesQuarantine(c, dir);
    ChildPipeline child = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("job.properties"), c));
    child.runUntilFault("after-commit@1/orders", CrashHarness.RUN_TIMEOUT);
    assertThat(deleteProgressGroups(topic)).as("progress groups deleted").hasSize(writers.equals("single") ? 1 : 3);

    child.runToEnd(CrashHarness.RUN_TIMEOUT);
    assertThat(child.log()).contains("recovered from the topic's records")
        .contains("sink=orders target=kafka:" + topic + " batch=1: already committed by this writer, skipped");
    assertReadOnce(topic);
    // The recovered progress keeps the chain of batches: batch 2's records name batch 1 as their writer part's previous.
    List<String> previous = TestKafka.read(topic, true).stream().filter(r -> header(r, ProduceTask.BATCH_HEADER).equals("2"))
        .map(r -> header(r, ProduceTask.PREVIOUS_HEADER)).distinct().toList();
    assertThat(previous).as("eventproc.previous of batch 2's records").isNotEmpty().allMatch(p -> p.endsWith(":1"));
  }

  private static String header(ConsumerRecord<String, String> r, String name) {
    return new String(r.headers().lastHeader(name).value(), java.nio.charset.StandardCharsets.UTF_8);
  }

  @Test
  void whenTheTopicCannotTellTheSinkStopsInsteadOfWritingTwice() throws Exception {
    String topic = "recovery-lost-" + Long.toHexString(System.nanoTime());
    KafkaSink first = sink(topic);
    first.write(TestSpark.session().range(0, 10).selectExpr("CAST(id AS STRING) AS id"), 0, "q");
    first.write(TestSpark.session().range(10, 20).selectExpr("CAST(id AS STRING) AS id"), 1, "q");
    first.close();
    deleteProgressGroups(topic);
    try (Admin admin = TestKafka.broker().admin()) { // retention deleted every record
      Map<TopicPartition, OffsetSpec> latest = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
      for (int p = 0; p < KafkaSinkOptions.TOPIC_PARTITIONS_DEFAULT; p++) {
        latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
      Map<TopicPartition, RecordsToDelete> all = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getKey, e -> RecordsToDelete.beforeOffset(e.getValue().offset())));
      admin.deleteRecords(all).all().get(30, TimeUnit.SECONDS);
    }

    KafkaSink restarted = sink(topic);
    assertThatThrownBy(() -> restarted.write(TestSpark.session().range(10, 20).selectExpr("CAST(id AS STRING) AS id"), 1, "q"))
        .hasMessage("sink lost batch 1: its progress is gone from consumer group(s) eventproc-lost-q (offsets expire "
            + "offsets.retention.minutes after the last commit: a long outage?) and the topic " + topic + " cannot tell whether the "
            + "batch was committed: none of its records is left in the topic, and records were deleted from it (retention): batch 1's "
            + "may have been among them. Keep records longer than an outage (retention.ms, retention.bytes). Writing it could write it "
            + "twice, so the sink stops. If its records (headers eventproc.writer=" + new dev.eventproc.sink.WriterId("lost", "q").appId()
            + ", eventproc.batch=1) are in the topic, set each group's offset on " + topic + ":0 to 2, else to 1 (kafka-consumer-groups.sh "
            + "--reset-offsets --to-offset N --topic " + topic + ":0 --group G --execute), or reset the checkpoint.");
    restarted.close();
  }

  private static KafkaSink sink(String topic) {
    return KafkaSink.create(SinkSpec.builder().name("lost").mode(WriteMode.APPEND).keyColumns("id").build(),
        KafkaSinkOptions.of(TestKafka.servers(), topic, Writers.SINGLE, 1, "lost", Map.of()));
  }

  private static List<String> deleteProgressGroups(String topic) throws Exception {
    return TestKafka.deleteProgressGroups(TestKafka.broker(), topic);
  }

  private static void assertReadOnce(String topic) throws Exception {
    Map<String, Long> seen = new TreeMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      JsonNode v = JSON.readTree(r.value());
      seen.merge(v.get("payment_id").asText() + ":" + v.get("version").asLong() + ":" + v.get("amount").decimalValue().setScale(2)
          .toPlainString(), 1L, Long::sum);
    }
    assertThat(seen).isEqualTo(harness.expectedAppended());
  }
}
