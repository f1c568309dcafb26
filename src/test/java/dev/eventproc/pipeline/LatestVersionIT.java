package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.PaymentFiles;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Latest-version dedupe through a whole pipeline into every sink type: out-of-order versions of a key
 * end with the newest, a stale version arriving after a newer one is dropped, a tie on version is
 * broken by the tie-break column, a delete marker removes the row, null versions rank lowest, and
 * every batch's accounting closes.
 */
class LatestVersionIT {
  private static final String SCHEMA = "id STRING, version BIGINT, lsn BIGINT, op STRING, amount INT, event_time TIMESTAMP";
  private final SparkSession spark = TestSpark.session();

  /** Three files, read one per batch. Comments say what the stage must do with each line. */
  private static final List<List<String>> FILES = List.of(
      List.of(
          row("a", 2L, 1, "u", 20), // emitted: newest of a in this batch
          row("a", 1L, 1, "u", 10), // dropped: older than a v2 in the same batch
          row("b", 1L, 1, "u", 100),
          row("c", 1L, 5, "u", 300),
          row("d", 1L, 1, "u", 400),
          row("f", null, 1, "u", 600), // null version: emitted, f is not in state
          "{not json"), // quarantined
      List.of(
          row("a", 1L, 1, "u", 11), // dropped: stale, a v2 is in state
          row("b", 3L, 1, "u", 103),
          row("c", 1L, 7, "u", 307), // emitted: same version, higher lsn
          row("c", 1L, 6, "u", 306), // dropped: lsn 6 < 7
          row("d", 2L, 1, "d", 402), // emitted: a delete
          row("f", null, 1, "u", 601)), // dropped: a second null version
      List.of(
          row("b", 2L, 1, "u", 102), // dropped: stale, b v3 in state
          row("d", 1L, 1, "u", 401), // dropped: stale, older than the delete
          row("e", 1L, 1, "u", 500),
          row("f", 1L, 1, "u", 610))); // emitted: any version beats null

  /** What each sink must hold: key -> version:lsn:amount (d deleted). */
  private static final Map<String, String> EXPECTED = new TreeMap<>(Map.of(
      "a", "2:1:20", "b", "3:1:103", "c", "1:7:307", "e", "1:1:500", "f", "1:1:610"));

  private static String row(String id, Long version, int lsn, String op, int amount) {
    return "{\"id\":\"" + id + "\",\"version\":" + version + ",\"lsn\":" + lsn + ",\"op\":\"" + op + "\",\"amount\":" + amount
        + ",\"event_time\":\"2026-03-01T10:00:0" + lsn % 10 + "Z\"}";
  }

  @ParameterizedTest
  @EnumSource(SinkType.class)
  void outOfOrderVersionsEndWithTheNewestInEverySinkType(SinkType type) throws Exception {
    Path dir = TestSpark.newDir("latest-" + type.name().toLowerCase());
    JsonFiles.writeTextFiles(dir.resolve("in"), FILES, JsonFiles.FIXED_DAY_RECEIVED);
    String name = "latest_" + type.name().toLowerCase();
    Map<String, String> c = PaymentFiles.filesPipeline(name, dir, SCHEMA, "id");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.tiebreak.column", "lsn");
    c.put("stage.version.allow.null", "true"); // f's null versions are kept, ranking lowest
    c.put("sink.type", type.name().toLowerCase());
    c.put("sink.mode", type == SinkType.FILES ? "append" : "upsert");
    if (type != SinkType.FILES) {
      c.put("sink.key.columns", "id");
      c.put("sink.version.column", "version");
      c.put("sink.tiebreak.column", "lsn");
      c.put("sink.delete.condition", "op = 'd'");
    }
    SinkConfigs.target(type, c, dir, "lv", "t");
    String pgSchema = c.get("sink.postgres.schema");
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    Pipeline p = PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);

    Map<String, String> actual = switch (type) {
      case DELTA -> fromSpark(spark.read().format("delta").load(dir.resolve("table").toString()).collectAsList());
      case ICEBERG -> {
        IcebergSink.registerCatalog(spark, "lv", dir.resolve("iceberg").toString());
        yield fromSpark(spark.table("lv.db.t").collectAsList());
      }
      case POSTGRES -> fromPostgres(pgSchema);
      case FILES -> newestPerKey(spark.read().parquet(dir.resolve("files").toString()).collectAsList());
      case KAFKA -> fromTopic(c.get("sink.kafka.topic"));
    };
    assertThat(actual).isEqualTo(EXPECTED);
    if (type == SinkType.KAFKA) {
      // A topic cannot refuse an older record: d v1 arriving after d's delete must be dropped by the stage's state.
      List<String> d = TestKafka.read(c.get("sink.kafka.topic"), true).stream().filter(r -> "d".equals(r.key()))
          .map(ConsumerRecord::value).toList();
      assertThat(d).as("records of d: v1, then its tombstone, and nothing after").hasSize(2).last().isNull();
    }

    assertThat(batches).hasSize(3).allSatisfy(b -> assertThat(b.closes()).as("batch %d closes: %s", b.batchId(), b).isTrue());
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::duplicatesDropped).sum()).isEqualTo(6);
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::written).sum()).as("rows emitted by the stage").isEqualTo(10);
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::quarantined).sum()).isEqualTo(1);
    assertThat(p.listener().unbalancedBatches()).isZero();
  }

  private static Map<String, String> fromSpark(List<Row> rows) {
    Map<String, String> out = new TreeMap<>();
    for (Row r : rows) {
      assertThat(out.put(r.getAs("id"), value(r))).as("one row per key").isNull();
    }
    return out;
  }

  private static String value(Row r) {
    return r.<Long>getAs("version") + ":" + r.<Long>getAs("lsn") + ":" + r.<Integer>getAs("amount");
  }

  /** Append-only files: the newest version per key among the emitted rows, deletes removed. */
  private static Map<String, String> newestPerKey(List<Row> rows) {
    Map<String, Row> newest = new TreeMap<>();
    for (Row r : rows) {
      Row old = newest.get(r.<String>getAs("id"));
      if (old == null || order(r) > order(old)) {
        newest.put(r.getAs("id"), r);
      }
    }
    Map<String, String> out = new TreeMap<>();
    newest.forEach((k, r) -> {
      if (!"d".equals(r.getAs("op"))) {
        out.put(k, value(r));
      }
    });
    return out;
  }

  private static long order(Row r) {
    Long v = r.getAs("version");
    return (v == null ? -1 : v) * 1000 + r.<Long>getAs("lsn");
  }

  private static Map<String, String> fromPostgres(String schema) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, version, lsn, amount FROM \"" + schema + "\".t")) {
      while (rs.next()) {
        assertThat(out.put(rs.getString(1), rs.getLong(2) + ":" + rs.getLong(3) + ":" + rs.getInt(4))).isNull();
      }
    }
    return out;
  }

  /** A compacted topic's view: the last record per key, tombstones removing the key. */
  private static Map<String, String> fromTopic(String topic) {
    Map<String, String> out = new TreeMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      if (r.value() == null) {
        out.remove(r.key());
      } else {
        com.fasterxml.jackson.databind.JsonNode n;
        try {
          n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(r.value());
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
        out.put(r.key(), n.path("version").asLong() + ":" + n.path("lsn").asLong() + ":" + n.path("amount").asInt());
      }
    }
    return out;
  }
}
