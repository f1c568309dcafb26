package dev.eventproc.sink.kafka;

import dev.eventproc.sink.WriterId;
import dev.eventproc.util.Errors;
import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The committed progress of a Kafka sink's writer partitions, read on the driver: each partition's
 * consumer group offset ({@link Progress}), or, when a group has none (never committed, or expired after
 * a long outage), the progress {@link ProgressRecovery} rebuilds from the topic, once per batch.
 */
final class WriterProgress implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(WriterProgress.class);
  private static final long PROGRESS_VISIBLE_MILLIS = 30_000;

  private final KafkaSinkOptions options;
  private final String sinkName;
  private final KafkaTopic topic;
  /** Progress rebuilt from the topic for the batch in hand (null when none was needed). */
  private transient volatile Recovered recovered;

  /** Progress a recovery rebuilt for one batch of one writer. */
  private record Recovered(WriterId writer, long batchId, Map<Integer, Progress> progress) {}

  WriterProgress(KafkaSinkOptions options, String sinkName, KafkaTopic topic) {
    this.options = options;
    this.sinkName = sinkName;
    this.topic = topic;
  }

  /** Progress lives under the topic's partition 0 in each group: any existing partition would do. */
  static TopicPartition progressPartition(KafkaSinkOptions options) {
    return new TopicPartition(options.topic(), 0);
  }

  /** What a recovery rebuilt for this batch of this writer (the task reads it while the group still shows none), or none. */
  Map<Integer, Progress> recoveredFor(WriterId writer, long batchId) {
    Recovered r = recovered;
    return r != null && r.writer().equals(writer) && r.batchId() == batchId ? r.progress() : Map.of();
  }

  /**
   * Each writer partition's progress: from its group, else from the topic's records (when the group has
   * no offsets: never committed, or expired after a long outage), recovered once per batch.
   */
  Map<Integer, Progress> orRecovered(WriterId writer, long batchId) {
    Map<Integer, Progress> progress = committed(writer);
    Set<Integer> missing = new TreeSet<>();
    for (int p = 0; p < options.partitions(); p++) {
      if (!progress.containsKey(p)) {
        missing.add(p);
      }
    }
    if (missing.isEmpty()) {
      return progress;
    }
    Recovered r = recovered;
    if (r == null || !r.writer().equals(writer) || r.batchId() != batchId || !r.progress().keySet().containsAll(missing)) {
      r = new Recovered(writer, batchId, new ProgressRecovery(options, sinkName, writer, topic.admin()).recover(batchId, missing));
      recovered = r;
    }
    for (int p : missing) {
      progress.put(p, r.progress().get(p));
    }
    return progress;
  }

  /** The first writer partition whose progress does not include the batch, or -1 when all do. */
  int firstWithout(Map<Integer, Progress> progress, long batchId) {
    for (int p = 0; p < options.partitions(); p++) {
      Progress o = progress.get(p);
      if (o == null || !o.includes(batchId)) {
        return p;
      }
    }
    return -1;
  }

  /** Committed progress of each writer partition (absent when none), checking the recorded partition count. */
  Map<Integer, Progress> committed(WriterId writer) {
    Admin a = topic.admin();
    int partitions = options.partitions();
    Map<Integer, Progress> out = new HashMap<>();
    try {
      for (int p = 0; p < partitions; p++) {
        Map<TopicPartition, OffsetAndMetadata> offsets = a.listConsumerGroupOffsets(KafkaSink.group(writer, p, options.writers()),
            new ListConsumerGroupOffsetsOptions().requireStable(true)).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
        Progress o = Progress.of(offsets.get(progressPartition(options)));
        if (o != null) {
          out.put(p, o);
          int recorded = o.tag().partitions();
          if (recorded >= 0 && recorded != partitions) {
            throw new IllegalStateException("sink " + sinkName + ": " + options.key(KafkaSinkOptions.PARTITIONS) + " is " + partitions
                + " but this writer wrote its batches with " + recorded + " partitions "
                + "(a replay must split a batch the same way). Set it back, or reset the checkpoint.");
          }
        }
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("sink " + sinkName + ": interrupted while reading progress", e);
    } catch (ExecutionException | TimeoutException e) {
      throw KafkaErrors.explain(sinkName, options, e, "read its progress");
    }
  }

  /** The slice count of the batch: the one recorded if a writer partition committed part of it, else the configured one. */
  int slicesOf(Map<Integer, Progress> progress, long batchId) {
    for (Progress o : progress.values()) {
      if (o.partOf(batchId) && o.tag().slices() > 0) {
        if (o.tag().slices() != options.slices()) {
          LOG.info("sink={} batch={}: resuming a batch committed in part with its recorded {} slices ({} is {})", sinkName, batchId,
              o.tag().slices(), options.key(KafkaSinkOptions.SLICES), options.slices());
        }
        return o.tag().slices();
      }
    }
    return options.slices();
  }

  /**
   * The progress of every writer partition once it shows the batch. {@code commitTransaction()}
   * returns when the commit is decided; the offsets become readable when the coordinator has written
   * its markers, a moment later (a group's first offsets can read as absent until then).
   */
  Map<Integer, Progress> awaitVisible(WriterId writer, long batchId) {
    Map<Integer, Progress> progress = visibleWithin(writer, batchId, PROGRESS_VISIBLE_MILLIS);
    if (progress == null) {
      throw new IllegalStateException("sink " + sinkName + " batch " + batchId + ": writer partition "
          + firstWithout(committed(writer), batchId) + " shows no committed progress " + PROGRESS_VISIBLE_MILLIS / 1000
          + " s after its transaction. Spark will retry the batch; partitions already committed skip.");
    }
    return progress;
  }

  /** The progress of every writer partition once it shows the batch committed in full, or null if it does not within {@code millis}. */
  Map<Integer, Progress> visibleWithin(WriterId writer, long batchId, long millis) {
    long deadline = System.currentTimeMillis() + millis;
    while (true) {
      Map<Integer, Progress> progress = committed(writer);
      if (firstWithout(progress, batchId) < 0) {
        return progress;
      }
      if (System.currentTimeMillis() > deadline) {
        return null;
      }
      Errors.sleep(100);
    }
  }
}
