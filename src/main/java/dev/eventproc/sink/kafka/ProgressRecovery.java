package dev.eventproc.sink.kafka;

import dev.eventproc.sink.WriterId;
import dev.eventproc.util.Errors;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Rebuilds the progress of writer partitions whose consumer group has no offsets (never committed, or
 * expired {@code offsets.retention.minutes} after the last commit, as after a long outage) from the
 * topic itself: every committed record carries the headers {@code eventproc.writer},
 * {@code eventproc.batch} and {@code eventproc.slice}. Runs on the driver, only when a group has no
 * offsets, and reads a bounded tail of each partition.
 *
 * <p>Order: fence the writer partitions ({@code initTransactions()} aborts their open transactions);
 * wait until every partition's last stable offset reaches its end (so no committed record of ours
 * hides behind another producer's open transaction); read each partition backwards from its end until
 * the newest record of each writer partition is seen; commit what was found to the groups in a
 * transaction of the same producers, so later batches read it from there. The newest record of a
 * writer partition tells its last batch and, since it writes its slices in ascending order, the last
 * slice committed of that batch. When the tail cannot tell, the batch fails with a message instead of
 * being written twice.
 */
final class ProgressRecovery {
  private static final Logger LOG = LoggerFactory.getLogger(ProgressRecovery.class);
  private static final int CHUNK = 500;
  static final String RECOVERED = "recovered";

  private final KafkaSinkOptions options;
  private final String sinkName;
  private final WriterId writer;
  private final Admin admin;

  ProgressRecovery(KafkaSinkOptions options, String sinkName, WriterId writer, Admin admin) {
    this.options = options;
    this.sinkName = sinkName;
    this.writer = writer;
    this.admin = admin;
  }

  /** The newest committed record of one writer partition in the topic. */
  /** A writer partition's newest record: its batch, slice (of slices), and the previous batch it names (-1: none). */
  private record Newest(long batch, int slice, int slices, long previous) {
    boolean after(Newest o) {
      return o == null || batch > o.batch || (batch == o.batch && slice > o.slice);
    }
  }

  /** The progress of each writer partition in {@code missing} as of the topic, committed to its group; throws when undecidable. */
  Map<Integer, Progress> recover(long batchId, Set<Integer> missing) {
    int partitions = options.partitions();
    Map<Integer, KafkaProducer<byte[], byte[]>> producers = new HashMap<>();
    try {
      for (int w : missing) { // fences older producers of these writer partitions and aborts their open transactions
        KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(options.producerProperties(KafkaSink.transactionalId(options, writer, w)));
        producers.put(w, p);
        p.initTransactions();
      }
      Map<Integer, Newest> newest = scan(batchId, missing);
      Map<Integer, Progress> out = new HashMap<>();
      for (int w : missing) {
        Progress p = progressOf(newest.get(w), batchId, partitions);
        out.put(w, p);
        KafkaProducer<byte[], byte[]> producer = producers.get(w);
        producer.beginTransaction();
        producer.sendOffsetsToTransaction(Map.of(new TopicPartition(options.topic(), 0),
            new OffsetAndMetadata(p.offset(), p.tag().encode())), new ConsumerGroupMetadata(KafkaSink.group(writer, w, options.writers())));
        producer.commitTransaction();
      }
      if (batchId == 0 && newest.isEmpty()) {
        LOG.info("sink={} batch=0: a new writer (no progress, no records in the topic)", sinkName);
      } else {
        LOG.warn("sink={} batch={}: writer partitions {} had no progress in their consumer groups (never committed, or expired); "
            + "recovered from the topic's records: {}", sinkName, batchId, missing, out);
      }
      return out;
    } catch (KafkaException e) {
      throw KafkaErrors.explain(sinkName, options, e, "recover its progress from the topic");
    } finally {
      producers.values().forEach(KafkaProducer::close);
    }
  }

  /**
   * Progress of a writer partition from its newest record (null: none in the topic, so none of the
   * batch). A record of the batch itself says its slices up to the record's are committed (all of them
   * when it is in the partition's last slice); the slices after it hold no committed record, so writing
   * them again writes each record once.
   */
  private static Progress progressOf(Newest n, long batchId, int partitions) {
    if (n == null || n.batch < batchId) {
      return new Progress(n == null ? batchId : n.batch + 1, new ProgressTag(partitions, RECOVERED, 0, -1, -1, n == null ? -1 : n.batch));
    }
    // Committed in full: a later batch, a batch of an older version (one transaction per writer partition), or a
    // record of the writer partition's last slice (its final transaction; a driver's one-transaction batch says so).
    if (n.batch > batchId || n.slices < 0 || n.slice + partitions >= n.slices) {
      return new Progress(n.batch + 1, new ProgressTag(partitions, RECOVERED, 0, -1, -1, n.batch));
    }
    return new Progress(batchId, new ProgressTag(partitions, RECOVERED, 0, n.slices, n.slice + 1, n.previous));
  }

  /** The newest record of each writer partition in {@code missing}, read from the tail of every topic partition. */
  private Map<Integer, Newest> scan(long batchId, Set<Integer> missing) {
    List<TopicPartition> parts = topicPartitions();
    Map<TopicPartition, Long> start = offsets(parts, OffsetSpec.earliest(), IsolationLevel.READ_UNCOMMITTED);
    Map<TopicPartition, Long> end = offsets(parts, OffsetSpec.latest(), IsolationLevel.READ_UNCOMMITTED);
    awaitStable(parts, end, batchId);
    Map<Integer, Newest> newest = new HashMap<>();
    Set<TopicPartition> buried = new TreeSet<>(Comparator.comparing(TopicPartition::toString));
    boolean deleted = false;
    byte[] me = writer.appId().getBytes(StandardCharsets.UTF_8);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerProperties())) {
      for (TopicPartition tp : parts) {
        deleted |= start.get(tp) > 0;
        if (!scanPartition(consumer, tp, start.get(tp), end.get(tp), me, missing, newest)) {
          buried.add(tp);
        }
      }
    }
    Set<Integer> unseen = missing.stream().filter(w -> !newest.containsKey(w)).collect(Collectors.toSet());
    if (!buried.isEmpty() && !unseen.isEmpty()) {
      throw undecidable(batchId, "the last " + options.recoveryScanRecords() + " records of partition(s) " + buried + " hold none of "
          + "writer partition(s) " + unseen + " (other producers wrote after it). Raise " + options.key(KafkaSinkOptions.RECOVERY_SCAN_RECORDS));
    }
    if (!buried.isEmpty()) {
      throw undecidable(batchId, "the last " + options.recoveryScanRecords() + " records of partition(s) " + buried + " do not reach "
          + "back to the batch before the newest one found. Raise " + options.key(KafkaSinkOptions.RECOVERY_SCAN_RECORDS));
    }
    if (newest.isEmpty() && batchId > 0 && deleted) {
      throw undecidable(batchId, "none of its records is left in the topic, and records were deleted from it (retention): batch "
          + batchId + "'s may have been among them. Keep records longer than an outage (retention.ms, retention.bytes)");
    }
    return newest;
  }

  /**
   * Reads {@code tp} backwards from {@code end} in chunks until the newest record of every writer
   * partition in {@code missing} is seen there, or a record of ours older than the newest batch found
   * (then every writer's newest record here is seen), or the partition's start. False when the scan
   * bound stopped it first.
   */
  private boolean scanPartition(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long start, long end, byte[] me,
      Set<Integer> missing, Map<Integer, Newest> newest) {
    consumer.assign(List.of(tp));
    Map<Integer, Newest> here = new HashMap<>();
    long newestBatch = -1;
    long limit = Math.max(start, end - options.recoveryScanRecords());
    for (long to = end; to > start; ) {
      if (to <= limit) {
        return false;
      }
      long from = Math.max(limit, to - CHUNK);
      List<ConsumerRecord<byte[], byte[]>> chunk = read(consumer, tp, from, to);
      boolean older = false;
      for (int i = chunk.size() - 1; i >= 0; i--) {
        ConsumerRecord<byte[], byte[]> r = chunk.get(i);
        if (!Arrays.equals(me, header(r, ProduceTask.WRITER_HEADER))) {
          continue;
        }
        Newest n = parse(r, tp);
        newestBatch = Math.max(newestBatch, n.batch);
        older |= n.batch < newestBatch;
        int w = n.slices > 0 ? n.slice % options.partitions() : 0;
        here.putIfAbsent(w, n);
      }
      if (older || here.keySet().containsAll(missing)) {
        break;
      }
      to = from;
    }
    here.forEach((w, n) -> newest.merge(w, n, (a, b) -> b.after(a) ? b : a));
    return true;
  }

  private Newest parse(ConsumerRecord<byte[], byte[]> r, TopicPartition tp) {
    try {
      long batch = Long.parseLong(new String(header(r, ProduceTask.BATCH_HEADER), StandardCharsets.UTF_8));
      byte[] slice = header(r, ProduceTask.SLICE_HEADER);
      if (slice == null) { // written before slices: one transaction per writer partition and batch
        if (options.partitions() > 1) {
          throw new IllegalStateException("sink " + sinkName + ": record " + tp + "@" + r.offset() + " of this writer has no "
              + ProduceTask.SLICE_HEADER + " header (written by an older version): cannot tell its writer partition.");
        }
        return new Newest(batch, 0, -1, previousOf(r));
      }
      String[] parts = new String(slice, StandardCharsets.UTF_8).split("/");
      return new Newest(batch, Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), previousOf(r));
    } catch (RuntimeException e) {
      throw new IllegalStateException("sink " + sinkName + ": unreadable eventproc headers on record " + tp + "@" + r.offset(), e);
    }
  }

  /** The batch a record names as its writer partition's previous ({@code <partition>:<batch>}); -1 when absent. */
  private static long previousOf(ConsumerRecord<byte[], byte[]> r) {
    byte[] h = header(r, ProduceTask.PREVIOUS_HEADER);
    if (h == null) {
      return -1;
    }
    String v = new String(h, StandardCharsets.UTF_8);
    return Long.parseLong(v.substring(v.indexOf(':') + 1));
  }

  private static byte[] header(ConsumerRecord<byte[], byte[]> r, String key) {
    Header h = r.headers().lastHeader(key);
    return h == null ? null : h.value();
  }

  /** The committed records of [from, to) of one partition. */
  private static List<ConsumerRecord<byte[], byte[]>> read(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long from, long to) {
    consumer.seek(tp, from);
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    long deadline = System.currentTimeMillis() + 60_000;
    while (consumer.position(tp, Duration.ofSeconds(30)) < to) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("cannot read " + tp + " from " + from + " to " + to + " in 60 s");
      }
      for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500)).records(tp)) {
        if (r.offset() < to) {
          out.add(r);
        }
      }
    }
    return out;
  }

  /** Waits until no open transaction hides records below {@code end} (ours are fenced; others end within their timeout). */
  private void awaitStable(List<TopicPartition> parts, Map<TopicPartition, Long> end, long batchId) {
    long waitMs = options.transactionTimeoutMs() + 30_000;
    long deadline = System.currentTimeMillis() + waitMs;
    while (true) {
      Map<TopicPartition, Long> stable = offsets(parts, OffsetSpec.latest(), IsolationLevel.READ_COMMITTED);
      List<TopicPartition> open = parts.stream().filter(tp -> stable.get(tp) < end.get(tp)).toList();
      if (open.isEmpty()) {
        return;
      }
      if (System.currentTimeMillis() > deadline) {
        throw undecidable(batchId, "open transactions of other producers hide the end of partition(s) " + open + " for more than "
            + waitMs + " ms. Retry when they end");
      }
      Errors.sleep(200);
    }
  }

  private IllegalStateException undecidable(long batchId, String why) {
    String groups = options.partitions() == 1 ? KafkaSink.group(writer, 0, options.writers())
        : KafkaSink.group(writer, 0, options.writers()).replaceAll("-p0$", "-p<n>");
    return new IllegalStateException("sink " + sinkName + " batch " + batchId + ": its progress is gone from "
        + "consumer group(s) " + groups + " (offsets expire offsets.retention.minutes after the last commit: a long outage?) and the "
        + "topic " + options.topic() + " cannot tell whether the batch was committed: " + why + ". Writing it could write it twice, so "
        + "the sink stops. If its records (headers eventproc.writer=" + writer.appId() + ", eventproc.batch=" + batchId + ") are in the "
        + "topic, set each group's offset on " + options.topic() + ":0 to " + (batchId + 1) + ", else to " + batchId + " (kafka-consumer-"
        + "groups.sh --reset-offsets --to-offset N --topic " + options.topic() + ":0 --group G --execute), or reset the checkpoint.");
  }

  private List<TopicPartition> topicPartitions() {
    try {
      return admin.describeTopics(List.of(options.topic())).allTopicNames().get(30, TimeUnit.SECONDS).get(options.topic())
          .partitions().stream().map(p -> new TopicPartition(options.topic(), p.partition())).toList();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw KafkaErrors.explain(sinkName, options, e, "describe the topic");
    }
  }

  private Map<TopicPartition, Long> offsets(List<TopicPartition> parts, OffsetSpec spec, IsolationLevel isolation) {
    try {
      Map<TopicPartition, OffsetSpec> request = parts.stream().collect(Collectors.toMap(tp -> tp, tp -> spec));
      return admin.listOffsets(request, new ListOffsetsOptions(isolation)).all().get(30, TimeUnit.SECONDS).entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw KafkaErrors.explain(sinkName, options, e, "list the topic's offsets");
    }
  }

  private Properties consumerProperties() {
    Properties p = options.adminProperties();
    p.put("key.deserializer", ByteArrayDeserializer.class.getName());
    p.put("value.deserializer", ByteArrayDeserializer.class.getName());
    p.put("isolation.level", "read_committed");
    p.put("enable.auto.commit", "false");
    return p;
  }
}
