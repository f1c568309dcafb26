package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestSpark;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Hostile input through a whole pipeline: the stream keeps running and every record is accounted
 * for, each batch closing input = written + dropped + late + quarantined, with each bad record in
 * quarantine under its reason.
 */
class HostileInputIT {
  private static final String SCHEMA = "id STRING, version BIGINT, amount DECIMAL(12,2), event_time TIMESTAMP";
  private final SparkSession spark = TestSpark.session();

  private static String ok(String id, long version, String time) {
    return "{\"id\":\"" + id + "\",\"version\":" + version + ",\"amount\":1.50,\"event_time\":\"" + time + "\"}";
  }

  @Test
  void theStreamKeepsRunningAndEveryRecordIsAccountedFor() throws Exception {
    Path dir = TestSpark.newDir("hostile");
    Path in = dir.resolve("in");
    String huge = "x".repeat(2_000_000);
    Map<String, String> expectedReasons = new TreeMap<>();
    List<byte[]> first = new ArrayList<>();
    first.add(bytes(ok("a", 1, "2026-03-01T10:00:00Z")));
    first.add(bytes("{not json at all"));
    expectedReasons.put("{not json at all", "malformed-json");
    first.add(bytes("[1, 2, 3]"));
    expectedReasons.put("[1, 2, 3]", "malformed-json");
    first.add(bytes("{\"id\":\"b\",\"version\":\"two\",\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:01Z\"}"));
    expectedReasons.put("{\"id\":\"b\",\"version\":\"two\",\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:01Z\"}", "malformed-json");
    first.add(bytes("{\"id\":\"\",\"version\":1,\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:02Z\"}"));
    expectedReasons.put("{\"id\":\"\",\"version\":1,\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:02Z\"}", "missing-key");
    first.add(bytes("{\"id\":null,\"version\":1,\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:03Z\"}"));
    expectedReasons.put("{\"id\":null,\"version\":1,\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:03Z\"}", "missing-key");
    first.add(bytes("{\"id\":\"c\",\"version\":1,\"amount\":1.0,\"event_time\":\"not a time\"}"));
    expectedReasons.put("{\"id\":\"c\",\"version\":1,\"amount\":1.0,\"event_time\":\"not a time\"}", "malformed-json");
    first.add(bytes("{\"id\":\"d\",\"version\":1,\"amount\":1.0}"));
    expectedReasons.put("{\"id\":\"d\",\"version\":1,\"amount\":1.0}", "missing-event-time");
    first.add(bytes(ok("e", 1, "2999-01-01T00:00:00Z")));
    expectedReasons.put(ok("e", 1, "2999-01-01T00:00:00Z"), "event-time-in-future");
    first.add(bytes("{\"id\":\"f\",\"version\":1,\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:04Z\",\"blob\":\"" + huge + "\"}"));
    first.add(bytes(ok("g", 1, "1900-01-01T00:00:00Z"))); // before 1970: below Spark's initial watermark, so late
    ByteArrayOutputStream nonUtf8 = new ByteArrayOutputStream();
    nonUtf8.write(bytes("{\"id\":\"h"));
    nonUtf8.write(new byte[] {(byte) 0xff, (byte) 0xfe, (byte) 0xc3});
    nonUtf8.write(bytes("\",\"version\":1,\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:05Z\"}"));
    first.add(nonUtf8.toByteArray());
    first.add(new byte[] {(byte) 0xff, (byte) 0x00, (byte) 0x81, '{'});

    // Spark drops as late what is older than the previous batch's watermark: in the second batch that
    // is still the initial one, so a February event counts; in the third the watermark stands at
    // 09:55:05 (the first batch's newest event minus 5 minutes) and a February event is late.
    List<byte[]> second = List.of(bytes(ok("a", 1, "2026-03-01T10:00:00Z")), bytes(ok("i", 1, "2026-02-01T00:00:00Z")),
        bytes(ok("j", 1, "2026-03-01T10:30:00Z")));

    List<byte[]> third = List.of(bytes(ok("k", 1, "2026-02-01T00:00:00Z")), bytes(ok("l", 1, "2026-03-01T10:31:00Z")));
    JsonFiles.writeFiles(in, List.of(first, second, third), JsonFiles.FIXED_DAY_RECEIVED);

    Map<String, String> c = config("hostile", dir);
    c.put("source.type", "files");
    c.put("source.files.path", in.toString());
    c.put("source.files.max.files.per.trigger", "1");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("sink.mode", "upsert");
    c.put("sink.version.column", "version");
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);

    long lines = first.size() + second.size() + third.size();
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::inputRows).sum()).isEqualTo(lines);
    assertThat(batches).allSatisfy(b -> assertThat(b.closes()).as("batch %d: %s", b.batchId(), b).isTrue());

    Map<String, String> reasons = new TreeMap<>();
    List<Row> quarantined = spark.read().format("delta").load(dir.resolve("checkpoint-quarantine").toString())
        .select("raw_value", "quarantine_reason").collectAsList();
    for (Row r : quarantined) {
      reasons.put(new String((byte[]) r.get(0), StandardCharsets.UTF_8), r.getString(1));
    }
    assertThat(reasons).containsAllEntriesOf(expectedReasons);
    assertThat(quarantined).as("the binary garbage line is quarantined too").hasSize(expectedReasons.size() + 1);
    List<String> ids = spark.read().format("delta").load(dir.resolve("table").toString()).select("id").as(
        org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(ids).contains("a", "f", "i", "j", "l").doesNotContain("b", "c", "d", "e", "g", "k");
    assertThat(ids).anySatisfy(id -> assertThat(id).startsWith("h")); // bad bytes inside a string: kept, replaced
    long late = batches.stream().mapToLong(ProgressListener.BatchStats::lateDropped).sum();
    long dups = batches.stream().mapToLong(ProgressListener.BatchStats::duplicatesDropped).sum();
    assertThat(late).as("the 1900 event and the February event of the third batch").isEqualTo(2);
    assertThat(dups).as("the second copy of a").isEqualTo(1);
  }

  /**
   * The same through the Kafka source, with what only Kafka delivers: a null value (a tombstone), an
   * empty value, a value near the broker's 1 MB limit and a binary key. Each is quarantined with its
   * source position, or written; none stops the stream.
   */
  @Test
  void kafkaTombstonesEmptyAndHugeValuesAreAccountedFor() throws Exception {
    Path dir = TestSpark.newDir("hostile-kafka");
    String topic = "hostile_" + Long.toHexString(System.nanoTime());
    dev.eventproc.testutils.TestKafka.broker().createTopic(topic, 1);
    String huge = "{\"id\":\"big\",\"version\":1,\"amount\":1.0,\"event_time\":\"2026-03-01T10:00:00Z\",\"blob\":\""
        + "y".repeat(900_000) + "\"}";
    List<byte[]> values = new ArrayList<>();
    values.add(bytes(ok("a", 1, "2026-03-01T10:00:00Z")));
    values.add(null);
    values.add(new byte[0]);
    values.add(bytes(huge));
    values.add(new byte[] {(byte) 0xc0, (byte) 0xff, 0x00});
    values.add(bytes(ok("b", 1, "2026-03-01T10:00:01Z")));
    java.util.Properties p = new java.util.Properties();
    p.put("bootstrap.servers", dev.eventproc.testutils.TestKafka.servers());
    p.put("max.request.size", "2000000");
    try (org.apache.kafka.clients.producer.KafkaProducer<byte[], byte[]> producer = new org.apache.kafka.clients.producer.KafkaProducer<>(
        p, new org.apache.kafka.common.serialization.ByteArraySerializer(), new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      for (byte[] v : values) {
        // Stamped as received on the events' day, so none reads as ahead of the broker's clock whatever today's date.
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(topic, null, JsonFiles.FIXED_DAY_RECEIVED.toEpochMilli(),
            new byte[] {(byte) 0xfe, 0x01}, v)).get();
      }
    }

    Map<String, String> c = config("hostile_kafka", dir);
    c.put("source.type", "kafka");
    c.put("source.kafka.bootstrap.servers", dev.eventproc.testutils.TestKafka.servers());
    c.put("source.kafka.topic", topic);
    c.put("stage.type", "dedupe-first-seen");
    c.put("sink.mode", "insert-if-absent");
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);

    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::inputRows).sum()).isEqualTo(values.size());
    assertThat(batches).allSatisfy(b -> assertThat(b.closes()).as("batch %d: %s", b.batchId(), b).isTrue());
    List<Row> quarantined = spark.read().format("delta").load(dir.resolve("checkpoint-quarantine").toString())
        .select("quarantine_reason", "source_position", "raw_value").orderBy("source_position").collectAsList();
    assertThat(quarantined).extracting(r -> r.getString(0) + " " + r.getString(1)).containsExactly(
        "malformed-json " + topic + "/0@1", "malformed-json " + topic + "/0@2", "malformed-json " + topic + "/0@4");
    assertThat(quarantined.get(0).isNullAt(2)).as("a tombstone's value stays null").isTrue();
    assertThat((byte[]) quarantined.get(2).get(2)).containsExactly((byte) 0xc0, (byte) 0xff, 0x00);
    List<String> ids = spark.read().format("delta").load(dir.resolve("table").toString()).select("id")
        .as(org.apache.spark.sql.Encoders.STRING()).collectAsList();
    assertThat(ids).containsExactlyInAnyOrder("a", "big", "b");
  }

  /** What both pipelines share: the schema, keys, a 5-minute watermark and a Delta sink keyed by id, drained once. */
  private static Map<String, String> config(String name, Path dir) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", name);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.schema", SCHEMA);
    c.put("source.key.columns", "id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.watermark.delay", "5 minutes");
    c.put("sink.type", "delta");
    c.put("sink.key.columns", "id");
    c.put("sink.delta.path", dir.resolve("table").toString());
    return c;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
