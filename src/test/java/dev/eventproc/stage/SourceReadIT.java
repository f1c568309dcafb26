package dev.eventproc.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestSpark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;

/**
 * What the sources take in (issue 21 items 8 and 9): a Kafka source reads committed records only
 * unless told otherwise; a files source reads a file moved in late with an old modification time.
 */
class SourceReadIT {
  private final SparkSession spark = TestSpark.session();

  private static SourceOptions options(Map<String, String> keys) {
    ConfigReader r = new ConfigReader(EventprocConfig.of(keys));
    SourceOptions o = SourceOptions.read(r);
    assertThat(r.problems()).isEmpty();
    return o;
  }

  private static Map<String, String> kafka(String topic) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("source.type", "kafka");
    c.put("source.kafka.bootstrap.servers", TestKafka.servers());
    c.put("source.kafka.topic", topic);
    c.put("source.schema", "id STRING");
    c.put("source.key.columns", "id");
    return c;
  }

  /** The ids the stream reads, in one available-now run on {@code checkpoint}. */
  private List<String> streamIds(SourceOptions o, Path checkpoint) throws Exception {
    List<String> ids = new ArrayList<>();
    StreamingQuery q = EventStream.read(spark, o).all().writeStream()
        .option("checkpointLocation", checkpoint.toString())
        .trigger(Trigger.AvailableNow())
        .foreachBatch((batch, id) -> {
          for (Row r : batch.select("id").collectAsList()) {
            synchronized (ids) {
              ids.add(r.getString(0));
            }
          }
        })
        .start();
    q.awaitTermination();
    return ids;
  }

  @Test
  void aKafkaSourceReadsOnlyCommittedRecordsUnlessToldOtherwise() throws Exception {
    String topic = "source_isolation";
    Properties p = new Properties();
    p.put("bootstrap.servers", TestKafka.servers());
    p.put("transactional.id", "source-isolation-writer");
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      producer.beginTransaction();
      for (String id : List.of("c1", "c2", "c3")) {
        producer.send(new ProducerRecord<>(topic, id, "{\"id\":\"" + id + "\"}"));
      }
      producer.commitTransaction();
      producer.beginTransaction();
      for (String id : List.of("a1", "a2")) {
        producer.send(new ProducerRecord<>(topic, id, "{\"id\":\"" + id + "\"}"));
      }
      producer.flush();
      producer.abortTransaction();
    }

    SourceOptions committed = options(kafka(topic));
    assertThat(streamIds(committed, TestSpark.newDir("iso-stream").resolve("cp")))
        .as("stream, default isolation").containsExactlyInAnyOrder("c1", "c2", "c3");

    Map<String, String> uncommitted = kafka(topic);
    uncommitted.put("source.kafka.option.kafka.isolation.level", "read_uncommitted");
    assertThat(streamIds(options(uncommitted), TestSpark.newDir("iso-uncommitted").resolve("cp")))
        .as("overridden").containsExactlyInAnyOrder("c1", "c2", "c3", "a1", "a2");
  }

  @Test
  void aFileMovedInLaterWithAnOldModificationTimeIsRead() throws Exception {
    Path dir = TestSpark.newDir("files-age");
    Path in = dir.resolve("in");
    JsonFiles.writeTextFiles(in, List.of(List.of("{\"id\":\"new\"}")));
    Map<String, String> c = new LinkedHashMap<>();
    c.put("source.type", "files");
    c.put("source.files.path", in.toString());
    c.put("source.schema", "id STRING");
    c.put("source.key.columns", "id");
    SourceOptions o = options(c);
    Path checkpoint = dir.resolve("cp");
    assertThat(streamIds(o, checkpoint)).containsExactly("new");

    // An export of last month, moved in now: mv keeps the file's modification time.
    Path aside = dir.resolve("old.json");
    Files.writeString(aside, "{\"id\":\"old\"}\n", StandardCharsets.UTF_8);
    Files.setLastModifiedTime(aside, FileTime.fromMillis(System.currentTimeMillis() - Duration.ofDays(30).toMillis()));
    Files.move(aside, in.resolve("part-old.json"));
    assertThat(streamIds(o, checkpoint)).containsExactly("old");
  }
}
