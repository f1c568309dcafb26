package dev.eventproc.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;

import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.kafka.KafkaSink;
import dev.eventproc.sink.kafka.KafkaSinkOptions;
import dev.eventproc.sink.kafka.KafkaSinkOptions.Writers;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The Kafka case, same rows (~150-byte JSON values, keyed), one run: Spark's built-in Kafka sink
 * (at-least-once, default settings), a raw transactional producer (one transaction, rows already in
 * memory), and eventproc's sink with one writer and with partitioned writers; then eventproc's single
 * writer over an uncached upstream that parses JSON (as a library user's batch would be), where only
 * the write may run in one task.
 */
public final class KafkaBench {
  static final String SUITE = "kafka";

  private KafkaBench() {}

  public static void run(SparkSession spark, String servers, long rows, BenchReport report) throws Exception {
    Dataset<Row> batch = PostgresBench.rows(spark, rows, 1).persist(StorageLevel.MEMORY_ONLY());
    batch.count();
    String run = UUID.randomUUID().toString().substring(0, 8);

    long t = System.nanoTime();
    batch.selectExpr("id AS key", "to_json(struct(*)) AS value").write().format("kafka")
        .option("kafka.bootstrap.servers", servers).option("topic", "bench-spark-" + run).save();
    report.add(new BenchResult(SUITE, "spark kafka sink", rows, secs(t), "Spark's own sink, default settings, at-least-once"));

    List<Row> values = batch.selectExpr("id", "to_json(struct(*))").collectAsList();
    Properties p = new Properties();
    p.put("bootstrap.servers", servers);
    p.put("transactional.id", "bench-raw-" + run);
    p.put("enable.idempotence", "true");
    p.put("acks", "all");
    p.put("linger.ms", "5");
    p.put("batch.size", "65536");
    p.put("key.serializer", ByteArraySerializer.class.getName());
    p.put("value.serializer", ByteArraySerializer.class.getName());
    t = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
      producer.initTransactions();
      producer.beginTransaction();
      String topic = "bench-raw-" + run;
      for (Row r : values) {
        producer.send(new ProducerRecord<>(topic, r.getString(0).getBytes(StandardCharsets.UTF_8),
            r.getString(1).getBytes(StandardCharsets.UTF_8)));
      }
      producer.commitTransaction();
    }
    report.add(new BenchResult(SUITE, "raw transactional producer", rows, secs(t),
        "one producer, one transaction, rows already in memory"));

    for (Writers writers : Writers.values()) {
      String name = "bench_" + writers.name().toLowerCase() + "_" + run;
      KafkaSink sink = KafkaSink.create(SinkSpec.builder().name(name).mode(WriteMode.APPEND).keyColumns("id").build(),
          KafkaSinkOptions.of(servers, "bench-eventproc-" + writers.name().toLowerCase() + "-" + run, writers, 2, name, Map.of()));
      sink.write(batch.limit(1), 0, "warm"); // creates the topic: not measured
      t = System.nanoTime();
      sink.write(batch, 0, "q-" + run);
      report.add(new BenchResult(SUITE, "eventproc " + writers.name().toLowerCase(), rows, secs(t),
          "exactly-once: transaction with the batch's progress"));
      sink.close();
    }
    batch.unpersist();

    // Not cached: the upstream (JSON parsing) runs inside the batch's write.
    Dataset<Row> json = PostgresBench.rows(spark, rows, 1).selectExpr("to_json(struct(*)) AS json");
    Dataset<Row> parsed = json.select(from_json(col("json"), batch.schema()).as("e")).select("e.*");
    String name = "bench_uncached_" + run;
    KafkaSink sink = KafkaSink.create(SinkSpec.builder().name(name).mode(WriteMode.APPEND).keyColumns("id").build(),
        KafkaSinkOptions.of(servers, "bench-eventproc-uncached-" + run, Writers.SINGLE, 1, name, Map.of()));
    sink.write(parsed.limit(1), 0, "warm");
    t = System.nanoTime();
    sink.write(parsed, 0, "q-" + run);
    report.add(new BenchResult(SUITE, "eventproc single, uncached upstream", rows, secs(t),
        "the batch is parsed from JSON inside the write (not cached)"));
    sink.close();
    report.goal(new BenchGoal(SUITE, "eventproc single", "spark kafka sink", 1.0, "vs Spark's (at-least-once) Kafka sink"));
    report.goal(new BenchGoal(SUITE, "eventproc single", "raw transactional producer", 0.7, "vs a raw transactional producer"));
  }

  private static double secs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
