package dev.eventproc.bench;

import static dev.eventproc.bench.BenchResult.secondsSince;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.from_json;

import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.kafka.KafkaSink;
import dev.eventproc.sink.kafka.KafkaSinkOptions;
import dev.eventproc.sink.kafka.KafkaSinkOptions.ProduceOn;
import dev.eventproc.sink.kafka.KafkaSinkOptions.Writers;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The Kafka case, same rows (~150-byte JSON values, keyed), one run, every topic created before the
 * timed region with eventproc's default partition count: Spark's built-in Kafka sink (at-least-once)
 * with eventproc's producer settings and with Kafka's defaults (labelled), a raw transactional
 * producer (one transaction, rows already in memory), and eventproc's sink with one writer on the driver
 * (the default), with one writer in a task ({@code produce.on=task}, sliced) and with partitioned writers; then eventproc's single writer over an uncached upstream that parses JSON (as
 * a library user's batch would be). eventproc's timed write is batch 1 of its writer, after a one-row
 * batch 0: the work of a batch in a running stream (progress lookup, producer start, transaction),
 * without the one-off read-back of a new writer's first batch.
 */
public final class KafkaBench {
  static final String SUITE = "kafka";
  /** Issue 18, goal 6: writers=single at least 0.8x of a raw transactional producer. */
  public static final double GOAL_VS_RAW_PRODUCER = 0.8;

  private KafkaBench() {}

  /** Runs the case; {@code run} is the repeat's index (variants alternate order, see {@link Variants}). */
  public static void run(SparkSession spark, String servers, long rows, BenchReport report, int run) throws Exception {
    Dataset<Row> batch = PostgresBench.rows(spark, rows, 1).persist(StorageLevel.MEMORY_ONLY());
    batch.count();
    String tag = UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> producer = KafkaSinkOptions.producerDefaults();
    String settings = String.join(", ", new TreeMap<>(producer).entrySet().stream()
        .filter(e -> !e.getKey().equals("transaction.timeout.ms")).map(e -> e.getKey() + "=" + e.getValue()).toList());
    createTopics(servers, List.of("bench-spark-" + tag, "bench-spark-defaults-" + tag, "bench-raw-" + tag));

    Variants variants = Variants.forRun(run);
    variants.add("spark", () -> {
      DataFrameWriter<Row> w = batch.selectExpr("id AS key", "to_json(struct(*)) AS value").write().format("kafka")
          .option("kafka.bootstrap.servers", servers).option("topic", "bench-spark-" + tag);
      producer.forEach((k, v) -> w.option("kafka." + k, v));
      long t = System.nanoTime();
      w.save();
      report.add(new BenchResult(SUITE, "spark kafka sink", rows, secondsSince(t), "Spark's own sink, at-least-once, " + settings));
    });
    variants.add("spark-defaults", () -> {
      long t = System.nanoTime();
      batch.selectExpr("id AS key", "to_json(struct(*)) AS value").write().format("kafka")
          .option("kafka.bootstrap.servers", servers).option("topic", "bench-spark-defaults-" + tag).save();
      report.add(new BenchResult(SUITE, "spark kafka sink, defaults", rows, secondsSince(t),
          "the same with Kafka's producer defaults (labelled, not a goal)"));
    });
    variants.add("raw", () -> {
      List<Row> values = batch.selectExpr("id", "to_json(struct(*))").collectAsList();
      Properties p = new Properties();
      p.putAll(producer);
      p.put("bootstrap.servers", servers);
      p.put("transactional.id", "bench-raw-" + tag + "-" + System.nanoTime());
      p.put("key.serializer", ByteArraySerializer.class.getName());
      p.put("value.serializer", ByteArraySerializer.class.getName());
      long t = System.nanoTime();
      try (KafkaProducer<byte[], byte[]> out = new KafkaProducer<>(p)) {
        out.initTransactions();
        out.beginTransaction();
        for (Row r : values) {
          out.send(new ProducerRecord<>("bench-raw-" + tag, r.getString(0).getBytes(StandardCharsets.UTF_8),
              r.getString(1).getBytes(StandardCharsets.UTF_8)));
        }
        out.commitTransaction();
      }
      report.add(new BenchResult(SUITE, "raw transactional producer", rows, secondsSince(t),
          "one producer, one transaction, rows already in memory, " + settings));
    });
    eventproc(variants, report, batch, servers, tag, rows, "single", KafkaSinkOptions.of(servers, "bench-eventproc-single-" + tag,
        Writers.SINGLE, 1, "bench_single_" + tag, Map.of()), "exactly-once: the driver's producer, one transaction with the batch's progress");
    eventproc(variants, report, batch, servers, tag, rows, "single-task", KafkaSinkOptions.of(servers,
        "bench-eventproc-single-task-" + tag, Writers.SINGLE, 1, "bench_single_task_" + tag, Map.of()).withProduceOn(ProduceOn.TASK),
        "exactly-once: produce.on=task, shuffled into key-hash slices, one producing task");
    eventproc(variants, report, batch, servers, tag, rows, "partitioned", KafkaSinkOptions.of(servers,
        "bench-eventproc-partitioned-" + tag, Writers.PARTITIONED, 2, "bench_partitioned_" + tag, Map.of()),
        "exactly-once: 2 writer partitions, each a task and a transaction");
    variants.add("eventproc-uncached", () -> {
      // Not cached: the upstream (JSON parsing) runs inside the batch's write.
      Dataset<Row> json = PostgresBench.rows(spark, rows, 1).selectExpr("to_json(struct(*)) AS json");
      Dataset<Row> parsed = json.select(from_json(col("json"), batch.schema()).as("e")).select("e.*");
      String name = "bench_uncached_" + tag;
      try (KafkaSink sink = KafkaSink.create(SinkSpec.builder().name(name).mode(WriteMode.APPEND).keyColumns("id").build(),
          KafkaSinkOptions.of(servers, "bench-eventproc-uncached-" + tag, Writers.SINGLE, 1, name, Map.of()))) {
        sink.write(parsed.limit(1), 0, "q-" + tag);
        long t = System.nanoTime();
        sink.write(parsed, 1, "q-" + tag);
        report.add(new BenchResult(SUITE, "eventproc single, uncached upstream", rows, secondsSince(t),
            "the batch is parsed from JSON inside the write (not cached)"));
      }
    });
    try {
      variants.runAll();
    } finally {
      batch.unpersist();
    }
    report.goal(new BenchGoal(SUITE, "eventproc single", "spark kafka sink", 1.0,
        "vs Spark's (at-least-once) Kafka sink, same producer settings"));
    report.goal(new BenchGoal(SUITE, "eventproc single", "raw transactional producer", GOAL_VS_RAW_PRODUCER,
        "vs a raw transactional producer (issue 18, goal 6)"));
    report.goal(new BenchGoal(SUITE, "eventproc single", "eventproc single task", 1.0,
        "the driver's producer (default) vs produce.on=task: the bench's own goal, so the default earns its place"));
  }

  /** One eventproc variant: its writer's batch 0 (one row) untimed, then the batch as batch 1. */
  private static void eventproc(Variants variants, BenchReport report, Dataset<Row> batch, String servers, String tag, long rows,
      String label, KafkaSinkOptions options, String note) {
    variants.add("eventproc-" + label, () -> {
      String name = "bench_" + label.replace('-', '_') + "_" + tag;
      try (KafkaSink sink = KafkaSink.create(SinkSpec.builder().name(name).mode(WriteMode.APPEND).keyColumns("id").build(), options)) {
        // Batch 0 of the writer (one row) creates the topic and its progress, as a running stream has them: not measured.
        // A writer's first batch also reads the topic back for progress a group lost (ProgressRecovery), once.
        sink.write(batch.limit(1), 0, "q-" + tag);
        long t = System.nanoTime();
        sink.write(batch, 1, "q-" + tag);
        report.add(new BenchResult(SUITE, "eventproc " + label.replace('-', ' '), rows, secondsSince(t), note));
      }
    });
  }

  /** Topics of the baselines, created outside the timed region with the partitions eventproc's own topics get. */
  private static void createTopics(String servers, List<String> names) throws Exception {
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", servers))) {
      admin.createTopics(names.stream().map(n -> new NewTopic(n, Optional.of(KafkaSinkOptions.TOPIC_PARTITIONS_DEFAULT), Optional.empty())).toList())
          .all().get();
    }
  }
}
