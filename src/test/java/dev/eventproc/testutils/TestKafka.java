package dev.eventproc.testutils;

import dev.eventproc.cli.LocalKafkaBroker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** The test JVM's in-process Kafka broker (KRaft), started once, and a reader of what a topic holds. */
public final class TestKafka {
  private static LocalKafkaBroker broker;

  private TestKafka() {}

  public static synchronized LocalKafkaBroker broker() {
    if (broker == null) {
      broker = LocalKafkaBroker.start(TestSpark.newDir("kafka-broker"));
      LocalKafkaBroker b = broker;
      Runtime.getRuntime().addShutdownHook(new Thread(b::close));
    }
    return broker;
  }

  public static String servers() {
    return broker().bootstrapServers();
  }

  /**
   * Deletes the (member-less) eventproc progress groups holding offsets of {@code topic} on {@code broker},
   * as their expiry ({@code offsets.retention.minutes}) would; returns their ids.
   */
  public static List<String> deleteProgressGroups(LocalKafkaBroker broker, String topic) throws Exception {
    List<String> ours = new ArrayList<>();
    try (Admin admin = broker.admin()) {
      for (ConsumerGroupListing g : admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS)) {
        if (g.groupId().startsWith("eventproc-") && admin.listConsumerGroupOffsets(g.groupId()).partitionsToOffsetAndMetadata()
            .get(30, TimeUnit.SECONDS).containsKey(new TopicPartition(topic, 0))) {
          ours.add(g.groupId());
        }
      }
      admin.deleteConsumerGroups(ours).all().get(30, TimeUnit.SECONDS);
    }
    return ours;
  }

  /** Every record of a topic as a consumer with the given isolation level sees it, from the beginning to the end. */
  public static List<ConsumerRecord<String, String>> read(String topic, boolean readCommitted) {
    return read(servers(), topic, readCommitted);
  }

  /** As {@link #read(String, boolean)}, from the brokers at {@code servers} (e.g. a second broker with settings of its own). */
  public static List<ConsumerRecord<String, String>> read(String servers, String topic, boolean readCommitted) {
    Properties p = new Properties();
    p.put("bootstrap.servers", servers);
    p.put("key.deserializer", StringDeserializer.class.getName());
    p.put("value.deserializer", StringDeserializer.class.getName());
    p.put("isolation.level", readCommitted ? "read_committed" : "read_uncommitted");
    p.put("enable.auto.commit", "false");
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
      List<TopicPartition> parts = new ArrayList<>();
      for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
        parts.add(new TopicPartition(topic, info.partition()));
      }
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
      long deadline = System.currentTimeMillis() + 60_000;
      while (parts.stream().anyMatch(tp -> c.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
        if (System.currentTimeMillis() > deadline) {
          throw new AssertionError("could not read " + topic + " to its end in 60 s");
        }
        c.poll(Duration.ofMillis(500)).forEach(out::add);
      }
    }
    return out;
  }
}
