package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.PaymentFiles;
import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The streaming stage under surprising input (issue 21): each event that cannot be used goes to
 * quarantine with its reason, none is dropped without a trace, and none stops the pipeline.
 */
class SurprisingInputIT {
  private static final String SCHEMA = "id STRING, version BIGINT, lsn BIGINT, currency STRING, amount INT, event_time TIMESTAMP";
  private final SparkSession spark = TestSpark.session();

  static String event(String id, Long version, String currency, int amount, Instant time) {
    return "{\"id\":\"" + id + "\",\"version\":" + version + ",\"lsn\":1" + (currency == null ? "" : ",\"currency\":\"" + currency + "\"")
        + ",\"amount\":" + amount + ",\"event_time\":\"" + time + "\"}";
  }

  /** One file per list, each with the given modification time (when the source received it). */
  static void files(Path dir, List<List<String>> lines, List<Instant> modified) {
    try {
      Files.createDirectories(dir);
      for (int f = 0; f < lines.size(); f++) {
        Path file = dir.resolve(String.format("part-%04d.json", f));
        Files.writeString(file, String.join("\n", lines.get(f)) + "\n", StandardCharsets.UTF_8);
        Files.setLastModifiedTime(file, FileTime.from(modified.get(f)));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Map<String, String> config(Path dir, String name) {
    Map<String, String> c = PaymentFiles.filesPipeline(name, dir, SCHEMA, "id");
    c.put("stage.watermark.delay", "5 minutes");
    c.put("sink.type", "delta");
    c.put("sink.delta.path", dir.resolve("table").toString());
    return c;
  }

  private List<ProgressListener.BatchStats> run(Map<String, String> c) {
    List<ProgressListener.BatchStats> batches = runAnyStage(c);
    assertThat(batches).allSatisfy(b -> assertThat(b.closes()).as("batch %d: %s", b.batchId(), b).isTrue());
    return batches;
  }

  /** Without the accounting check, which an aggregate (many rows in, one out) does not close per row. */
  private List<ProgressListener.BatchStats> runAnyStage(Map<String, String> c) {
    List<ProgressListener.BatchStats> batches = new ArrayList<>();
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), batches::add);
    return batches;
  }

  private Map<String, String> quarantine(Path dir) {
    Map<String, String> out = new TreeMap<>();
    if (!Files.exists(dir.resolve("checkpoint-quarantine"))) {
      return out;
    }
    for (Row r : spark.read().format("delta").load(dir.resolve("checkpoint-quarantine").toString())
        .select("raw_value", "quarantine_reason").collectAsList()) {
      out.put(new String((byte[]) r.get(0), StandardCharsets.UTF_8), r.getString(1));
    }
    return out;
  }

  private List<String> ids(Path dir) {
    return spark.read().format("delta").load(dir.resolve("table").toString()).select("id").as(Encoders.STRING())
        .collectAsList();
  }

  /**
   * A backlog received at noon (the files' time) holds one event stamped six hours ahead (a fast
   * clock) and one stamped "now" (months later). Measured against the batch's wall-clock time both
   * were accepted, the watermark jumped, and the rest of the backlog was dropped as late. Measured
   * against the time the source received each event, both go to quarantine and the backlog is written.
   */
  @Test
  void oneFastClockCannotDropTheEventsBehindIt() {
    Path dir = TestSpark.newDir("surprising-skew");
    Instant noon = Instant.parse("2026-03-01T12:00:00Z");
    String fast = event("fast", 1L, "EUR", 1, noon.plusSeconds(6 * 3600));
    String now = event("now", 1L, "EUR", 1, Instant.now());
    files(dir.resolve("in"), List.of(
        List.of(event("a", 1L, "EUR", 1, noon.minusSeconds(60)), fast, now),
        List.of(event("b", 1L, "EUR", 1, noon), event("c", 1L, "EUR", 1, noon.minusSeconds(120)))),
        List.of(noon, noon.plusSeconds(60)));
    Map<String, String> c = config(dir, "skew");
    c.put("stage.type", "dedupe-first-seen");
    c.put("sink.mode", "insert-if-absent");
    c.put("sink.key.columns", "id");

    List<ProgressListener.BatchStats> batches = run(c);

    assertThat(quarantine(dir)).containsEntry(fast, "event-time-in-future").containsEntry(now, "event-time-in-future").hasSize(2);
    assertThat(ids(dir)).containsExactlyInAnyOrder("a", "b", "c");
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::lateDropped).sum()).isZero();
  }

  /**
   * A stream of only bad rows (one of each quarantine reason the stage can see) through each dedupe
   * stage: every row is quarantined and none holds state. Spark's first-seen dedupe stored each
   * quarantined row with its null event time, an entry only a watermark could expire, and a stream
   * without one valid row has none: the state grew with every bad row, forever.
   */
  @ParameterizedTest
  @ValueSource(strings = {"dedupe-first-seen", "dedupe-latest"})
  void quarantinedRowsHoldNoStateInADedupeStage(String stage) {
    Path dir = TestSpark.newDir("surprising-bad-state-" + stage);
    Instant received = Instant.parse("2026-03-01T12:00:00Z");
    List<List<String>> files = new ArrayList<>();
    for (int f = 0; f < 2; f++) {
      Instant t = received.minusSeconds(60);
      List<String> bad = new ArrayList<>(List.of(
          "{not json " + f,
          "{\"version\":1,\"lsn\":1,\"amount\":" + f + ",\"event_time\":\"" + t + "\"}",
          event("nul\\u0000" + f, 1L, "EUR", f, t),
          "{\"id\":\"no-time-" + f + "\",\"version\":1,\"lsn\":1,\"amount\":1}",
          event("future-" + f, 1L, "EUR", f, received.plusSeconds(3600))));
      if (stage.equals("dedupe-latest")) {
        bad.add(event("no-version-" + f, null, "EUR", f, t));
      }
      files.add(bad);
    }
    files(dir.resolve("in"), files, List.of(received, received));
    Map<String, String> c = config(dir, "bad_state_" + stage.replace('-', '_'));
    c.put("stage.type", stage);
    c.put("sink.key.columns", "id");
    if (stage.equals("dedupe-latest")) {
      c.putAll(Map.of("stage.version.column", "version", "sink.mode", "upsert", "sink.version.column", "version"));
    } else {
      c.put("sink.mode", "insert-if-absent");
    }

    List<ProgressListener.BatchStats> batches = run(c);

    int rows = files.stream().mapToInt(List::size).sum();
    assertThat(quarantine(dir)).hasSize(rows);
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::quarantined).sum()).isEqualTo(rows);
    assertThat(batches).hasSizeGreaterThanOrEqualTo(2)
        .allSatisfy(b -> assertThat(b.stateRows()).as("state rows after batch %d", b.batchId()).isZero());
  }

  /**
   * An aggregate keyed by window and currency, and one event without a currency: the sink refuses a
   * null key, so the batch failed on every restart. Now it is quarantined at parse time as
   * {@code missing-key} and the windows are written. Each of the four rows read is counted once in
   * {@code input_rows} (Spark reads the source once for the windows and once for the quarantine union,
   * and its own count held 8).
   */
  @Test
  void aNullInAColumnTheSinkKeysOnIsQuarantinedAtParseTime() {
    Path dir = TestSpark.newDir("surprising-null-group");
    Instant t = Instant.parse("2026-03-01T10:00:00Z");
    String noCurrency = event("b", 1L, null, 5, t.plusSeconds(10));
    files(dir.resolve("in"), List.of(
        List.of(event("a", 1L, "EUR", 1, t), noCurrency, event("c", 1L, "USD", 2, t.plusSeconds(20))),
        List.of(event("d", 1L, "EUR", 3, t.plusSeconds(3600)))),
        List.of(t.plusSeconds(60), t.plusSeconds(3700)));
    Map<String, String> c = config(dir, "null_group");
    c.put("stage.type", "aggregate");
    c.put("stage.window.duration", "1 minute");
    c.put("stage.group.columns", "currency");
    c.put("stage.aggregates", "sum(amount) AS total");
    c.put("sink.mode", "upsert");
    c.put("sink.key.columns", "window_start,currency");

    List<ProgressListener.BatchStats> batches = runAnyStage(c);

    assertThat(quarantine(dir)).containsExactly(Map.entry(noCurrency, "missing-key"));
    List<String> windows = spark.read().format("delta").load(dir.resolve("table").toString())
        .selectExpr("concat(currency, ':', total)").as(Encoders.STRING()).collectAsList();
    assertThat(windows).containsExactlyInAnyOrder("EUR:1", "USD:2");
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::quarantined).sum()).isEqualTo(1);
    assertThat(batches.stream().filter(b -> b.inputRows() > 0).map(b -> b.batchId() + ":" + b.inputRows()))
        .containsExactly("0:3", "1:1");
  }

  /**
   * The producer renamed {@code version} to {@code Version}: every update parsed with a null version,
   * ranked lowest and was dropped as a duplicate of the stored row. Now a null version (or tie-break)
   * goes to quarantine as {@code missing-version}, unless {@code stage.version.allow.null=true}.
   */
  @Test
  void aMissingVersionIsQuarantinedUnlessNullVersionsAreAllowed() {
    Path dir = TestSpark.newDir("surprising-version");
    Instant t = Instant.parse("2026-03-01T10:00:00Z");
    String renamed = event("a", 2L, "EUR", 20, t.plusSeconds(5)).replace("\"version\"", "\"Version\"");
    String noLsn = event("b", 2L, "EUR", 30, t.plusSeconds(6)).replace(",\"lsn\":1", "");
    files(dir.resolve("in"), List.of(List.of(event("a", 1L, "EUR", 10, t), event("b", 1L, "EUR", 11, t)),
        List.of(renamed, noLsn)), List.of(t.plusSeconds(60), t.plusSeconds(120)));
    Map<String, String> c = config(dir, "missing_version");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.tiebreak.column", "lsn");
    c.put("sink.mode", "upsert");
    c.put("sink.key.columns", "id");
    c.put("sink.version.column", "version");
    c.put("sink.tiebreak.column", "lsn");

    run(c);

    assertThat(quarantine(dir)).containsOnly(Map.entry(renamed, "missing-version"), Map.entry(noLsn, "missing-version"));

    Path allowed = TestSpark.newDir("surprising-version-allowed");
    files(allowed.resolve("in"), List.of(List.of(renamed)), List.of(t.plusSeconds(60)));
    Map<String, String> a = config(allowed, "null_version_allowed");
    a.putAll(Map.of("stage.type", "dedupe-latest", "stage.version.column", "version", "stage.version.allow.null", "true",
        "sink.mode", "upsert", "sink.key.columns", "id", "sink.version.column", "version"));
    run(a);
    assertThat(quarantine(allowed)).isEmpty();
    assertThat(ids(allowed)).containsExactly("a");
  }

  /**
   * Two rows of a key with the same version and tie-break (an exact tie): the stage kept the first to
   * arrive, so two runs (or a replay after a partial fan-out) could emit different rows. Now the
   * greater whole row wins, as in the sinks' own reduction.
   */
  @Test
  void exactTiesAreBrokenOnTheWholeRowNotByArrival() {
    Path dir = TestSpark.newDir("surprising-ties");
    Instant t = Instant.parse("2026-03-01T10:00:00Z");
    files(dir.resolve("in"), List.of(List.of(event("p", 1L, "EUR", 1, t), event("p", 1L, "EUR", 2, t),
        event("q", 1L, "EUR", 2, t), event("q", 1L, "EUR", 1, t))), List.of(t.plusSeconds(60)));
    Map<String, String> c = config(dir, "ties");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.tiebreak.column", "lsn");
    c.put("sink.mode", "upsert");
    c.put("sink.key.columns", "id");
    c.put("sink.version.column", "version");
    c.put("sink.tiebreak.column", "lsn");

    run(c);

    List<String> rows = spark.read().format("delta").load(dir.resolve("table").toString())
        .selectExpr("concat(id, ':', amount)").as(Encoders.STRING()).collectAsList();
    assertThat(rows).containsExactlyInAnyOrder("p:2", "q:2");
  }

  /**
   * A composite key grouped as JSON text merged timestamps that differ in microseconds (the text keeps
   * milliseconds) and split -0.0 from 0.0, which the sink's MERGE sees as one key. Grouped on the typed
   * columns, the stage sees the keys the sink sees.
   */
  @Test
  void compositeKeysAreGroupedOnTheirTypedColumns() {
    Path dir = TestSpark.newDir("surprising-typed-keys");
    Instant t = Instant.parse("2026-03-01T10:00:00Z");
    String schema = "id STRING, at TIMESTAMP, score DOUBLE, version BIGINT, event_time TIMESTAMP";
    String e = "{\"id\":\"%s\",\"at\":\"%s\",\"score\":%s,\"version\":1,\"event_time\":\"" + t + "\"}";
    files(dir.resolve("in"), List.of(List.of(
        String.format(e, "m", "2026-03-01T10:00:00.000001Z", "1.0"),
        String.format(e, "m", "2026-03-01T10:00:00.000002Z", "1.0"),
        String.format(e, "z", "2026-03-01T10:00:00Z", "-0.0"),
        String.format(e, "z", "2026-03-01T10:00:00Z", "0.0"))), List.of(t.plusSeconds(60)));
    Map<String, String> c = config(dir, "typed_keys");
    c.put("source.schema", schema);
    c.put("source.key.columns", "id,at,score");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("sink.mode", "upsert");
    c.put("sink.key.columns", "id,at,score");
    c.put("sink.version.column", "version");

    List<ProgressListener.BatchStats> batches = run(c);

    List<String> rows = spark.read().format("delta").load(dir.resolve("table").toString())
        .selectExpr("concat(id, ' ', date_format(at, 'ss.SSSSSS'), ' ', score + 0.0)").as(Encoders.STRING()).collectAsList();
    assertThat(rows).containsExactlyInAnyOrder("m 00.000001 1.0", "m 00.000002 1.0", "z 00.000000 0.0");
    assertThat(batches.stream().mapToLong(ProgressListener.BatchStats::duplicatesDropped).sum()).isEqualTo(1);
  }
}
