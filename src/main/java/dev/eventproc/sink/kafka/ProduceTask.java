package dev.eventproc.sink.kafka;

import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.WriterId;
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
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Row;

/**
 * Executor side of the Kafka sink: one writer partition of one batch in one transaction. Yields the
 * records sent, or -1 when the partition's progress shows the batch committed already.
 *
 * <p>Order matters: {@code initTransactions()} first (it fences an older producer of this partition
 * and aborts its open transaction), then the progress check, then the records and the progress in
 * one transaction. A zombie that committed before our fencing is seen by the check; one that tries
 * after is fenced.
 */
final class ProduceTask implements MapPartitionsFunction<Row, Long> {
  private static final long serialVersionUID = 1L;
  static final String WRITER_HEADER = "eventproc.writer";
  static final String BATCH_HEADER = "eventproc.batch";

  private final KafkaSinkOptions options;
  private final String sinkName;
  private final WriterId writer;
  private final long batchId;
  private final int partitions;
  private final String attempt;

  ProduceTask(KafkaSinkOptions options, String sinkName, WriterId writer, long batchId, int partitions, String attempt) {
    this.options = options;
    this.sinkName = sinkName;
    this.writer = writer;
    this.batchId = batchId;
    this.partitions = partitions;
    this.attempt = attempt;
  }

  @Override
  public Iterator<Long> call(Iterator<Row> rows) {
    int p = options.writers() == KafkaSinkOptions.Writers.PARTITIONED ? TaskContext.getPartitionId() : 0;
    String group = KafkaSink.group(writer, p, options.writers());
    TopicPartition progress = new TopicPartition(options.topic(), 0);
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(options.producerProperties(KafkaSink.transactionalId(options, writer, p)))) {
      producer.initTransactions();
      if (committed(group, progress) >= batchId) {
        return List.of(-1L).iterator();
      }
      producer.beginTransaction();
      AtomicReference<Exception> failure = new AtomicReference<>();
      byte[] writerBytes = writer.appId().getBytes(StandardCharsets.UTF_8);
      byte[] batchBytes = String.valueOf(batchId).getBytes(StandardCharsets.UTF_8);
      long n = 0;
      while (rows.hasNext() && failure.get() == null) {
        Row r = rows.next();
        RecordHeaders headers = new RecordHeaders();
        headers.add(WRITER_HEADER, writerBytes);
        headers.add(BATCH_HEADER, batchBytes);
        producer.send(new ProducerRecord<>(options.topic(), null, bytes(r, 0), bytes(r, 1), headers), (meta, e) -> {
          if (e != null) {
            failure.compareAndSet(null, e);
          }
        });
        n++;
      }
      producer.flush();
      if (failure.get() != null) {
        producer.abortTransaction();
        throw KafkaErrors.explain(sinkName, options, failure.get(), "send batch " + batchId);
      }
      FaultInjection.at(FaultInjection.Point.AFTER_STAGING, sinkName, batchId);
      FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, sinkName, batchId);
      producer.sendOffsetsToTransaction(Map.of(progress, new OffsetAndMetadata(batchId + 1,
          new ProgressTag(partitions, attempt, n).encode())),
          new ConsumerGroupMetadata(group));
      producer.commitTransaction();
      return List.of(n).iterator();
    } catch (KafkaException e) {
      throw KafkaErrors.explain(sinkName, options, e, "commit writer partition " + p + " of batch " + batchId);
    }
  }

  private long committed(String group, TopicPartition progress) {
    try (Admin admin = Admin.create(options.adminProperties())) {
      Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group,
          new ListConsumerGroupOffsetsOptions().requireStable(true)).partitionsToOffsetAndMetadata().get(60, TimeUnit.SECONDS);
      OffsetAndMetadata o = offsets.get(progress);
      return o == null ? -1 : o.offset() - 1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (Exception e) {
      throw KafkaErrors.explain(sinkName, options, e, "read the progress of " + group);
    }
  }

  private static byte[] bytes(Row r, int i) {
    return r.isNullAt(i) ? null : r.getString(i).getBytes(StandardCharsets.UTF_8);
  }
}
