package dev.eventproc.bench;

import static dev.eventproc.bench.EndToEndBench.CURRENCIES;
import static dev.eventproc.bench.EndToEndBench.JSON;
import static dev.eventproc.bench.EndToEndBench.PASSWORD_VARIABLE;
import static dev.eventproc.bench.EndToEndBench.PG_SCHEMA;
import static dev.eventproc.bench.EndToEndBench.SCHEMA;
import static dev.eventproc.bench.EndToEndBench.WATERMARK_DELAY;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventproc.bench.EndToEndBench.Settings;
import dev.eventproc.bench.EndToEndBench.Target;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.util.Jdbc;
import dev.eventproc.util.KafkaProducers;
import java.io.IOException;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.SourceProgress;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/** What both phases of {@link EndToEndBench} share: the feed and its check, config, topics, PostgreSQL, progress. */
final class E2eSupport {
  private E2eSupport() {}

  /**
   * Event {@code n} is for key {@code (n / 4) * 2 + n % 2} (two versions per key, four events apart)
   * with version {@code n}; every tenth event is sent twice. Tracks each key's newest version.
   */
  static final class Feed {
    private long n;
    private String key;
    private long keys;
    private long versionSum;

    /** The payloads of the next event (one, or two for a redelivered one), event time in epoch micros. */
    List<String> next(long eventMicros) {
      long k = (n / 4) * 2 + n % 2;
      key = String.format(Locale.ROOT, "p%010d", k);
      if (n % 4 < 2) {
        keys++;
      } else {
        versionSum -= n - 2; // this key's older version is replaced
      }
      versionSum += n;
      String payload = "{\"payment_id\":\"" + key + "\",\"account_id\":\"a" + (k % 1000) + "\",\"amount\":" + (n % 100_000) + "."
          + (n % 90 + 10) + ",\"currency\":\"" + CURRENCIES[(int) (n % CURRENCIES.length)] + "\",\"version\":" + n
          + ",\"op\":\"u\",\"event_time\":\"" + Instant.ofEpochSecond(eventMicros / 1_000_000, eventMicros % 1_000_000 * 1000) + "\"}";
      boolean twice = n % 10 == 9;
      n++;
      return twice ? List.of(payload, payload) : List.of(payload);
    }

    String key() {
      return key;
    }
  }

  static String checkSink(SparkSession spark, Settings s, Target target, Map<String, String> c, Feed feed) throws Exception {
    long rows;
    long versionSum;
    if (target == Target.POSTGRES) {
      try (Connection conn = connect(s); Statement st = conn.createStatement();
          ResultSet rs = st.executeQuery("SELECT count(*), coalesce(sum(version), 0) FROM " + PG_SCHEMA + "."
              + c.get("sink.postgres.table"))) {
        rs.next();
        rows = rs.getLong(1);
        versionSum = rs.getLong(2);
      }
    } else {
      Row r = spark.read().format("delta").load(c.get("sink.delta.path")).selectExpr("count(*)", "coalesce(sum(version), 0)").first();
      rows = r.getLong(0);
      versionSum = r.getLong(1);
    }
    boolean ok = rows == feed.keys && versionSum == feed.versionSum;
    if (!ok) {
      throw new IllegalStateException(String.format(Locale.ROOT, "e2e %s: the sink holds %,d rows (version sum %,d); "
          + "expected %,d keys at their newest version (sum %,d)", target, rows, versionSum, feed.keys, feed.versionSum));
    }
    return String.format(Locale.ROOT, "holds %,d keys, each at its newest version (checked)", rows);
  }

  // ---- plumbing ----------------------------------------------------------------------------

  static Map<String, String> config(Settings s, Target target, String phase, String topic) {
    String name = "e2e_" + target.name().toLowerCase(Locale.ROOT) + "_" + phase;
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", name);
    c.put("checkpoint.location", s.work().resolve(name).resolve("checkpoint").toString());
    c.put("source.type", "kafka");
    c.put("source.kafka.bootstrap.servers", s.kafkaServers());
    c.put("source.kafka.topic", topic);
    c.put("source.kafka.starting.offsets", "earliest");
    c.put("source.schema", SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.watermark.delay", WATERMARK_DELAY.toSeconds() + " seconds");
    c.put("source.max.future.skew", "1 second"); // events are stamped as they are sent: at most the delay
    c.put("sink.type", target.name().toLowerCase(Locale.ROOT));
    c.put("sink.mode", "upsert");
    c.put("sink.key.columns", "payment_id");
    c.put("sink.version.column", "version");
    if (target == Target.POSTGRES) {
      c.put("sink.postgres.url", s.pgUrl());
      if (s.pgUser() != null) {
        c.put("sink.postgres.user", s.pgUser());
      }
      if (s.pgPassword() != null) {
        c.put("sink.postgres.password", "${env:" + PASSWORD_VARIABLE + "}");
      }
      c.put("sink.postgres.schema", PG_SCHEMA);
      c.put("sink.postgres.table", phase);
    } else {
      c.put("sink.delta.path", s.work().resolve(name).resolve("table").toString());
      c.put("quarantine.delta.path", s.work().resolve(name).resolve("quarantine").toString());
    }
    return c;
  }

  /** The password reaches the config through a variable of its own, never through the map (or logs). */
  static PipelineConfig pipelineConfig(Map<String, String> c, Settings s) {
    return PipelineConfig.from(EventprocConfig.of(c, name -> PASSWORD_VARIABLE.equals(name) ? s.pgPassword() : System.getenv(name)));
  }

  static Connection connect(Settings s) throws Exception {
    return Jdbc.connect(s.pgUrl(), s.pgUser(), s.pgPassword());
  }

  /** A fresh schema for the bench's tables (its name is a constant, so the SQL is too). */
  static void resetPostgresSchema(Settings s) throws Exception {
    try (Connection conn = connect(s); Statement st = conn.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + PG_SCHEMA + " CASCADE");
      st.execute("CREATE SCHEMA " + PG_SCHEMA);
    }
  }

  static String newTopic(String servers, String phase) throws Exception {
    String topic = "eventproc-bench-e2e-" + phase + "-" + Long.toHexString(System.nanoTime());
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers))) {
      admin.createTopics(List.of(new NewTopic(topic, Optional.of(2), Optional.empty()))).all().get(60, TimeUnit.SECONDS);
    }
    return topic;
  }

  static KafkaProducer<String, String> producer(String servers, int lingerMillis) {
    Properties p = KafkaProducers.idempotent(servers, lingerMillis);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    return new KafkaProducer<>(p);
  }

  /** The query's batches that read rows, in order. */
  static List<StreamingQueryProgress> withData(StreamingQuery q) {
    List<StreamingQueryProgress> out = new ArrayList<>();
    for (StreamingQueryProgress p : q.recentProgress()) {
      if (p.numInputRows() > 0) {
        out.add(p);
      }
    }
    out.sort(Comparator.comparingLong(StreamingQueryProgress::batchId));
    return out;
  }

  /** When a batch ended: its trigger's start plus its duration (the sink commit is inside it). */
  static long end(StreamingQueryProgress p) {
    Long took = p.durationMs().get("triggerExecution");
    return Instant.parse(p.timestamp()).toEpochMilli() + (took == null ? 0 : took);
  }

  /** The Kafka source's end offsets of a batch, by partition of {@code topic}. */
  static Map<Integer, Long> endOffsets(StreamingQueryProgress p, String topic) {
    Map<Integer, Long> out = new HashMap<>();
    for (SourceProgress source : p.sources()) {
      try {
        JsonNode partitions = JSON.readTree(source.endOffset()).get(topic);
        if (partitions == null) {
          continue;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = partitions.fields(); it.hasNext();) {
          Map.Entry<String, JsonNode> e = it.next();
          out.put(Integer.parseInt(e.getKey()), e.getValue().asLong());
        }
      } catch (IOException e) {
        throw new IllegalStateException("e2e: unreadable Kafka offsets in progress: " + source.endOffset(), e);
      }
    }
    return out;
  }
}
