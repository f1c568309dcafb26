package dev.eventproc.sink.kafka;

import dev.eventproc.sink.FaultInjection;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListConsumerGroupOffsetsOptions;
import org.apache.kafka.clients.consumer.ConsumerGroupMetadata;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The transactions of one writer partition for one batch: records sent, committed with the batch's
 * progress. Used by the Spark task of a sliced write ({@link ProduceTask}) and by the driver
 * ({@link DriverProducer}).
 *
 * <p>Order matters: {@link #open} calls {@code initTransactions()} first (it fences an older producer
 * of this partition and aborts its open transaction), then reads the progress, so a zombie that
 * committed before our fencing is seen, and one that tries after is fenced.
 *
 * <p>Sends are asynchronous, so the time a transaction has been open says little about what is still
 * to deliver: at a slice boundary the writer flushes once the bytes sent since the last flush could
 * take a quarter of the budget at the rate measured so far (at first: one producer batch), then
 * commits if the transaction is older than the budget (half of {@code transaction.timeout.ms}).
 */
final class TopicTransactions {
  private static final long FIRST_FLUSH_BYTES = 64 * 1024;

  private final BatchWrite batch;
  private final KafkaProducer<byte[], byte[]> producer;
  private final int writerPartition;
  private final Progress progress;
  private final ConsumerGroupMetadata group;
  private final TopicPartition progressAt;
  private final AtomicReference<Exception> failure = new AtomicReference<>();
  /** One callback for every record (headers stay per record: a producer interceptor may add to them). */
  private final Callback onSent = (meta, e) -> {
    if (e != null) {
      failure.compareAndSet(null, e);
    }
  };
  private final byte[] writerBytes;
  private final byte[] batchBytes;
  private final byte[][] sliceBytes;
  private final long previous;
  private final byte[] previousBytes;
  private long openedNanos;
  private long flushedNanos;
  private long pendingBytes;
  private long flushBytes = FIRST_FLUSH_BYTES;
  private long sent;

  private TopicTransactions(BatchWrite batch, KafkaProducer<byte[], byte[]> producer, int writerPartition, Progress progress) {
    this.batch = batch;
    this.producer = producer;
    this.writerPartition = writerPartition;
    this.progress = progress;
    this.group = new ConsumerGroupMetadata(KafkaSink.group(batch.writer(), writerPartition, batch.options().writers()));
    this.progressAt = WriterProgress.progressPartition(batch.options());
    this.writerBytes = batch.writer().appId().getBytes(StandardCharsets.UTF_8);
    this.batchBytes = String.valueOf(batch.batchId()).getBytes(StandardCharsets.UTF_8);
    this.sliceBytes = new byte[batch.slices()][];
    this.previous = progress == null ? -1 : progress.tag().previousOf(progress.offset(), batch.batchId());
    this.previousBytes = (writerPartition + ":" + previous).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Fences older producers of writer partition {@code p} ({@code initTransactions()}), then reads its
   * progress: null when the batch is committed already. {@code recovered}: progress rebuilt from the
   * topic, used only while the group still shows none (the recovery's offsets may not be readable yet).
   */
  static TopicTransactions open(BatchWrite batch, int p, KafkaProducer<byte[], byte[]> producer, Progress recovered) {
    producer.initTransactions();
    Progress progress = committed(batch, KafkaSink.group(batch.writer(), p, batch.options().writers()));
    if (progress == null) {
      progress = recovered;
    }
    if (progress != null && progress.includes(batch.batchId())) {
      return null;
    }
    if (progress != null && progress.partOf(batch.batchId()) && progress.tag().slices() != batch.slices()) {
      throw new IllegalStateException("sink " + batch.sinkName() + " batch " + batch.batchId() + ": writer partition " + p
          + " committed part of the batch in " + progress.tag().slices() + " slices, this attempt splits it into " + batch.slices()
          + ". A replay must split a batch the same way; the driver reads the recorded count before it plans, so another attempt is "
          + "writing with other settings. Stop it.");
    }
    return new TopicTransactions(batch, producer, p, progress);
  }

  /** The first slice of the batch still to write: 0 unless an earlier attempt committed part of it. */
  int resumeSlice() {
    return progress == null ? 0 : progress.resumeSlice(batch.batchId());
  }

  long sent() {
    return sent;
  }

  /** How long the open transaction has been open (0 before the first begins). */
  long openMillis() {
    return openedNanos == 0 ? 0 : (System.nanoTime() - openedNanos) / 1_000_000;
  }

  /** Whether the open transaction is older than its budget (half the transaction timeout). */
  boolean overBudget() {
    return openMillis() >= batch.options().transactionBudgetMs();
  }

  void begin() {
    producer.beginTransaction();
    openedNanos = System.nanoTime();
    flushedNanos = openedNanos;
  }

  /**
   * Sends one record with the headers a reader and a recovery need; {@code slice}: its
   * {@code eventproc.slice}, the record's key-hash slice, or the batch's last for a batch sent in one
   * transaction.
   */
  void send(byte[] key, byte[] value, int slice) {
    byte[] sliceHeader = sliceBytes[slice];
    if (sliceHeader == null) {
      sliceHeader = (slice + "/" + batch.slices()).getBytes(StandardCharsets.UTF_8);
      sliceBytes[slice] = sliceHeader;
    }
    RecordHeaders headers = new RecordHeaders();
    headers.add(ProduceTask.WRITER_HEADER, writerBytes);
    headers.add(ProduceTask.BATCH_HEADER, batchBytes);
    headers.add(ProduceTask.SLICE_HEADER, sliceHeader);
    headers.add(ProduceTask.PREVIOUS_HEADER, previousBytes);
    producer.send(new ProducerRecord<>(batch.options().topic(), null, key, value, headers), onSent);
    sent++;
    pendingBytes += (key == null ? 0 : key.length) + (value == null ? 0 : value.length) + writerBytes.length + batchBytes.length
        + sliceHeader.length + previousBytes.length;
    throwIfFailed();
  }

  /** Before slice {@code next}: flush when due, and commit the slices so far when the transaction is past its budget. */
  void atBoundary(int next) {
    long budget = batch.options().transactionBudgetMs();
    if (pendingBytes < flushBytes && openMillis() < budget) {
      return;
    }
    long started = flushedNanos;
    long bytes = pendingBytes;
    flush();
    double bytesPerMs = bytes / Math.max(1.0, (flushedNanos - started) / 1e6);
    flushBytes = Math.max(1, (long) (bytesPerMs * budget / 4));
    if (openMillis() >= budget) {
      commit(batch.batchId(), next);
      FaultInjection.at(FaultInjection.Point.BETWEEN_COMMITS, batch.sinkName(), batch.batchId());
      begin();
    }
  }

  /** Commits what is left of the batch with the progress "batch done". */
  void commitBatch() {
    commit(batch.batchId() + 1, -1);
  }

  /**
   * Whether an earlier attempt committed records of this batch (its part of it; a recovered part was
   * found through one of its records): then the batch wrote records even if this attempt sends none.
   */
  private boolean earlierPartHadRecords() {
    return progress != null && progress.partOf(batch.batchId())
        && (progress.tag().rows() > 0 || ProgressRecovery.RECOVERED.equals(progress.tag().attempt()));
  }

  /** Aborts the open transaction: nothing of it becomes visible to {@code read_committed} readers. */
  void abort() {
    producer.abortTransaction();
  }

  /** A Kafka failure as a message a person can act on: a transaction the broker aborted for time names the keys to change. */
  static RuntimeException explain(BatchWrite batch, TopicTransactions tx, int p, KafkaException e) {
    KafkaSinkOptions options = batch.options();
    if (tx != null && tx.openMillis() >= options.transactionTimeoutMs() && KafkaErrors.epochLost(e)) {
      return KafkaErrors.transactionTimedOut(batch.sinkName(), options, e, batch.batchId(), p, tx.openMillis(), batch.slices());
    }
    return KafkaErrors.explain(batch.sinkName(), options, e, "commit writer partition " + p + " of batch " + batch.batchId());
  }

  /** Waits until every record sent so far is with the broker (in the open transaction). */
  void flush() {
    producer.flush();
    throwIfFailed();
    flushedNanos = System.nanoTime();
    pendingBytes = 0;
  }

  /** Commits what was sent with the progress: {@code offset} and, for a batch in part, the first slice not written. */
  private void commit(long offset, int done) {
    flush();
    // The next batch names this one as its previous when it wrote records (rows > 0); a resumed batch that
    // sends nothing more but had records in its committed part records itself instead, to the same end.
    long named = done < 0 && sent == 0 && earlierPartHadRecords() ? batch.batchId() : previous;
    producer.sendOffsetsToTransaction(Map.of(progressAt, new OffsetAndMetadata(offset,
        new ProgressTag(batch.partitions(), batch.attempt(), sent, batch.slices(), done, named).encode())), group);
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

  private static Progress committed(BatchWrite batch, String group) {
    KafkaSinkOptions options = batch.options();
    try (Admin admin = Admin.create(options.adminProperties())) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group,
          new ListConsumerGroupOffsetsOptions().requireStable(true)).partitionsToOffsetAndMetadata().get(60, TimeUnit.SECONDS);
      return Progress.of(offsets.get(WriterProgress.progressPartition(options)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (Exception e) {
      throw KafkaErrors.explain(batch.sinkName(), options, e, "read the progress of " + group);
    }
  }
}
