package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
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
 * NUL characters (U+0000) through a pipeline into every sink type. The rule: a key holding U+0000 goes
 * to quarantine as {@code nul-in-key} at parse time (a key is never changed, so two keys can never
 * become one); anywhere else, nested values included, the row is written, as it is by every sink but
 * PostgreSQL, which stores neither U+0000 in text nor its escape in jsonb and writes U+FFFD instead.
 * No batch fails for it.
 */
class NulInputIT {
  private static final String SCHEMA = "id STRING, version BIGINT, note STRING, tags ARRAY<STRING>, "
      + "attrs MAP<STRING, STRING>, detail STRUCT<text: STRING>, event_time TIMESTAMP";
  private static final String NUL = "\\u0000";
  private final SparkSession spark = TestSpark.session();

  private static String event(String id, String text, int second) {
    return "{\"id\":\"" + id + "\",\"version\":1,\"note\":\"" + text + "\",\"tags\":[\"" + text + "\"],\"attrs\":{\""
        + text + "\":\"" + text + "\"},\"detail\":{\"text\":\"" + text + "\"},\"event_time\":\"2026-03-01T10:00:0" + second + "Z\"}";
  }

  @ParameterizedTest
  @EnumSource(SinkType.class)
  void nulsAreWrittenOrQuarantinedByOneRuleInEverySinkType(SinkType type) throws Exception {
    Path dir = TestSpark.newDir("nul-" + type.name().toLowerCase());
    String keyWithNul = event("x" + NUL, "k", 2);
    SurprisingInputIT.files(dir.resolve("in"), List.of(List.of(
        event("a", "a" + NUL + "b", 1), // written: NUL in text and in every nested kind
        keyWithNul, // quarantined: a key is never changed
        event("x\\ufffd", "r", 3))), // written: the key U+0000 would have become in PostgreSQL
        List.of(Instant.parse("2026-03-01T10:01:00Z")));
    Map<String, String> c = SurprisingInputIT.config(dir, "nul_" + type.name().toLowerCase());
    c.put("source.schema", SCHEMA);
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("sink.type", type.name().toLowerCase());
    c.remove("sink.delta.path");
    c.put("sink.mode", type == SinkType.FILES ? "append" : "upsert");
    if (type != SinkType.FILES) {
      c.put("sink.key.columns", "id");
      c.put("sink.version.column", "version");
    }
    SinkConfigs.target(type, c, dir, "nul", "t");
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);

    assertThat(batches).allSatisfy(b -> assertThat(b.closes()).as("batch %d: %s", b.batchId(), b).isTrue());
    Map<String, String> quarantined = new TreeMap<>();
    for (Row r : spark.read().format("delta").load(dir.resolve("checkpoint-quarantine").toString())
        .select("raw_value", "quarantine_reason").collectAsList()) {
      quarantined.put(new String((byte[]) r.get(0), StandardCharsets.UTF_8), r.getString(1));
    }
    assertThat(quarantined).containsExactly(Map.entry(keyWithNul, "nul-in-key"));

    String stored = type == SinkType.POSTGRES ? "a\uFFFDb" : "a\u0000b";
    String nested = "[" + stored + "]|{" + stored + "=" + stored + "}|" + stored;
    Map<String, String> expected = Map.of("a", stored + "|" + nested, "x\uFFFD", "r|[r]|{r=r}|r");
    assertThat(read(type, c, dir)).isEqualTo(expected);
  }

  /** id -> note|tags|attrs|detail.text as each sink stores them. */
  private Map<String, String> read(SinkType type, Map<String, String> c, Path dir) throws Exception {
    Map<String, String> out = new TreeMap<>();
    switch (type) {
      case DELTA, ICEBERG, FILES -> {
        List<Row> rows;
        if (type == SinkType.DELTA) {
          rows = spark.read().format("delta").load(dir.resolve("table").toString()).collectAsList();
        } else if (type == SinkType.FILES) {
          rows = spark.read().parquet(dir.resolve("files").toString()).collectAsList();
        } else {
          IcebergSink.registerCatalog(spark, "nul", dir.resolve("iceberg").toString());
          rows = spark.table("nul.db.t").collectAsList();
        }
        for (Row r : rows) {
          out.put(r.getAs("id"), r.<String>getAs("note") + "|" + r.getList(r.fieldIndex("tags")) + "|"
              + r.getJavaMap(r.fieldIndex("attrs")) + "|" + r.<Row>getAs("detail").getString(0));
        }
      }
      case POSTGRES -> {
        try (Connection conn = TestPostgres.connect(); Statement s = conn.createStatement();
            ResultSet rs = s.executeQuery("SELECT id, note, tags::text, attrs::text, detail::text FROM \""
                + c.get("sink.postgres.schema") + "\".t")) {
          ObjectMapper json = new ObjectMapper();
          while (rs.next()) {
            out.put(rs.getString(1), rs.getString(2) + "|" + List.of(json.readTree(rs.getString(3)).get(0).asText()) + "|"
                + Map.of(json.readTree(rs.getString(4)).fieldNames().next(), json.readTree(rs.getString(4)).elements().next().asText())
                + "|" + json.readTree(rs.getString(5)).get("text").asText());
          }
        }
      }
      case KAFKA -> {
        ObjectMapper json = new ObjectMapper();
        for (ConsumerRecord<String, String> r : TestKafka.read(c.get("sink.kafka.topic"), true)) {
          JsonNode n = json.readTree(r.value());
          out.put(r.key(), n.get("note").asText() + "|" + List.of(n.get("tags").get(0).asText()) + "|"
              + Map.of(n.get("attrs").fieldNames().next(), n.get("attrs").elements().next().asText()) + "|"
              + n.get("detail").get("text").asText());
        }
      }
      default -> throw new IllegalStateException(type.name());
    }
    return out;
  }
}
