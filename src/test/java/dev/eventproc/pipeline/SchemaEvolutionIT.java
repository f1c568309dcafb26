package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.cli.EventGenerator;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.EventRows;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Schema evolution on a running pipeline (issue 17): a pipeline runs on schema v1, stops, restarts on the
 * same checkpoint with a column added and a type widened (Delta and files: added only, they cannot widen a
 * type in place), and every sink holds both generations as the oracle says: rows written before the change read
 * back with null in the new column, and the latest-version stage's state written under v1 still drops
 * stale versions after the change (with the default state store and with RocksDB).
 */
class SchemaEvolutionIT {
  private static final String V1 = "id STRING, version BIGINT, amount INT, event_time TIMESTAMP";
  private static final String V2 = "id STRING, version BIGINT, note STRING, amount BIGINT, event_time TIMESTAMP";
  private static final String V2_ADD_ONLY = "id STRING, version BIGINT, note STRING, amount INT, event_time TIMESTAMP";
  private static final long WIDE = 5_000_000_000L;
  private static final AtomicLong FILES_WRITTEN = new AtomicLong();
  private final SparkSession spark = TestSpark.session();

  static Stream<Arguments> cases() {
    return Stream.concat(Stream.of(SinkType.values()).map(t -> Arguments.of(t, "default")),
        Stream.of(Arguments.of(SinkType.POSTGRES, "rocksdb")));
  }

  private static String row(String id, long version, long amount, String note) {
    return "{\"id\":\"" + id + "\",\"version\":" + version + ",\"amount\":" + amount
        + (note == null ? "" : ",\"note\":\"" + note + "\"") + ",\"event_time\":\"2026-03-01T10:00:00Z\"}";
  }

  @ParameterizedTest(name = "{0} state store {1}")
  @MethodSource("cases")
  void bothGenerationsReachTheSinkAfterARestartWithTheNewSchema(SinkType type, String store) throws Exception {
    String t = type.name().toLowerCase();
    Path dir = TestSpark.newDir("evolve-" + t + "-" + store);
    boolean widens = type != SinkType.DELTA && type != SinkType.FILES; // their formats cannot widen in place
    long bAmount = widens ? WIDE : 50;
    write(dir.resolve("in"), "v1", row("a", 2, 20, null), row("b", 1, 10, null), row("c", 1, 30, null));
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "evolve_" + t);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.schema", V1);
    c.put("source.key.columns", "id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.state.store", store);
    c.put("sink.type", t);
    c.put("sink.mode", type == SinkType.FILES ? "append" : "upsert");
    if (type != SinkType.FILES) {
      c.put("sink.key.columns", "id");
      c.put("sink.version.column", "version");
    }
    SinkConfigs.target(type, c, dir, "ev" + t, "t");
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), b -> { });

    // v2: a stale version of a (dropped by the state written under v1), a newer b with the new column and a
    // value only the wider type holds, a new key d.
    c.put("source.schema", widens ? V2 : V2_ADD_ONLY);
    write(dir.resolve("in"), "v2", row("a", 1, 11, "stale"), row("b", 2, bAmount, "wide"), row("d", 1, 40, "new"),
        row("c", 0, 31, "stale"));
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::duplicatesDropped).sum())
        .as("stale a and c dropped by the state written under v1").isEqualTo(2);

    Map<String, String> expected = new TreeMap<>(Map.of("a", "2:20:null", "b", "2:" + bAmount + ":wide", "c", "1:30:null",
        "d", "1:40:new"));
    assertThat(read(type, c, dir)).isEqualTo(expected);
  }

  /**
   * {@code eventproc generate --schema-v2-from}'s feed across the change: the messages before the first event of the
   * second schema are read on {@link EventGenerator#SCHEMA}, the rest after a restart on {@link EventGenerator#SCHEMA_V2}
   * (PostgreSQL upsert with deletes: it adds {@code channel} and widens {@code amount}); the table equals the generator's
   * own oracle, every column, v1 rows with a null channel.
   */
  @Test
  void aGeneratedFeedWithASecondSchemaEqualsItsOracleAcrossTheChange() throws Exception {
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(150, 11).withVersions(3, 0.2)
        .withMalformedRate(0.01).withSchemaV2From(225, true));
    List<EventGenerator.Message> sent = feed.messages();
    int split = 0;
    while (sent.get(split).malformed() || !sent.get(split).event().v2()) {
      split++;
    }
    Path dir = TestSpark.newDir("evolve-generated");
    Instant received = Instant.now().minusSeconds(3600);
    writeLines(dir.resolve("in").resolve("v1.json"), sent.subList(0, split), received);
    Map<String, String> c = CrashHarness.filesQuarantine(new LinkedHashMap<>(), dir);
    c.put("pipeline.name", "evolve_generated");
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "none");
    c.put("sink.type", "postgres");
    CrashHarness.upsert(c, "sink.");
    SinkConfigs.target(SinkType.POSTGRES, c, dir, "evgen", "payments");
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), b -> { });

    writeLines(dir.resolve("in").resolve("v2.json"), sent.subList(split, sent.size()), received.plusSeconds(1));
    c.put("source.schema", EventGenerator.SCHEMA_V2);
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), b -> { });

    Map<String, String> expected = new TreeMap<>();
    feed.oracle().latest().forEach((k, e) -> expected.put(k, EventRows.ofV2(e)));
    assertThat(expected.values()).as("the oracle holds rows of both schemas")
        .anyMatch(r -> r.endsWith("|null")).anyMatch(r -> !r.endsWith("|null"));
    Map<String, String> actual = new TreeMap<>();
    try (Connection conn = TestPostgres.connect(); Statement st = conn.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM \"" + c.get("sink.postgres.schema") + "\".payments")) {
      while (rs.next()) {
        assertThat(actual.put(rs.getString("payment_id"), EventRows.ofV2(rs))).isNull();
      }
    }
    assertThat(actual).isEqualTo(expected);
  }

  private static void writeLines(Path file, List<EventGenerator.Message> messages, Instant received) throws Exception {
    Files.createDirectories(file.getParent());
    Files.writeString(file, String.join("\n", messages.stream().map(EventGenerator.Message::payload).toList()) + "\n");
    Files.setLastModifiedTime(file, FileTime.from(received));
  }

  /**
   * A new file in the source directory, dated a second after the one before (the file source orders by
   * modification time) from the events' day, so that no fixed event time reads as ahead of it on any day.
   */
  private static void write(Path dir, String name, String... lines) throws Exception {
    Files.createDirectories(dir);
    Path f = dir.resolve(name + ".json");
    Files.writeString(f, String.join("\n", lines) + "\n");
    Files.setLastModifiedTime(f, FileTime.from(JsonFiles.FIXED_DAY_RECEIVED.plusSeconds(FILES_WRITTEN.incrementAndGet())));
  }

  private Map<String, String> read(SinkType type, Map<String, String> c, Path dir) throws Exception {
    return switch (type) {
      case DELTA -> fromRows(spark.read().format("delta").load(dir.resolve("table").toString()).collectAsList());
      case ICEBERG -> {
        IcebergSink.registerCatalog(spark, "evi", dir.resolve("iceberg").toString());
        yield fromRows(spark.table("evi.db.t").collectAsList());
      }
      case POSTGRES -> fromPostgres(c.get("sink.postgres.schema"));
      // Files of both generations: mergeSchema reads added columns; a widened type needs the new schema given.
      case FILES -> newestPerKey(spark.read().option("mergeSchema", "true").parquet(dir.resolve("files").toString())
          .collectAsList());
      case KAFKA -> fromTopic(c.get("sink.kafka.topic"));
    };
  }

  private static String value(Row r) {
    return r.<Long>getAs("version") + ":" + ((Number) r.getAs("amount")).longValue() + ":" + r.getAs("note");
  }

  private static Map<String, String> fromRows(List<Row> rows) {
    Map<String, String> out = new TreeMap<>();
    for (Row r : rows) {
      assertThat(out.put(r.getAs("id"), value(r))).as("one row per key").isNull();
    }
    return out;
  }

  /** Append-only files: the newest version per key. */
  private static Map<String, String> newestPerKey(List<Row> rows) {
    Map<String, Row> newest = new TreeMap<>();
    for (Row r : rows) {
      Row old = newest.get(r.<String>getAs("id"));
      if (old == null || r.<Long>getAs("version") > old.<Long>getAs("version")) {
        newest.put(r.getAs("id"), r);
      }
    }
    Map<String, String> out = new TreeMap<>();
    newest.forEach((k, r) -> out.put(k, value(r)));
    return out;
  }

  private static Map<String, String> fromPostgres(String schema) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT id, version, amount, note FROM \"" + schema + "\".t")) {
      while (rs.next()) {
        assertThat(out.put(rs.getString(1), rs.getLong(2) + ":" + rs.getLong(3) + ":" + rs.getString(4))).isNull();
      }
    }
    return out;
  }

  /** The last record per key; a record written before the change has no note field. */
  private static Map<String, String> fromTopic(String topic) throws Exception {
    Map<String, String> out = new TreeMap<>();
    ObjectMapper json = new ObjectMapper();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      JsonNode n = json.readTree(r.value());
      out.put(r.key(), n.path("version").asLong() + ":" + n.path("amount").asLong() + ":"
          + (n.hasNonNull("note") ? n.get("note").asText() : "null"));
    }
    return out;
  }
}
