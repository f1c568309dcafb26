package dev.eventproc.sink.kafka;

import dev.eventproc.sink.DriverRowStream;
import dev.eventproc.sink.FaultInjection;
import java.util.OptionalLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.KafkaException;
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
 * <p>One transaction only: if it is still open after its budget (half of {@code transaction.timeout.ms})
 * before the last record, the writer aborts it (nothing of it becomes visible) and the caller writes
 * the batch in slices, whose transactions can end part-way. The records carry a sliced write's headers,
 * with the batch's last slice as every record's {@code eventproc.slice}: the transaction holds all its
 * slices, so a progress recovery that finds any of its records (in whatever order they were sent) takes
 * the batch as committed in full.
 */
final class DriverProducer {
  private static final Logger LOG = LoggerFactory.getLogger(DriverProducer.class);
  private DriverProducer() {}

  /**
   * Writes {@code records} (key, value) as writer partition 0. Returns the records sent, -1 when
   * the progress shows the batch committed already, or empty when the batch must be written in slices:
   * committed in part by an earlier attempt, or longer than one transaction's budget (aborted).
   */
  static OptionalLong write(BatchWrite batch, Dataset<Row> records, Progress recovered, int ahead) {
    KafkaSinkOptions options = batch.options();
    TopicTransactions tx = null;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(options.producerProperties(
        KafkaSink.transactionalId(options, batch.writer(), 0)))) {
      tx = TopicTransactions.open(batch, 0, producer, recovered);
      if (tx == null) {
        return OptionalLong.of(-1);
      }
      if (tx.resumeSlice() > 0) {
        return OptionalLong.empty(); // an earlier attempt committed some slices: only a sliced write can resume after them
      }
      tx.begin();
      int wholeBatch = batch.slices() - 1;
      long started = System.nanoTime();
      long firstRow = -1;
      try (DriverRowStream rows = DriverRowStream.of(records, ahead)) {
        while (rows.hasNext()) {
          if (firstRow < 0) {
            firstRow = System.nanoTime();
          }
          InternalRow r = rows.next();
          tx.send(ProduceTask.bytes(r, 0), ProduceTask.bytes(r, 1), wholeBatch);
          if (tx.overBudget()) { // each record: a send may block for long (a full buffer, a slow broker)
            tx.abort();
            LOG.info("sink={} batch={}: {} records sent on the driver after {} ms, half of {}={} ms: aborted, writing the batch "
                + "in slices", batch.sinkName(), batch.batchId(), tx.sent(), tx.openMillis(),
                options.key(KafkaSinkOptions.PRODUCER) + ".transaction.timeout.ms", options.transactionTimeoutMs());
            return OptionalLong.empty();
          }
        }
      }
      FaultInjection.at(FaultInjection.Point.AFTER_STAGING, batch.sinkName(), batch.batchId());
      FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, batch.sinkName(), batch.batchId());
      long sentAll = System.nanoTime();
      tx.commitBatch();
      LOG.debug("sink={} batch={}: driver producer, first row after {} ms, {} records sent by {} ms, committed at {} ms",
          batch.sinkName(), batch.batchId(), (Math.max(firstRow, started) - started) / 1_000_000, tx.sent(),
          (sentAll - started) / 1_000_000, (System.nanoTime() - started) / 1_000_000);
      return OptionalLong.of(tx.sent());
    } catch (KafkaException e) {
      throw TopicTransactions.explain(batch, tx, 0, e);
    }
  }
}
