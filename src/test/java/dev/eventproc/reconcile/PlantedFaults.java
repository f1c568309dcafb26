package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.iceberg.Table;
import org.apache.iceberg.spark.CommitMetadata;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.DeltaOperations;
import org.apache.spark.sql.delta.OptimisticTransaction;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.SetTransaction;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Faults planted in what a pipeline wrote, the way a bug or a hand would leave them, each with the
 * check that must FAIL and the batch id or key it must name. A batch committed twice carries the
 * writer's own commit record (Delta: a commit with the same {@code SetTransaction}; Iceberg: a snapshot
 * with the same summary), as a duplicate from a broken idempotence check would; a lost batch is a gap
 * in the commit records (Delta and Iceberg: the writer's next record skips a batch id; files: a batch
 * directory removed; PostgreSQL: a ledger row deleted; Kafka: a record names as its previous batch one
 * whose records are absent).
 */
final class PlantedFaults {
  /** A check that must FAIL, naming {@code token} as one of its comma-separated offending entries. */
  record Expected(String check, String token) {}

  private final SparkSession spark;

  PlantedFaults(SparkSession spark) {
    this.spark = spark;
  }

  List<Expected> plant(SinkType type, Path dir, Map<String, String> c, Event victim, Event lost, Event wrong) throws Exception {
    return switch (type) {
      case POSTGRES -> postgres(c.get("sink.postgres.schema"), c.get("pipeline.name"), victim, lost, wrong);
      case DELTA -> delta(dir.resolve("table"), victim, lost, wrong);
      case ICEBERG -> iceberg("rec.db.payments", victim, lost, wrong);
      case FILES -> files(dir.resolve("files"));
      case KAFKA -> kafka(c.get("sink.kafka.topic"), victim);
    };
  }

  private List<Expected> postgres(String schema, String writer, Event victim, Event lost, Event wrong) throws Exception {
    try (Connection con = TestPostgres.connect();
        PreparedStatement up = con.prepareStatement("UPDATE " + schema + ".payments SET amount = amount + 1 WHERE payment_id = ?");
        PreparedStatement del = con.prepareStatement("DELETE FROM " + schema + ".payments WHERE payment_id = ?");
        PreparedStatement ledger = con.prepareStatement("DELETE FROM " + schema + ".eventproc_ledger WHERE writer = ? AND batch_id = 1")) {
      up.setString(1, wrong.paymentId());
      assertThat(up.executeUpdate()).isEqualTo(1);
      del.setString(1, lost.paymentId());
      assertThat(del.executeUpdate()).isEqualTo(1);
      ledger.setString(1, writer);
      assertThat(ledger.executeUpdate()).as("ledger rows of batch 1").isPositive();
      if (!con.getAutoCommit()) {
        con.commit();
      }
    }
    // The primary key the sink creates rules out a duplicate key, and the ledger's a batch recorded twice.
    return List.of(new Expected("ledger_gaps", "1"), new Expected("source_vs_sink_amount", wrong.paymentId()),
        new Expected("source_vs_sink_count", lost.paymentId()), new Expected("daily_totals", day(wrong)));
  }

  private List<Expected> delta(Path table, Event victim, Event lost, Event wrong) {
    Row last = spark.sql("SELECT get_json_object(value, '$.txn.appId'), max(CAST(get_json_object(value, '$.txn.version') AS BIGINT)) "
        + "FROM text.`" + table + "/_delta_log/*.json` WHERE get_json_object(value, '$.txn.appId') IS NOT NULL GROUP BY 1").first();
    String appId = last.getString(0);
    long lastBatch = last.getLong(1);
    DeltaLog log = DeltaLog.forTable(spark, table.toString());
    // Batch 1 again, with its own transaction record: Delta's write commands would skip it, its log does not.
    commitDelta(log, spark.read().format("delta").load(table.toString()).filter("payment_id = '" + victim.paymentId() + "'"), appId, 1);
    // The writer's record jumps a batch: lastBatch + 1 is lost.
    commitDelta(log, null, appId, lastBatch + 2);
    spark.sql("DELETE FROM delta.`" + table + "` WHERE payment_id = '" + lost.paymentId() + "'");
    spark.sql("UPDATE delta.`" + table + "` SET amount = amount + 1 WHERE payment_id = '" + wrong.paymentId() + "'");
    return List.of(new Expected("delta_txn_duplicates", "1"), new Expected("delta_txn_gaps", String.valueOf(lastBatch + 1)),
        new Expected("duplicate_keys", victim.paymentId()), new Expected("source_vs_sink_count", lost.paymentId()),
        new Expected("source_vs_sink_amount", wrong.paymentId()), new Expected("daily_totals", day(wrong)));
  }

  private static void commitDelta(DeltaLog log, Dataset<Row> rows, String appId, long batch) {
    OptimisticTransaction txn = log.startTransaction();
    List<Action> actions = new ArrayList<>();
    if (rows != null) {
      actions.addAll(CollectionConverters.asJava(txn.writeFiles(rows)));
    }
    actions.add(new SetTransaction(appId, batch, Option.apply((Object) System.currentTimeMillis())));
    txn.commit(CollectionConverters.asScala(actions).toSeq(), DeltaOperations.ManualUpdate$.MODULE$);
  }

  private List<Expected> iceberg(String name, Event victim, Event lost, Event wrong) throws Exception {
    Row last = spark.sql("SELECT summary['eventproc.writer'], max(CAST(summary['eventproc.batch'] AS BIGINT)) FROM " + name
        + ".snapshots WHERE summary['eventproc.writer'] IS NOT NULL GROUP BY 1").first();
    String appId = last.getString(0);
    long lastBatch = last.getLong(1);
    // Batch 1 again, in a snapshot with the writer's own summary: a plain append would carry none.
    CommitMetadata.withCommitProperties(Map.of("eventproc.writer", appId, "eventproc.batch", "1"),
        () -> spark.sql("INSERT INTO " + name + " SELECT * FROM " + name + " WHERE payment_id = '" + victim.paymentId() + "'").count(),
        RuntimeException.class);
    // The writer's record jumps a batch: lastBatch + 1 is lost from the ancestry.
    Table table = Spark3Util.loadIcebergTable(spark, name);
    table.newAppend().set("eventproc.writer", appId).set("eventproc.batch", String.valueOf(lastBatch + 2)).commit();
    spark.sql("REFRESH TABLE " + name);
    spark.sql("DELETE FROM " + name + " WHERE payment_id = '" + lost.paymentId() + "'");
    spark.sql("UPDATE " + name + " SET amount = amount + 1 WHERE payment_id = '" + wrong.paymentId() + "'");
    return List.of(new Expected("iceberg_snapshot_duplicates", "1"), new Expected("iceberg_snapshot_gaps", String.valueOf(lastBatch + 1)),
        new Expected("duplicate_keys", victim.paymentId()), new Expected("source_vs_sink_count", lost.paymentId()),
        new Expected("source_vs_sink_amount", wrong.paymentId()), new Expected("daily_totals", day(wrong)));
  }

  /** An append sink: no key, no amount to compare; a batch lost and a batch written twice. */
  private static List<Expected> files(Path root) throws Exception {
    deleteTree(root.resolve("batch_id=1"));
    try (Stream<Path> files = Files.walk(root.resolve("batch_id=0"))) {
      Path parquet = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
      Files.copy(parquet, parquet.resolveSibling("part-00000-" + UUID.randomUUID() + "-c000.snappy.parquet"));
    }
    return List.of(new Expected("files_batch_gaps", "1"), new Expected("files_batch_single_write", "0"),
        new Expected("files_batch_rows", "0"));
  }

  private static List<Expected> kafka(String topic, Event victim) throws Exception {
    List<ConsumerRecord<String, String>> committed = TestKafka.read(topic, true);
    byte[] writer = committed.get(0).headers().lastHeader("eventproc.writer").value();
    long lastBatch = committed.stream()
        .mapToLong(r -> Long.parseLong(new String(r.headers().lastHeader("eventproc.batch").value(), StandardCharsets.UTF_8)))
        .max().orElseThrow();
    Properties p = new Properties();
    p.put("bootstrap.servers", TestKafka.servers());
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      // A batch of the sink's own writer, sent again outside its transaction: what a buggy retry would do.
      RecordHeaders again = headers(writer, 0, "0:-1");
      producer.send(new ProducerRecord<>(topic, null, victim.paymentId(), victim.json(), again)).get();
      producer.send(new ProducerRecord<>(topic, null, victim.paymentId(), victim.json(), again)).get();
      // A later batch whose previous batch has no record in the topic: lastBatch + 1 was lost.
      producer.send(new ProducerRecord<>(topic, null, victim.paymentId(), victim.json(),
          headers(writer, lastBatch + 2, "0:" + (lastBatch + 1)))).get();
    }
    return List.of(new Expected("kafka_duplicate_keys", victim.paymentId() + "@0"),
        new Expected("kafka_batch_gaps", String.valueOf(lastBatch + 1)));
  }

  private static RecordHeaders headers(byte[] writer, long batch, String previous) {
    RecordHeaders h = new RecordHeaders();
    h.add("eventproc.writer", writer);
    h.add("eventproc.batch", String.valueOf(batch).getBytes(StandardCharsets.UTF_8));
    h.add("eventproc.previous", previous.getBytes(StandardCharsets.UTF_8));
    return h;
  }

  private static String day(Event e) {
    return e.eventTime().atZone(ZoneOffset.UTC).toLocalDate().toString();
  }

  private static void deleteTree(Path p) throws Exception {
    try (Stream<Path> all = Files.walk(p)) {
      for (Path x : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
