package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.cli.EventGenerator.Message;
import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestSpark;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** Quarantine accounting under heavy bad input, the windowed aggregate stage, and the checkpoint guard. */
class StagesIT {
  private final SparkSession spark = TestSpark.session();

  private static Map<String, String> filesPipeline(Path dir, String name) {
    Map<String, String> c = PipelineIT.base(dir, name);
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.files.max.files.per.trigger", "1");
    return c;
  }

  private static List<ProgressListener.BatchStats> run(SparkSession spark, Map<String, String> c) {
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);
    return batches;
  }

  @Test
  void tenPercentMalformedKeepsRunningQuarantinesExactlyThoseAndEveryBatchCloses() throws Exception {
    Path dir = TestSpark.newDir("stages-malformed");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(1500, 21).withMalformedRate(0.10));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 4);
    Map<String, String> c = filesPipeline(dir, "malformed");
    c.put("stage.type", "dedupe-first-seen");
    c.put("sink.mode", "insert-if-absent");
    c.put("metrics.file", dir.resolve("metrics.jsonl").toString());

    List<ProgressListener.BatchStats> batches = run(spark, c);

    assertThat(batches).hasSizeGreaterThanOrEqualTo(4)
        .allSatisfy(b -> assertThat(b.closes()).as("batch %d: %s", b.batchId(), b).isTrue());
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::inputRows).sum()).isEqualTo(feed.messages().size());
    Map<String, Integer> expected = new TreeMap<>();
    for (Message m : feed.messages()) {
      if (m.malformed()) {
        expected.merge(m.payload(), 1, Integer::sum);
      }
    }
    assertThat(expected.values().stream().mapToInt(Integer::intValue).sum()).as("about 10% malformed")
        .isGreaterThan(feed.messages().size() / 12);
    Map<String, Integer> quarantined = new TreeMap<>();
    for (Row r : spark.read().format("delta").load(dir.resolve("checkpoint-quarantine").toString()).select("raw_value").collectAsList()) {
      quarantined.merge(new String((byte[]) r.get(0), java.nio.charset.StandardCharsets.UTF_8), 1, Integer::sum);
    }
    assertThat(quarantined).isEqualTo(expected);
    assertThat(spark.read().format("delta").load(dir.resolve("table").toString()).count()).isEqualTo(feed.oracle().firstSeen().size());

    List<String> lines = Files.readAllLines(dir.resolve("metrics.jsonl"));
    assertThat(lines).hasSize(batches.size()).allSatisfy(l -> assertThat(l).contains("\"pipeline\":\"malformed\"", "\"accounting_closes\":true"));
  }

  @Test
  void windowedAggregatesOverDuplicatesEqualTheDeduplicatedOracleAndACrashChangesNothing() throws Exception {
    Path dir = TestSpark.newDir("stages-aggregate");
    EventGenerator.Spec p = EventGenerator.Spec.payments(3000, 8);
    // 200 ms apart: about ten minutes of event time, so the watermark closes most one-minute windows.
    EventGenerator.Output feed = EventGenerator.generate(new EventGenerator.Spec(p.keys(), 1, p.duplicateRate(), p.outOfOrderRate(),
        p.maxLateness(), 0, 0, p.seed(), p.start(), java.time.Duration.ofMillis(200)));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 4);
    Map<String, String> c = filesPipeline(dir, "windows");
    c.put("stage.type", "aggregate");
    c.put("stage.watermark.delay", "3 minutes");
    c.put("stage.window.duration", "1 minute");
    c.put("stage.group.columns", "currency");
    c.put("stage.aggregates", "count(*) AS events, sum(amount) AS total");
    c.put("stage.aggregate.dedupe", "first-seen");
    c.put("sink.mode", "upsert");
    c.put("sink.key.columns", "window_start,currency");

    System.setProperty(FaultInjection.PROPERTY, FaultInjection.Point.AFTER_COMMIT.spec() + "@1/windows:throw");
    try {
      assertThatThrownBy(() -> run(spark, c)).hasStackTraceContaining("injected fault");
    } finally {
      System.clearProperty(FaultInjection.PROPERTY);
    }
    List<ProgressListener.BatchStats> batches = run(spark, c);
    String watermark = batches.get(batches.size() - 1).watermark();
    Instant emittedUpTo = Instant.parse(watermark);

    // The oracle: first-seen events per (minute, currency), for windows the watermark has closed.
    Map<String, String> expected = new TreeMap<>();
    Map<String, long[]> counts = new TreeMap<>();
    Map<String, BigDecimal> sums = new TreeMap<>();
    for (Event e : feed.oracle().firstSeen().values()) {
      Instant start = e.eventTime().truncatedTo(ChronoUnit.MINUTES);
      if (!start.plus(1, ChronoUnit.MINUTES).isAfter(emittedUpTo)) {
        String k = start + "/" + e.currency();
        counts.computeIfAbsent(k, x -> new long[1])[0]++;
        sums.merge(k, e.amount(), BigDecimal::add);
      }
    }
    counts.forEach((k, n) -> expected.put(k, n[0] + ":" + sums.get(k).toPlainString()));
    assertThat(expected).hasSizeGreaterThan(8);

    Map<String, String> actual = new TreeMap<>();
    for (Row r : spark.read().format("delta").load(dir.resolve("table").toString())
        .selectExpr("window_start", "currency", "events", "CAST(total AS STRING)").collectAsList()) {
      String k = r.getTimestamp(0).toInstant() + "/" + r.getString(1);
      assertThat(actual.put(k, r.getLong(2) + ":" + r.getString(3))).as("window %s once", k).isNull();
    }
    assertThat(actual).isEqualTo(expected);
  }

  @Test
  void latestVersionDedupeInRocksDbOverGeneratedUpdatesAndDeletesEqualsTheOracle() throws Exception {
    Path dir = TestSpark.newDir("stages-rocksdb");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(800, 13).withVersions(4, 0.2));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 4);
    Map<String, String> c = filesPipeline(dir, "latest_rocks");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.state.store", "rocksdb");
    c.put("sink.mode", "upsert");
    c.put("sink.version.column", "version");
    c.put("sink.delete.condition", "op = 'd'");

    List<ProgressListener.BatchStats> batches = run(spark, c);

    Map<String, String> expected = new TreeMap<>();
    feed.oracle().latest().forEach((k, e) -> expected.put(k, e.version() + ":" + e.amount().toPlainString()));
    Map<String, String> actual = new TreeMap<>();
    for (Row r : spark.read().format("delta").load(dir.resolve("table").toString())
        .selectExpr("payment_id", "concat(version, ':', CAST(amount AS STRING))").collectAsList()) {
      actual.put(r.getString(0), r.getString(1));
    }
    assertThat(actual).isEqualTo(expected);
    assertThat(batches).allSatisfy(b -> assertThat(b.closes()).as("batch %d: %s", b.batchId(), b).isTrue());
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::duplicatesDropped).sum()).isPositive();
    assertThat(Files.readString(dir.resolve("checkpoint/offsets/0"))).contains("RocksDBStateStoreProvider");
    assertThat(spark.conf().get("spark.sql.streaming.stateStore.providerClass", "unset")).as("session left as it was")
        .doesNotContain("RocksDB");
  }

  @Test
  void aUsedCheckpointRefusesAnotherKeyOrSchemaUntilReset() throws Exception {
    Path dir = TestSpark.newDir("stages-guard");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(200, 3).withMalformedRate(0));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 1);
    Map<String, String> c = filesPipeline(dir, "guarded");
    c.put("stage.type", "dedupe-first-seen");
    c.put("sink.mode", "insert-if-absent");
    run(spark, c);

    Map<String, String> otherKey = new TreeMap<>(c);
    otherKey.put("source.key.columns", "account_id");
    otherKey.put("sink.key.columns", "account_id");
    assertThatThrownBy(() -> run(spark, otherKey)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.key.columns was 'payment_id', now 'account_id'")
        .hasMessageContaining("--reset-checkpoint");

    Map<String, String> otherSchema = new TreeMap<>(c);
    otherSchema.put("source.schema", EventGenerator.SCHEMA.replace("amount DECIMAL(12,2)", "amount DOUBLE"));
    assertThatThrownBy(() -> run(spark, otherSchema)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.schema was").hasMessageContaining("amount DOUBLE");

    // The same pipeline restarts fine; after a reset the new key runs from the start.
    run(spark, c);
    CheckpointGuard.reset(spark, PipelineConfig.from(EventprocConfig.of(otherKey)));
    Map<String, String> fresh = new TreeMap<>(otherKey);
    fresh.put("sink.delta.path", dir.resolve("table-by-account").toString());
    fresh.put("sink.mode", "insert-if-absent");
    List<ProgressListener.BatchStats> batches = run(spark, fresh);
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::inputRows).sum()).isEqualTo(feed.messages().size());
  }
}
