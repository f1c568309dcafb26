package dev.eventproc.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.Pipeline;
import dev.eventproc.pipeline.PipelineConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
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
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.SourceProgress;
import org.apache.spark.sql.streaming.StateOperatorProgress;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * End to end through the pipeline a user runs ({@code eventproc run}'s config, source, stage, sink,
 * ledger): a Kafka topic, latest-version dedupe, then a PostgreSQL upsert or a Delta MERGE. Two phases
 * per sink, each on a fresh topic and table:
 *
 * <ol>
 *   <li><b>Sustained rate.</b> A backlog of events is drained in batches of a fixed size; the rate is
 *       the rows of every batch after the first over the time from the first batch's end to the
 *       last's. State per batch shows whether it stays flat.
 *   <li><b>Latency at a fixed rate.</b> Events are produced at a fixed rate while the pipeline runs
 *       batches back to back. An event's latency is the end of the batch that committed it (Spark's
 *       trigger start plus its duration: after the sink's commit) minus the time it was sent; the
 *       first seconds (warm-up) are not counted.
 * </ol>
 *
 * <p>The feed is a change stream: every key gets two versions, four events apart, and every tenth
 * event is delivered twice. Event time is the send time (phase 2) or advances at the latency rate
 * (phase 1), so the watermark moves and state is bounded. After each phase the sink is compared with
 * what was sent: one row per key, each at its newest version.
 */
public final class EndToEndBench {
  static final String SUITE = "e2e";
  /** Spark DDL of the feed. */
  static final String SCHEMA = "payment_id STRING, account_id STRING, amount DECIMAL(12,2), currency STRING, "
      + "version BIGINT, op STRING, event_time TIMESTAMP";
  private static final String PG_SCHEMA = "eventproc_bench_e2e";
  private static final String PASSWORD_VARIABLE = "EVENTPROC_BENCH_E2E_PG_PASSWORD";
  private static final Duration WATERMARK_DELAY = Duration.ofSeconds(5);
  private static final Duration WARM_UP = Duration.ofSeconds(5);
  private static final String[] CURRENCIES = {"EUR", "USD", "GBP", "CHF"};
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The sink at the end of the pipeline. */
  public enum Target {
    POSTGRES, DELTA
  }

  /**
   * What to run.
   *
   * @param kafkaServers brokers for the feed's topics
   * @param events events of the sustained-rate phase (duplicates come on top)
   * @param batchEvents Kafka offsets per batch in the sustained-rate phase
   * @param rate events per second in the latency phase
   * @param latencyRun how long the latency phase produces, after its warm-up; zero skips the phase
   * @param pgUrl PostgreSQL for the postgres target
   * @param pgUser its user
   * @param pgPassword its password, or null
   * @param work a directory for checkpoints and Delta tables
   */
  public record Settings(String kafkaServers, long events, int batchEvents, int rate, Duration latencyRun, String pgUrl,
      String pgUser, String pgPassword, Path work) {}

  private EndToEndBench() {}

  /** Runs both phases for {@code target} and adds results, targets and notes to {@code report}. */
  public static void run(SparkSession spark, Settings s, Target target, BenchReport report) throws Exception {
    String label = target.name().toLowerCase(Locale.ROOT);
    if (target == Target.POSTGRES) {
      resetPostgresSchema(s);
    }
    String previousRetention = spark.conf().get("spark.sql.streaming.numRecentProgressUpdates", null);
    spark.conf().set("spark.sql.streaming.numRecentProgressUpdates", "100000"); // keep every batch's progress
    try {
      Sustained sustained = sustained(spark, s, target);
      report.add(new BenchResult(SUITE, "kafka -> dedupe-latest -> " + label, sustained.rows, sustained.seconds,
          "backlog drained in batches of " + s.batchEvents() + " offsets, after the first batch"));
      // A rate that only holds while state grows is not sustained: it counts as 0.
      report.target(new BenchTarget(SUITE, label + ": sustained rate, state flat (else 0)",
          sustained.flat ? sustained.rows / sustained.seconds : 0, 100_000, false, "events/s"));
      report.note(String.format(Locale.ROOT, "e2e %s: sustained %,.0f events/s; state rows per batch %s (bound %,d): %s; sink %s",
          label, sustained.rows / sustained.seconds, sustained.state, sustained.stateBound, sustained.flat ? "flat" : "NOT FLAT",
          sustained.sinkCheck));
      if (!s.latencyRun().isZero()) {
        Latency latency = latency(spark, s, target);
        report.target(new BenchTarget(SUITE, label + ": p99 event-to-visible at " + s.rate() + "/s", latency.p99, 5000, true, "ms"));
        report.note(String.format(Locale.ROOT, "e2e %s at %,d events/s for %ds: latency p50 %,d ms, p99 %,d ms, max %,d ms over %,d events; "
            + "%d batches; drained %,d ms after the last send; state rows %s; sink %s", label, s.rate(), s.latencyRun().toSeconds(),
            latency.p50, latency.p99, latency.max, latency.events, latency.batches, latency.drainMillis, latency.stateRange,
            latency.sinkCheck));
      }
    } finally {
      if (previousRetention == null) {
        spark.conf().unset("spark.sql.streaming.numRecentProgressUpdates");
      } else {
        spark.conf().set("spark.sql.streaming.numRecentProgressUpdates", previousRetention);
      }
    }
  }

  // ---- phase 1: sustained rate -------------------------------------------------------------

  private record Sustained(long rows, double seconds, List<Long> state, long stateBound, boolean flat, String sinkCheck) {}

  private static Sustained sustained(SparkSession spark, Settings s, Target target) throws Exception {
    String topic = newTopic(s.kafkaServers(), "sustained");
    Feed feed = new Feed();
    long eventMicrosStep = 1_000_000L / s.rate();
    long base = Instant.parse("2026-01-01T00:00:00Z").toEpochMilli() * 1000;
    try (KafkaProducer<String, String> producer = producer(s.kafkaServers(), 20)) {
      AtomicReference<Exception> failed = new AtomicReference<>();
      for (long n = 0; n < s.events(); n++) {
        for (String payload : feed.next(base + n * eventMicrosStep)) {
          producer.send(new ProducerRecord<>(topic, feed.key(), payload), (meta, e) -> {
            if (e != null) {
              failed.compareAndSet(null, e);
            }
          });
        }
      }
      producer.flush();
      if (failed.get() != null) {
        throw new IllegalStateException("e2e: could not produce the backlog: " + failed.get().getMessage(), failed.get());
      }
    }
    Map<String, String> c = config(s, target, "sustained", topic);
    c.put("trigger", "available-now");
    c.put("source.kafka.max.offsets.per.trigger", String.valueOf(s.batchEvents()));
    Pipeline p = Pipeline.start(spark, pipelineConfig(c, s), null);
    try {
      p.query().awaitTermination();
    } finally {
      p.removeListener();
    }
    List<StreamingQueryProgress> batches = withData(p.query());
    if (batches.size() < 2) {
      throw new IllegalStateException("e2e: the backlog fit in one batch; give more --rows or a smaller --e2e-batch");
    }
    long rows = 0;
    for (StreamingQueryProgress b : batches.subList(1, batches.size())) {
      rows += b.numInputRows();
    }
    double seconds = (end(batches.get(batches.size() - 1)) - end(batches.get(0))) / 1000.0;
    List<Long> state = batches.stream().map(EndToEndBench::stateRows).toList();
    // Keys live in state from their first event until the watermark passes their newest one: about
    // (delay + one batch of event time) x keys per event-second (half the event rate: two versions per key).
    long batchEventSeconds = Math.max(1, s.batchEvents() * eventMicrosStep / 1_000_000);
    long bound = (WATERMARK_DELAY.toSeconds() + batchEventSeconds + 1) * s.rate() / 2;
    List<Long> tail = state.subList(state.size() / 2, state.size());
    boolean flat = tail.stream().allMatch(n -> n <= bound);
    return new Sustained(rows, seconds, state, bound, flat, checkSink(spark, s, target, c, feed));
  }

  // ---- phase 2: latency at a fixed rate ----------------------------------------------------

  private record Latency(long p50, long p99, long max, long events, int batches, long drainMillis, String stateRange,
      String sinkCheck) {}

  private static Latency latency(SparkSession spark, Settings s, Target target) throws Exception {
    String topic = newTopic(s.kafkaServers(), "latency");
    Map<String, String> c = config(s, target, "latency", topic);
    c.put("trigger", "processing-time");
    c.put("trigger.interval", "0");
    Pipeline p = Pipeline.start(spark, pipelineConfig(c, s), null);
    Feed feed = new Feed();
    SendLog sent;
    long measureFrom;
    try {
      long total = (WARM_UP.toSeconds() + s.latencyRun().toSeconds()) * s.rate();
      sent = new SendLog(2, total * 11 / 10 + 10);
      long start = System.currentTimeMillis();
      measureFrom = start + WARM_UP.toMillis();
      AtomicReference<Exception> failed = new AtomicReference<>();
      try (KafkaProducer<String, String> producer = producer(s.kafkaServers(), 5)) {
        long n = 0;
        while (n < total) {
          long due = Math.min(total, (System.currentTimeMillis() - start) * s.rate() / 1000);
          for (; n < due; n++) {
            long now = System.currentTimeMillis();
            for (String payload : feed.next(now * 1000)) {
              producer.send(new ProducerRecord<>(topic, null, now, feed.key(), payload), (meta, e) -> {
                if (e != null) {
                  failed.compareAndSet(null, e);
                } else {
                  sent.record(meta.partition(), meta.offset(), now);
                }
              });
            }
          }
          if (p.query().exception().isDefined()) {
            throw new IllegalStateException("e2e: the pipeline failed", p.query().exception().get());
          }
          Thread.sleep(2);
        }
        producer.flush();
      }
      if (failed.get() != null) {
        throw new IllegalStateException("e2e: could not produce: " + failed.get().getMessage(), failed.get());
      }
      awaitConsumed(p.query(), topic, sent, Duration.ofMinutes(5));
    } finally {
      p.query().stop();
      p.removeListener();
    }
    List<StreamingQueryProgress> batches = withData(p.query());
    long[] latencies = sent.latencies(batches, topic, measureFrom);
    Arrays.sort(latencies);
    if (latencies.length == 0) {
      throw new IllegalStateException("e2e: no event was sent after the warm-up");
    }
    long lastEnd = end(batches.get(batches.size() - 1));
    List<Long> state = batches.stream().map(EndToEndBench::stateRows).toList();
    List<Long> tail = state.subList(state.size() / 2, state.size());
    String range = tail.isEmpty() ? "-" : String.format(Locale.ROOT, "%,d-%,d in the second half",
        tail.stream().mapToLong(Long::longValue).min().orElse(0), tail.stream().mapToLong(Long::longValue).max().orElse(0));
    return new Latency(percentile(latencies, 0.50), percentile(latencies, 0.99), latencies[latencies.length - 1], latencies.length,
        batches.size(), lastEnd - sent.lastSendMillis(), range, checkSink(spark, s, target, c, feed));
  }

  private static long percentile(long[] sorted, double q) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }

  private static void awaitConsumed(StreamingQuery q, String topic, SendLog sent, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (q.exception().isDefined()) {
        throw new IllegalStateException("e2e: the pipeline failed", q.exception().get());
      }
      StreamingQueryProgress last = q.lastProgress();
      if (last != null && sent.coveredBy(endOffsets(last, topic))) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("e2e: the pipeline did not catch up within " + timeout);
  }

  /**
   * Send times by partition and offset (offsets of a fresh topic written without transactions are
   * dense from 0), filled from the producer's callbacks.
   */
  private static final class SendLog {
    private final long[][] sentAt;
    private final long[] count;
    private volatile long lastSend;

    SendLog(int partitions, long capacity) {
      sentAt = new long[partitions][(int) Math.min(Integer.MAX_VALUE - 8, capacity)];
      count = new long[partitions];
    }

    synchronized void record(int partition, long offset, long millis) {
      if (partition >= sentAt.length || offset >= sentAt[partition].length) {
        throw new IllegalStateException("e2e: unexpected partition/offset " + partition + "/" + offset);
      }
      sentAt[partition][(int) offset] = millis;
      count[partition] = Math.max(count[partition], offset + 1);
      lastSend = Math.max(lastSend, millis);
    }

    long lastSendMillis() {
      return lastSend;
    }

    synchronized boolean coveredBy(Map<Integer, Long> end) {
      for (int part = 0; part < count.length; part++) {
        if (count[part] > end.getOrDefault(part, 0L)) {
          return false;
        }
      }
      return true;
    }

    /** Per event sent at or after {@code from}: end of the batch that read it minus its send time. */
    synchronized long[] latencies(List<StreamingQueryProgress> batches, String topic, long from) {
      List<StreamingQueryProgress> ordered = new ArrayList<>(batches);
      ordered.sort(Comparator.comparingLong(StreamingQueryProgress::batchId));
      long[] out = new long[(int) Arrays.stream(count).sum()];
      int n = 0;
      long[] done = new long[count.length];
      for (StreamingQueryProgress b : ordered) {
        long visible = end(b);
        for (Map.Entry<Integer, Long> e : endOffsets(b, topic).entrySet()) {
          int part = e.getKey();
          for (long off = done[part]; off < Math.min(e.getValue(), count[part]); off++) {
            long at = sentAt[part][(int) off];
            if (at >= from) {
              out[n++] = visible - at;
            }
          }
          done[part] = Math.max(done[part], e.getValue());
        }
      }
      return Arrays.copyOf(out, n);
    }
  }

  // ---- the feed and its check --------------------------------------------------------------

  /**
   * Event {@code n} is for key {@code (n / 4) * 2 + n % 2} (two versions per key, four events apart)
   * with version {@code n}; every tenth event is sent twice. Tracks each key's newest version.
   */
  private static final class Feed {
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

  private static String checkSink(SparkSession spark, Settings s, Target target, Map<String, String> c, Feed feed) throws Exception {
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

  private static Map<String, String> config(Settings s, Target target, String phase, String topic) {
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
  private static PipelineConfig pipelineConfig(Map<String, String> c, Settings s) {
    return PipelineConfig.from(EventprocConfig.of(c, name -> PASSWORD_VARIABLE.equals(name) ? s.pgPassword() : System.getenv(name)));
  }

  private static Connection connect(Settings s) throws Exception {
    Properties props = new Properties();
    if (s.pgUser() != null) {
      props.setProperty("user", s.pgUser());
    }
    if (s.pgPassword() != null) {
      props.setProperty("password", s.pgPassword());
    }
    return DriverManager.getConnection(s.pgUrl(), props);
  }

  /** A fresh schema for the bench's tables (its name is a constant, so the SQL is too). */
  private static void resetPostgresSchema(Settings s) throws Exception {
    try (Connection conn = connect(s); Statement st = conn.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + PG_SCHEMA + " CASCADE");
      st.execute("CREATE SCHEMA " + PG_SCHEMA);
    }
  }

  private static String newTopic(String servers, String phase) throws Exception {
    String topic = "eventproc-bench-e2e-" + phase + "-" + Long.toHexString(System.nanoTime());
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, servers))) {
      admin.createTopics(List.of(new NewTopic(topic, Optional.of(2), Optional.empty()))).all().get(60, TimeUnit.SECONDS);
    }
    return topic;
  }

  private static KafkaProducer<String, String> producer(String servers, int lingerMillis) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, String.valueOf(lingerMillis));
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(256 * 1024));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return new KafkaProducer<>(p);
  }

  /** The query's batches that read rows, in order. */
  private static List<StreamingQueryProgress> withData(StreamingQuery q) {
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
  private static long end(StreamingQueryProgress p) {
    Long took = p.durationMs().get("triggerExecution");
    return Instant.parse(p.timestamp()).toEpochMilli() + (took == null ? 0 : took);
  }

  private static long stateRows(StreamingQueryProgress p) {
    long n = 0;
    for (StateOperatorProgress op : p.stateOperators()) {
      n += op.numRowsTotal();
    }
    return n;
  }

  /** The Kafka source's end offsets of a batch, by partition of {@code topic}. */
  private static Map<Integer, Long> endOffsets(StreamingQueryProgress p, String topic) {
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
