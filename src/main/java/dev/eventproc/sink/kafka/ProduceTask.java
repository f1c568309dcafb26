package dev.eventproc.sink.kafka;

import dev.eventproc.sink.FaultInjection;
import dev.eventproc.util.Utf8Text;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;

/**
 * Executor side of a sliced Kafka write: one writer partition of one batch, its key-hash slices in
 * ascending order. Yields the records this attempt sent, or -1 when the partition's progress shows
 * the batch committed already.
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

  private final BatchWrite batch;
  private final Map<Integer, Progress> recovered;

  /** {@code recovered}: progress rebuilt from the topic for writer partitions whose group had none (read only if it still has none). */
  ProduceTask(BatchWrite batch, Map<Integer, Progress> recovered) {
    this.batch = batch;
    this.recovered = Map.copyOf(recovered);
  }

  @Override
  public Iterator<Long> call(Iterator<InternalRow> rows) {
    int p = TaskContext.getPartitionId();
    KafkaSinkOptions options = batch.options();
    TopicTransactions tx = null;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(options.producerProperties(
        KafkaSink.transactionalId(options, batch.writer(), p)))) {
      tx = TopicTransactions.open(batch, p, producer, recovered.get(p));
      return List.of(tx == null ? -1L : write(tx, rows, p)).iterator();
    } catch (KafkaException e) {
      throw TopicTransactions.explain(batch, tx, p, e);
    }
  }

  /** Sends the partition's slices from the first one not committed on; returns the records sent. */
  private long write(TopicTransactions tx, Iterator<InternalRow> rows, int p) {
    int resume = tx.resumeSlice();
    tx.begin();
    int current = -1;
    while (rows.hasNext()) {
      InternalRow r = rows.next();
      int slice = r.getInt(2);
      if (slice % batch.partitions() != p || slice < current) {
        throw new IllegalStateException("sink " + batch.sinkName() + " batch " + batch.batchId() + ": writer partition " + p
            + " got slice " + slice + " after slice " + current + "; each writer must see its own slices whole and in ascending "
            + "order (a bug).");
      }
      if (slice < resume) {
        continue; // committed by an earlier transaction of this batch
      }
      if (slice != current) {
        if (current >= 0) {
          tx.atBoundary(slice);
        }
        current = slice;
      }
      tx.send(bytes(r, 0), bytes(r, 1), slice);
    }
    tx.flush(); // the records are with the broker, in the open transaction, at the points below
    FaultInjection.at(FaultInjection.Point.AFTER_STAGING, batch.sinkName(), batch.batchId());
    FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, batch.sinkName(), batch.batchId());
    tx.commitBatch();
    FaultInjection.at(FaultInjection.Point.TASK_COMMITTED, batch.sinkName(), batch.batchId());
    return tx.sent();
  }

  /** A string column's UTF-8 bytes, copied out of the (reused) row; invalid UTF-8 becomes U+FFFD, as a Java String makes it. */
  static byte[] bytes(InternalRow r, int i) {
    return r.isNullAt(i) ? null : Utf8Text.validBytes(r.getUTF8String(i));
  }
}
