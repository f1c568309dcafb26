package dev.eventproc.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.cli.LocalKafkaBroker;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineRunner;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.kafka.KafkaSinkOptions.ProduceOn;
import dev.eventproc.sink.kafka.KafkaSinkOptions.Writers;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestSpark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerInterceptor;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Batches that take longer than {@code transaction.timeout.ms} to write. A broker of its own (so the
 * shared one keeps its settings) aborts a transaction 3 s after it began, checking every 250 ms, and
 * the sink's producers spend 5 ms in every send ({@link SlowSends}, a producer interceptor standing
 * for a slow network), so a backlog of ~1,240 events takes at least 6 s to write however fast the
 * machine is: one transaction could never commit it.
 */
class KafkaLongBatchIT {
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  private static final String TIMEOUT_MS = "3000";
  private static LocalKafkaBroker broker;
  private static CrashHarness harness;

  /** Test producer interceptor: 5 ms per record sent, so writing takes at least that long whatever the machine. */
  public static final class SlowSends implements ProducerInterceptor<byte[], byte[]> {
    @Override
    public ProducerRecord<byte[], byte[]> onSend(ProducerRecord<byte[], byte[]> record) {
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return record;
    }

    @Override
    public void onAcknowledgement(RecordMetadata metadata, Exception exception) {}

    @Override
    public void close() {}

    @Override
    public void configure(Map<String, ?> configs) {}
  }

  @BeforeAll
  static void startBroker() {
    broker = LocalKafkaBroker.start(TestSpark.newDir("kafka-short-transactions"),
        Map.of("transaction.abort.timed.out.transaction.cleanup.interval.ms", "250"));
    harness = new CrashHarness("kafka-long-batch", 3);
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  @Test
  void aBacklogLongerThanATransactionDrainsExactlyOnceThroughAFailureBetweenItsTransactions() throws Exception {
    SparkSession spark = TestSpark.session();
    Path dir = TestSpark.newDir("kafka-long-batch");
    String topic = "long-batch";
    Map<String, String> c = harness.config(dir, "available-now");
    c.put("source.files.max.files.per.trigger", "3"); // the whole backlog in batch 0
    c.put("sink.type", "kafka");
    c.put("sink.mode", "append");
    c.put("sink.key.columns", "payment_id");
    c.put("sink.kafka.bootstrap.servers", broker.bootstrapServers());
    c.put("sink.kafka.topic", topic);
    c.put("sink.kafka.producer.transaction.timeout.ms", TIMEOUT_MS);
    c.put("sink.kafka.producer.interceptor.classes", SlowSends.class.getName());
    CrashHarness.filesQuarantine(c, dir);
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));

    System.setProperty(FaultInjection.PROPERTY, "between-commits@0/orders:throw");
    try {
      assertThatThrownBy(() -> PipelineRunner.run(spark, config, b -> {})).hasStackTraceContaining("injected fault");
    } finally {
      System.clearProperty(FaultInjection.PROPERTY);
    }
    int visible = TestKafka.read(broker.bootstrapServers(), topic, true).size();
    assertThat(visible).as("records of batch 0 committed before the failure: some slices, not all").isPositive()
        .isLessThan(harness.expectedAppended().values().stream().mapToInt(Long::intValue).sum());

    PipelineRunner.run(spark, config, b -> {});
    assertReadOnce(topic);
  }

  /**
   * The driver's producer writes a batch in one transaction only: past its budget (half the timeout) it
   * aborts it and the batch goes to a task, in slices. The aborted records stay invisible, the batch
   * commits once, and the next batch goes to slices directly (a backlog's batches come in runs).
   */
  @Test
  void aBatchThatOutgrowsTheDriversTransactionIsAbortedAndWrittenInSlices() {
    SparkSession spark = TestSpark.session();
    KafkaSink sink = KafkaSink.create(SinkSpec.builder().name("outgrown").mode(WriteMode.APPEND).keyColumns("id").build(),
        KafkaSinkOptions.of(broker.bootstrapServers(), "outgrown", Writers.SINGLE, 1, "outgrown",
            Map.of("interceptor.classes", SlowSends.class.getName(), "transaction.timeout.ms", TIMEOUT_MS)));
    assertThat(sink.write(spark.range(0, 800).selectExpr("CAST(id AS STRING) AS id"), 0, "q").rowsWritten()).isEqualTo(800);
    assertThat(sink.write(spark.range(800, 810).selectExpr("CAST(id AS STRING) AS id"), 1, "q").rowsWritten()).isEqualTo(10);

    List<ConsumerRecord<String, String>> visible = TestKafka.read(broker.bootstrapServers(), "outgrown", true);
    assertThat(visible).extracting(ConsumerRecord::key).as("each record once").doesNotHaveDuplicates().hasSize(810);
    Map<String, Set<String>> slicesByBatch = new TreeMap<>();
    for (ConsumerRecord<String, String> r : visible) {
      slicesByBatch.computeIfAbsent(header(r, ProduceTask.BATCH_HEADER), b -> new TreeSet<>()).add(header(r, ProduceTask.SLICE_HEADER));
    }
    assertThat(slicesByBatch).as("both batches sliced in a task: each record its key's slice (the driver gives all 63/64)")
        .containsOnlyKeys("0", "1").allSatisfy((batch, slices) -> assertThat(slices).hasSizeGreaterThan(1));
    Map<String, Long> sentPerBatch = TestKafka.read(broker.bootstrapServers(), "outgrown", false).stream()
        .collect(java.util.stream.Collectors.groupingBy(r -> header(r, ProduceTask.BATCH_HEADER), TreeMap::new,
            java.util.stream.Collectors.counting()));
    assertThat(sentPerBatch.get("0")).as("batch 0: the driver's aborted records too, sent before its budget ran out")
        .isGreaterThan(800);
    assertThat(sentPerBatch.get("1")).as("batch 1 went to slices directly: no aborted driver attempt").isEqualTo(10);
    sink.close();
  }

  /**
   * A batch committed in part (its first transactions) whose progress group then expired: the restarted
   * sink rebuilds "in part, up to the newest record's slice" from the topic, writes the rest once, and the
   * rest's records name the same previous batch as the committed part's, so eventproc.previous keeps the
   * chain of batches (kafka_batch_gaps reads it).
   */
  @Test
  void aBatchCommittedInPartWhoseProgressExpiredResumesOnceAndKeepsThePreviousBatch() throws Exception {
    SparkSession spark = TestSpark.session();
    String topic = "resumed-in-part";
    SinkSpec spec = SinkSpec.builder().name("resumed").mode(WriteMode.APPEND).keyColumns("id").build();
    KafkaSinkOptions options = KafkaSinkOptions.of(broker.bootstrapServers(), topic, Writers.SINGLE, 1, "resumed",
        Map.of("interceptor.classes", SlowSends.class.getName(), "transaction.timeout.ms", TIMEOUT_MS)).withProduceOn(ProduceOn.TASK);
    KafkaSink first = KafkaSink.create(spec, options);
    assertThat(first.write(ids(spark, 0, 10), 0, "q").rowsWritten()).isEqualTo(10);
    System.setProperty(FaultInjection.PROPERTY, "between-commits@1/resumed:throw");
    try {
      assertThatThrownBy(() -> first.write(ids(spark, 10, 810), 1, "q")).hasStackTraceContaining("injected fault");
    } finally {
      System.clearProperty(FaultInjection.PROPERTY);
      first.close();
    }
    long committedPart = TestKafka.read(broker.bootstrapServers(), topic, true).stream()
        .filter(r -> header(r, ProduceTask.BATCH_HEADER).equals("1")).count();
    assertThat(committedPart).as("records of batch 1 committed before the failure: some slices, not all").isPositive().isLessThan(800);
    assertThat(TestKafka.deleteProgressGroups(broker, topic)).as("progress group deleted").hasSize(1);

    KafkaSink restarted = KafkaSink.create(spec, options);
    assertThat(restarted.write(ids(spark, 10, 810), 1, "q").rowsWritten()).as("the slices not committed").isEqualTo(800 - committedPart);
    assertThat(restarted.write(ids(spark, 810, 820), 2, "q").rowsWritten()).isEqualTo(10);
    restarted.close();

    List<ConsumerRecord<String, String>> visible = TestKafka.read(broker.bootstrapServers(), topic, true);
    assertThat(visible).extracting(ConsumerRecord::key).as("each record once").doesNotHaveDuplicates().hasSize(820);
    Map<String, Set<String>> previousByBatch = new TreeMap<>();
    for (ConsumerRecord<String, String> r : visible) {
      previousByBatch.computeIfAbsent(header(r, ProduceTask.BATCH_HEADER), b -> new TreeSet<>())
          .add(header(r, ProduceTask.PREVIOUS_HEADER));
    }
    assertThat(previousByBatch).as("eventproc.previous by batch: both parts of batch 1 name batch 0")
        .isEqualTo(Map.of("0", Set.of("0:-1"), "1", Set.of("0:0"), "2", Set.of("0:1")));
  }

  private static Dataset<Row> ids(SparkSession spark, long from, long to) {
    return spark.range(from, to).selectExpr("CAST(id AS STRING) AS id");
  }

  @Test
  void aSliceThatOutlivesTheTransactionTimeoutFailsNamingTheKeysToChange() {
    SparkSession spark = TestSpark.session();
    KafkaSink sink = KafkaSink.create(SinkSpec.builder().name("one_slice").mode(WriteMode.APPEND).keyColumns("id").build(),
        KafkaSinkOptions.of(broker.bootstrapServers(), "one-slice", Writers.SINGLE, 1, "one_slice",
            Map.of("interceptor.classes", SlowSends.class.getName(), "transaction.timeout.ms", TIMEOUT_MS)).withSlices(1));
    assertThatThrownBy(() -> sink.write(spark.range(0, 1000).selectExpr("CAST(id AS STRING) AS id"), 0, "q"))
        .satisfies(e -> assertThat(cause(e, KafkaErrors.TransactionTimedOutException.class)).as("cause chain of %s", e).isNotNull()
            .hasMessageStartingWith("sink one_slice batch 0: the broker aborted the transaction of writer partition 0 on one-slice "
                + "after it was open ")
            .hasMessageContaining("longer than sink.kafka.producer.transaction.timeout.ms=3000. ")
            .hasMessageContaining("Raise sink.kafka.producer.transaction.timeout.ms (at most the broker's transaction.max.timeout.ms), "
                + "or sink.kafka.slices (now 1; "));
    assertThat(TestKafka.read(broker.bootstrapServers(), "one-slice", true)).as("the aborted transaction stays invisible").isEmpty();
    sink.close();
  }

  private static String header(ConsumerRecord<String, String> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  private static Throwable cause(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (type.isInstance(t)) {
        return t;
      }
    }
    return null;
  }

  private static void assertReadOnce(String topic) throws Exception {
    Map<String, Long> seen = new TreeMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(broker.bootstrapServers(), topic, true)) {
      JsonNode v = JSON.readTree(r.value());
      seen.merge(v.get("payment_id").asText() + ":" + v.get("version").asLong() + ":" + v.get("amount").decimalValue().setScale(2)
          .toPlainString(), 1L, Long::sum);
    }
    assertThat(seen).isEqualTo(harness.expectedAppended());
  }
}
