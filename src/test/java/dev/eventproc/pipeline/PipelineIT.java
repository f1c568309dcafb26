package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.cli.EventGenerator.Message;
import dev.eventproc.cli.LocalKafkaBroker;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestSpark;
import io.delta.tables.DeltaTable;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Whole pipelines in this JVM: source -> stage -> sink + quarantine, checked against the generator's oracle. */
class PipelineIT {
  private final SparkSession spark = TestSpark.session();

  static Map<String, String> base(Path dir, String name) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", name);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("sink.type", "delta");
    c.put("sink.key.columns", "payment_id");
    c.put("sink.delta.path", dir.resolve("table").toString());
    return c;
  }

  private Pipeline run(Map<String, String> c, List<ProgressListener.BatchStats> batches) {
    return PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);
  }

  @Test
  void filesThroughFirstSeenDedupeIntoInsertIfAbsentEqualsTheOracleAndAccountingCloses() {
    Path dir = TestSpark.newDir("pipeline-dedupe");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(1500, 11).withMalformedRate(0.02));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 3);
    Map<String, String> c = base(dir, "dedupe");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.files.max.files.per.trigger", "1");
    c.put("stage.type", "dedupe-first-seen");
    c.put("sink.mode", "insert-if-absent");

    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    Pipeline p = run(c, batches);

    Map<String, String> expected = new TreeMap<>();
    feed.oracle().firstSeen().forEach((k, e) -> expected.put(k, e.amount().toPlainString()));
    assertThat(table(dir.resolve("table"), "amount")).isEqualTo(expected);
    long quarantined = spark.read().format("delta").load(dir.resolve("checkpoint-quarantine").toString()).count();
    assertThat(quarantined).isEqualTo(feed.oracle().malformed());
    long input = batches.stream().mapToLong(ProgressListener.BatchStats::inputRows).sum();
    long dups = batches.stream().mapToLong(ProgressListener.BatchStats::duplicatesDropped).sum();
    long late = batches.stream().mapToLong(ProgressListener.BatchStats::lateDropped).sum();
    assertThat(input).isEqualTo(feed.messages().size());
    assertThat(dups).isEqualTo(feed.oracle().duplicates());
    assertThat(p.split().main().metrics().rowsIn() + dups + late + quarantined).isEqualTo(input);
    assertThat(spark.read().format("delta").load(dir.resolve("checkpoint-quarantine").toString())
        .select("quarantine_reason").distinct().collectAsList().stream().map(r -> r.getString(0)).toList())
        .containsExactlyInAnyOrder("malformed-json", "missing-key", "missing-event-time", "event-time-in-future");

    // A second run on the same checkpoint finds nothing new and changes nothing.
    run(c, new ArrayList<>());
    assertThat(table(dir.resolve("table"), "amount")).isEqualTo(expected);
  }

  @Test
  void kafkaWithOutOfOrderVersionsAndDeletesIntoUpsertEqualsTheLatestState() throws Exception {
    Path dir = TestSpark.newDir("pipeline-kafka");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(600, 5).withVersions(4, 0.25).withMalformedRate(0));
    try (LocalKafkaBroker broker = LocalKafkaBroker.start(dir.resolve("kafka"))) {
      broker.createTopic("orders", 3);
      Properties props = new Properties();
      props.put("bootstrap.servers", broker.bootstrapServers());
      props.put("key.serializer", StringSerializer.class.getName());
      props.put("value.serializer", StringSerializer.class.getName());
      try (KafkaProducer<String, String> producer = new KafkaProducer<>(props)) {
        for (Message m : feed.messages()) {
          producer.send(new ProducerRecord<>("orders", m.key(), m.payload()));
        }
      }
      Map<String, String> c = base(dir, "orders");
      c.put("source.type", "kafka");
      c.put("source.kafka.bootstrap.servers", broker.bootstrapServers());
      c.put("source.kafka.topic", "orders");
      c.put("source.kafka.max.offsets.per.trigger", "800");
      c.put("sink.mode", "upsert");
      c.put("sink.version.column", "version");
      c.put("sink.delete.condition", "op = 'd'");
      List<ProgressListener.BatchStats> batches = new ArrayList<>();
      run(c, batches);

      assertThat(batches.size()).isGreaterThanOrEqualTo(3);
      Map<String, String> expected = new TreeMap<>();
      for (Event e : feed.oracle().latest().values()) {
        expected.put(e.paymentId(), e.version() + ":" + e.amount().toPlainString());
      }
      assertThat(table(dir.resolve("table"), "concat(version, ':', amount)")).isEqualTo(expected);

      // No event was quarantined: the quarantine records no batch (quarantine.record.empty.batches defaults
      // to false), and its table exists, empty, from the first batch on.
      String quarantine = dir.resolve("checkpoint-quarantine").toString();
      assertThat(spark.read().format("delta").load(quarantine).count()).isZero();
      assertThat(DeltaTable.forPath(spark, quarantine).history().selectExpr("operation").collectAsList())
          .as("the quarantine's commits").extracting(r -> r.getString(0)).containsExactly("CREATE TABLE");
    }
  }

  @Test
  void aBatchWhoseRowsAreAllQuarantinedIsStillRecordedByTheMainSinkAndNotByTheQuarantine() {
    Path dir = TestSpark.newDir("pipeline-empty-main");
    String event = "{\"payment_id\":\"p1\",\"account_id\":\"a\",\"amount\":1.00,\"currency\":\"EUR\",\"version\":1,"
        + "\"op\":\"c\",\"event_time\":\"2026-03-01T10:00:00Z\"}";
    JsonFiles.writeFiles(dir.resolve("in"), List.of(List.of(event.getBytes(StandardCharsets.UTF_8)),
        List.of("not json".getBytes(StandardCharsets.UTF_8), "{}".getBytes(StandardCharsets.UTF_8))), JsonFiles.FIXED_DAY_RECEIVED);
    Map<String, String> c = base(dir, "emptymain");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.files.max.files.per.trigger", "1");
    c.put("sink.mode", "upsert");
    c.put("sink.version.column", "version");
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    run(c, batches);

    // Batch 1 brought no row for the main sink; it records every batch, so batch 1 is on its record too
    // (a Delta commit with the transaction id and no file).
    assertThat(batches).hasSize(2);
    assertThat(DeltaTable.forPath(spark, dir.resolve("table").toString()).history()
        .filter("operation <> 'CREATE TABLE'").count()).as("the main sink's commits").isEqualTo(2);
    // The quarantine records only its batch with rows: batch 1.
    assertThat(DeltaTable.forPath(spark, dir.resolve("checkpoint-quarantine").toString()).history()
        .filter("operation <> 'CREATE TABLE'").count()).as("the quarantine's commits").isEqualTo(1);
  }

  private Map<String, String> table(Path path, String valueExpr) {
    Map<String, String> out = new TreeMap<>();
    List<Row> rows = spark.read().format("delta").load(path.toString()).selectExpr("payment_id", "cast(" + valueExpr + " as string)").collectAsList();
    for (Row r : rows) {
      assertThat(out.put(r.getString(0), r.getString(1))).as("key %s appears once", r.getString(0)).isNull();
    }
    return out;
  }
}
