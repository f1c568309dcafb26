package dev.eventproc.sink.kafka;

import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.WriterId;
import dev.eventproc.util.Utf8Text;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * Executor side of the Kafka sink: one writer partition of one batch, its key-hash slices in
 * ascending order. Yields the records this attempt sent, or -1 when the partition's progress shows
 * the batch committed already.
 *
 * <p>Order matters: {@code initTransactions()} first (it fences an older producer of this partition
 * and aborts its open transaction), then the progress check, then the records and the progress in
 * one transaction. A zombie that committed before our fencing is seen by the check; one that tries
 * after is fenced.
 *
 * <p>A transaction open longer than half of {@code transaction.timeout.ms} (its budget) is committed at
 * the next slice boundary with the progress "batch in part, slices below s done", and the next begins:
 * a batch of any size commits, in several transactions, and a replay (Spark may hand it over in
 * other partitions and another order, SPARK-28650) skips the slices already committed, which depend
 * only on each record's key.
 */
final class ProduceTask implements FlatMapFunction<Iterator<InternalRow>, Long> {
  private static final long serialVersionUID = 1L;
  static final String WRITER_HEADER = "eventproc.writer";
  static final String BATCH_HEADER = "eventproc.batch";
  /** {@code <slice>/<slices>}: lets the sink recover its progress from the topic when a group lost it. */
  static final String SLICE_HEADER = "eventproc.slice";
  /**
   * {@code <writer partition>:<batch>}: the last earlier batch in which this writer partition wrote
   * records (-1: none), so a reader can tell a lost batch from an empty one (sql/spark/kafka_batch_continuity.sql).
   */
  static final String PREVIOUS_HEADER = "eventproc.previous";

  private final KafkaSinkOptions options;
  private final String sinkName;
  private final WriterId writer;
  private final long batchId;
  private final int partitions;
  private final int slices;
  private final String attempt;
  private final Map<Integer, Progress> recovered;

  /** {@code recovered}: progress rebuilt from the topic for writer partitions whose group had none (read only if it still has none). */
  ProduceTask(KafkaSinkOptions options, String sinkName, WriterId writer, long batchId, int partitions, int slices, String attempt,
      Map<Integer, Progress> recovered) {
    this.options = options;
    this.sinkName = sinkName;
    this.writer = writer;
    this.batchId = batchId;
    this.partitions = partitions;
    this.slices = slices;
    this.attempt = attempt;
    this.recovered = Map.copyOf(recovered);
  }

  @Override
  public Iterator<Long> call(Iterator<InternalRow> rows) {
    int p = TaskContext.getPartitionId();
    String group = KafkaSink.group(writer, p, options.writers());
    TopicPartition progressAt = new TopicPartition(options.topic(), 0);
    Transactions tx = null;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(options.producerProperties(KafkaSink.transactionalId(options, writer, p)))) {
      producer.initTransactions();
      Progress progress = committed(group, progressAt);
      if (progress == null) {
        progress = recovered.get(p); // the group's offsets, written back by the recovery, may not be readable yet
      }
      if (progress != null && progress.includes(batchId)) {
        return List.of(-1L).iterator();
      }
      if (progress != null && progress.partOf(batchId) && progress.tag().slices() != slices) {
        throw new IllegalStateException("sink " + sinkName + " batch " + batchId + ": writer partition " + p + " committed part of "
            + "the batch in " + progress.tag().slices() + " slices, this attempt splits it into " + slices + ". A replay must "
            + "split a batch the same way; the driver reads the recorded count before it plans, so another attempt is writing "
            + "with other settings. Stop it.");
      }
      long previous = progress == null ? -1 : progress.tag().previousOf(progress.offset(), batchId);
      tx = new Transactions(producer, new ConsumerGroupMetadata(group), progressAt, p, previous);
      return List.of(tx.write(rows, p, progress == null ? 0 : progress.resumeSlice(batchId))).iterator();
    } catch (KafkaException e) {
      if (tx != null && tx.openMillis() >= options.transactionTimeoutMs() && KafkaErrors.epochLost(e)) {
        throw KafkaErrors.transactionTimedOut(sinkName, options, e, batchId, p, tx.openMillis(), slices);
      }
      throw KafkaErrors.explain(sinkName, options, e, "commit writer partition " + p + " of batch " + batchId);
    }
  }

  /**
   * The transactions of one writer partition: records sent, committed with the progress at slice
   * boundaries. Sends are asynchronous, so the time a transaction has been open says little about
   * what is still to deliver: at a slice boundary the writer flushes once the bytes sent since the
   * last flush could take a quarter of the budget at the rate measured so far (at first: one producer
   * batch), then commits if the transaction is older than the budget.
   */
  private final class Transactions {
    private static final long FIRST_FLUSH_BYTES = 64 * 1024;

    private final KafkaProducer<byte[], byte[]> producer;
    private final ConsumerGroupMetadata group;
    private final TopicPartition progressAt;
    private final AtomicReference<Exception> failure = new AtomicReference<>();
    private final byte[] writerBytes = writer.appId().getBytes(StandardCharsets.UTF_8);
    private final byte[] batchBytes = String.valueOf(batchId).getBytes(StandardCharsets.UTF_8);
    private final long previous;
    private final byte[] previousBytes;
    private long openedNanos;
    private long flushedNanos;
    private long pendingBytes;
    private long flushBytes = FIRST_FLUSH_BYTES;
    private long sent;

    Transactions(KafkaProducer<byte[], byte[]> producer, ConsumerGroupMetadata group, TopicPartition progressAt, int writerPartition,
        long previous) {
      this.producer = producer;
      this.group = group;
      this.progressAt = progressAt;
      this.previous = previous;
      this.previousBytes = (writerPartition + ":" + previous).getBytes(StandardCharsets.UTF_8);
    }

    long openMillis() {
      return (System.nanoTime() - openedNanos) / 1_000_000;
    }

    /** Sends the slices from {@code resume} on; returns the records sent. */
    long write(Iterator<InternalRow> rows, int p, int resume) {
      begin();
      flushedNanos = openedNanos;
      int current = -1;
      byte[] sliceBytes = null;
      while (rows.hasNext()) {
        InternalRow r = rows.next();
        int slice = r.getInt(2);
        if (slice % partitions != p || slice < current) {
          throw new IllegalStateException("sink " + sinkName + " batch " + batchId + ": writer partition " + p + " got slice " + slice
              + " after slice " + current + "; each writer must see its own slices whole and in ascending order (a bug).");
        }
        if (slice < resume) {
          continue; // committed by an earlier transaction of this batch
        }
        if (slice != current) {
          if (current >= 0) {
            atBoundary(slice);
          }
          current = slice;
          sliceBytes = (slice + "/" + slices).getBytes(StandardCharsets.UTF_8);
        }
        byte[] key = bytes(r, 0);
        byte[] value = bytes(r, 1);
        RecordHeaders headers = new RecordHeaders();
        headers.add(WRITER_HEADER, writerBytes);
        headers.add(BATCH_HEADER, batchBytes);
        headers.add(SLICE_HEADER, sliceBytes);
        headers.add(PREVIOUS_HEADER, previousBytes);
        producer.send(new ProducerRecord<>(options.topic(), null, key, value, headers), (meta, e) -> {
          if (e != null) {
            failure.compareAndSet(null, e);
          }
        });
        sent++;
        pendingBytes += (key == null ? 0 : key.length) + (value == null ? 0 : value.length) + writerBytes.length + batchBytes.length
            + sliceBytes.length + previousBytes.length;
        throwIfFailed();
      }
      FaultInjection.at(FaultInjection.Point.AFTER_STAGING, sinkName, batchId);
      FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, sinkName, batchId);
      commit(batchId + 1, -1);
      return sent;
    }

    /** Before slice {@code next}: flush when due, and commit the slices so far when the transaction is past its budget. */
    private void atBoundary(int next) {
      long budget = options.transactionBudgetMs();
      if (pendingBytes < flushBytes && openMillis() < budget) {
        return;
      }
      long started = flushedNanos;
      long bytes = pendingBytes;
      flush();
      double bytesPerMs = bytes / Math.max(1.0, (flushedNanos - started) / 1e6);
      flushBytes = Math.max(1, (long) (bytesPerMs * budget / 4));
      if (openMillis() >= budget) {
        commit(batchId, next);
        FaultInjection.at(FaultInjection.Point.BETWEEN_COMMITS, sinkName, batchId);
        begin();
      }
    }

    private void begin() {
      producer.beginTransaction();
      openedNanos = System.nanoTime();
    }

    private void flush() {
      producer.flush();
      throwIfFailed();
      flushedNanos = System.nanoTime();
      pendingBytes = 0;
    }

    /** Commits what was sent with the progress: {@code offset} and, for a batch in part, the first slice not written. */
    private void commit(long offset, int done) {
      flush();
      producer.sendOffsetsToTransaction(Map.of(progressAt, new OffsetAndMetadata(offset,
          new ProgressTag(partitions, attempt, sent, slices, done, previous).encode())), group);
      producer.commitTransaction();
    }

    private void throwIfFailed() {
      Exception e = failure.get();
      if (e != null) {
        try {
          producer.abortTransaction();
        } catch (KafkaException abortFailed) {
          e.addSuppressed(abortFailed); // the transaction ends anyway: aborted by the broker, or fenced
        }
        throw e instanceof KafkaException k ? k : new KafkaException(e);
      }
    }
  }

  private Progress committed(String group, TopicPartition progressAt) {
    try (Admin admin = Admin.create(options.adminProperties())) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group,
          new ListConsumerGroupOffsetsOptions().requireStable(true)).partitionsToOffsetAndMetadata().get(60, TimeUnit.SECONDS);
      return Progress.of(offsets.get(progressAt));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (Exception e) {
      throw KafkaErrors.explain(sinkName, options, e, "read the progress of " + group);
    }
  }

  /** A string column's UTF-8 bytes, copied out of the (reused) row; invalid UTF-8 becomes U+FFFD, as a Java String makes it. */
  private static byte[] bytes(InternalRow r, int i) {
    return r.isNullAt(i) ? null : Utf8Text.validBytes(r.getUTF8String(i));
  }
}
