package dev.eventproc.sink.kafka;

import dev.eventproc.sink.DriverRowStream;
import dev.eventproc.sink.FaultInjection;
import java.time.Duration;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code writers=single} with {@code produce.on=driver}: the driver's producer sends the batch's
 * records as Spark's tasks hand them over ({@link DriverRowStream}, partitions computed ahead in
 * parallel), in one transaction with the batch's progress. No shuffle into slices and no wait for it:
 * the records go out while the tasks still encode the later partitions.
 *
 * <p>One transaction only. Its clock starts with the first record (when the broker's starts), and the
 * writer gives up when the transaction reaches its budget (half of {@code transaction.timeout.ms})
 * before the last record, sending or waiting for a partition, or when a partition outgrows
 * {@link #partitionBound}: it aborts the transaction (nothing of it becomes visible) and the
 * caller writes the batch in slices, whose transactions can end part-way. The records carry a sliced
 * write's headers, with the batch's last slice as every record's {@code eventproc.slice}: the
 * transaction holds all its slices, and a progress recovery that finds any of its records takes the
 * batch as committed in full.
 */
final class DriverProducer {
  private static final Logger LOG = LoggerFactory.getLogger(DriverProducer.class);
  /** Compressed bytes of one partition the driver takes, at most (see {@link #partitionBound}): it holds up to {@code ahead + 1}. */
  static final long MAX_PARTITION_BYTES = 64L << 20;
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  /** What the driver did with the batch. */
  enum Outcome {
    /** Committed the batch (or found it committed already: see the progress). */
    WRITTEN,
    /** Left it to a sliced write: an earlier attempt committed some of its slices. */
    RESUME_IN_SLICES,
    /** Aborted it: longer than one transaction's budget, or a partition too large for the driver. */
    OUTGREW
  }

  private DriverProducer() {}

  /** Writes {@code records} (key, value) as writer partition 0, or leaves them to a sliced write (see {@link Outcome}). */
  static Outcome write(BatchWrite batch, Dataset<Row> records, Progress recovered, int ahead, long maxPartitionBytes) {
    KafkaSinkOptions options = batch.options();
    TopicTransactions tx = null;
    boolean open = false;
    KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(options.producerProperties(
        KafkaSink.transactionalId(options, batch.writer(), 0)));
    try {
      tx = TopicTransactions.open(batch, 0, producer, recovered);
      if (tx == null) {
        return Outcome.WRITTEN; // committed already
      }
      if (tx.resumeSlice() > 0) {
        return Outcome.RESUME_IN_SLICES; // only a sliced write can resume after the committed slices
      }
      int wholeBatch = batch.slices() - 1;
      long budgetNanos = options.transactionBudgetMs() * 1_000_000L;
      long started = System.nanoTime();
      long firstRow = -1;
      try (DriverRowStream rows = DriverRowStream.of(records, ahead, maxPartitionBytes)) {
        while (true) {
          if (open && !rows.awaitRows(firstRow + budgetNanos)) {
            open = false;
            return outgrew(batch, tx, "waiting for a partition");
          }
          if (!rows.hasNext()) {
            break;
          }
          InternalRow r = rows.next();
          if (!open) {
            tx.begin(); // the broker's transaction (and its timeout) starts with the first record
            open = true;
            firstRow = System.nanoTime();
          }
          tx.send(ProduceTask.bytes(r, 0), ProduceTask.bytes(r, 1), wholeBatch);
          if (tx.overBudget()) {
            open = false;
            return outgrew(batch, tx, "sending");
          }
        }
      } catch (DriverRowStream.PartitionTooLargeException e) {
        TopicTransactions begun = open ? tx : null;
        open = false;
        return outgrew(batch, begun, e.getMessage());
      }
      if (!open) {
        tx.begin(); // an empty batch still commits its progress
        open = true;
      }
      tx.flush(); // the records are with the broker, in the open transaction, at the points below
      FaultInjection.at(FaultInjection.Point.AFTER_STAGING, batch.sinkName(), batch.batchId());
      FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, batch.sinkName(), batch.batchId());
      long sentAll = System.nanoTime();
      tx.commitBatch();
      open = false;
      FaultInjection.at(FaultInjection.Point.TASK_COMMITTED, batch.sinkName(), batch.batchId());
      LOG.debug("sink={} batch={}: driver producer, first row after {} ms, {} records sent by {} ms, committed at {} ms",
          batch.sinkName(), batch.batchId(), firstRow < 0 ? -1 : (firstRow - started) / 1_000_000, tx.sent(),
          (sentAll - started) / 1_000_000, (System.nanoTime() - started) / 1_000_000);
      return Outcome.WRITTEN;
    } catch (KafkaException e) {
      open = false; // a failed producer ends its transaction itself (abort, or the broker's timeout)
      throw TopicTransactions.explain(batch, tx, 0, e);
    } finally {
      boolean interrupted = Thread.interrupted(); // a stopping query: still end the transaction and close, then say so
      try {
        if (open) {
          abortQuietly(producer); // a failed Spark job: end the transaction now, so it holds back read_committed readers no longer
        }
        producer.close(CLOSE_TIMEOUT);
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /**
   * Compressed bytes of one partition the driver takes: {@link #MAX_PARTITION_BYTES}, less when the
   * driver's heap could not hold {@code ahead + 1} of them in a quarter of it, and below half of
   * {@code spark.driver.maxResultSize} (each partition is one job's result).
   */
  static long partitionBound(SparkConf conf, int ahead) {
    long bound = Math.min(MAX_PARTITION_BYTES, Runtime.getRuntime().maxMemory() / (4L * (ahead + 1)));
    long maxResult = conf.getSizeAsBytes("spark.driver.maxResultSize", "1g");
    return Math.max(1, maxResult > 0 ? Math.min(bound, maxResult / 2) : bound);
  }

  /**
   * Aborts the open transaction, if any, for a sliced write. An abort refused because the broker ended
   * the transaction for time still falls back (the sliced write fences and reads the progress again);
   * refused earlier, another producer took the writer's id over: thrown, for the caller's fencing rules.
   */
  private static Outcome outgrew(BatchWrite batch, TopicTransactions open, String why) {
    if (open != null) {
      try {
        open.abort();
      } catch (KafkaException e) {
        if (open.openMillis() < batch.options().transactionTimeoutMs()) {
          throw e;
        }
        LOG.debug("sink={} batch={}: the broker ended the transaction already: {}", batch.sinkName(), batch.batchId(), e.toString());
      }
    }
    LOG.info("sink={} batch={}: {} records sent on the driver in {} ms, then {}: aborted, writing the batch in slices", batch.sinkName(),
        batch.batchId(), open == null ? 0 : open.sent(), open == null ? 0 : open.openMillis(), why);
    return Outcome.OUTGREW;
  }

  private static void abortQuietly(KafkaProducer<byte[], byte[]> producer) {
    try {
      producer.abortTransaction();
    } catch (KafkaException | IllegalStateException e) {
      LOG.debug("abort after a failure: {}", e.toString()); // the broker aborts it at its timeout anyway
    }
  }
}
