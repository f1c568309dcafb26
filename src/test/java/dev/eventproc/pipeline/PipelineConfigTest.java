package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Durations;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.Identifiers;
import dev.eventproc.config.PathRoot;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.registry.Sinks;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bad config fails at start, naming the key, showing the value and saying the fix. */
public class PipelineConfigTest {
  @TempDir
  Path tmp;

  public static Map<String, String> valid() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "payments");
    c.put("checkpoint.location", "/tmp/cp");
    c.put("source.type", "files");
    c.put("source.files.path", "/tmp/in");
    c.put("source.schema", "payment_id STRING, amount DECIMAL(12,2), version BIGINT, op STRING, event_time TIMESTAMP");
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "dedupe-first-seen");
    c.put("stage.watermark.delay", "10 minutes");
    c.put("sink.type", "delta");
    c.put("sink.mode", "upsert");
    c.put("sink.key.columns", "payment_id");
    c.put("sink.version.column", "version");
    c.put("sink.delete.condition", "op = 'd'");
    c.put("sink.delta.path", "/tmp/t");
    return c;
  }

  private static Map<String, String> with(String key, String value) {
    Map<String, String> c = valid();
    if (value == null) {
      c.remove(key);
    } else {
      c.put(key, value);
    }
    return c;
  }

  /** The error a config is refused with; fails when it is accepted. Shared by the pipeline's config tests. */
  static ConfigException invalid(Map<String, String> c) {
    try {
      PipelineConfig.from(EventprocConfig.of(c));
    } catch (ConfigException e) {
      return e;
    }
    throw new AssertionError("config was accepted: " + c);
  }

  @Test
  void aValidConfigIsAcceptedWithItsDefaults() {
    PipelineConfig p = PipelineConfig.from(EventprocConfig.of(valid()));
    assertThat(p.name()).isEqualTo("payments");
    assertThat(p.trigger()).isEqualTo(PipelineConfig.Trigger.PROCESSING_TIME);
    assertThat(p.stage().watermarkDelay()).isEqualTo(Duration.ofMinutes(10));
    assertThat(p.sink().name()).isEqualTo("payments");
    assertThat(p.quarantine().name()).isEqualTo("payments_quarantine");
    assertThat(p.quarantine().toString()).contains("/tmp/cp-quarantine");
  }

  @Test
  void aDedupeStageTellsSinksOnItsKeysThatEachBatchHoldsOneRowPerKey() {
    SinkSpec deduped = ((dev.eventproc.sink.AbstractBatchSink) PipelineConfig.from(EventprocConfig.of(valid())).sink()).spec();
    assertThat(deduped.keysUniquePerBatch()).isTrue();
    SinkSpec raw = ((dev.eventproc.sink.AbstractBatchSink) PipelineConfig.from(EventprocConfig.of(with("stage.type", "none")))
        .sink()).spec();
    assertThat(raw.keysUniquePerBatch()).isFalse();
    Map<String, String> otherKey = with("sink.key.columns", "op");
    assertThat(((dev.eventproc.sink.AbstractBatchSink) PipelineConfig.from(EventprocConfig.of(otherKey)).sink()).spec()
        .keysUniquePerBatch()).as("the stage dedupes payment_id, the sink keys on op").isFalse();
  }

  @Test
  void unknownSinkTypeNamesTheKeyAndTheChoices() {
    assertThat(invalid(with("sink.type", "postgress")).problems())
        .containsExactly("sink.type: 'postgress' is not one of " + ConfigReader.choices(dev.eventproc.sink.SinkType.class)
            + ". Set sink.type to one of them.");
  }

  @Test
  void missingKeyColumnIsRequiredForKeyedModes() {
    assertThat(invalid(with("sink.key.columns", null)).problems())
        .contains("sink.key.columns is required with mode upsert. List the columns that identify a row, e.g. payment_id.");
    assertThat(invalid(with("source.key.columns", null)).problems()).anyMatch(p -> p.startsWith("source.key.columns is required."));
  }

  @Test
  void keyColumnNotInTheSchemaListsTheSchemaFields() {
    assertThat(invalid(with("source.key.columns", "id")).getMessage())
        .contains("source.key.columns: column 'id' is not in source.schema. Its fields are: payment_id, amount, version, op, event_time.");
  }

  @Test
  void badDurationShowsTheValueAndExamples() {
    assertThat(invalid(with("stage.watermark.delay", "10 minuets")).problems())
        .contains("stage.watermark.delay: '10 minuets' is not a duration. " + Durations.EXAMPLES);
  }

  @Test
  void badIdentifierIsRefusedBeforeItReachesSql() {
    assertThat(invalid(with("sink.key.columns", "payment_id; DROP TABLE x")).getMessage())
        .contains("sink.key.columns: 'payment_id; DROP TABLE x' (in 'payment_id; DROP TABLE x') is not a plain identifier.");
    assertThat(invalid(with("sink.delta.table", "db.`t`")).getMessage()).contains("sink.delta.table: 'db.`t`' is not a table name.");
    assertThat(invalid(with("sink.version.column", "v\"x")).getMessage()).contains("sink.version.column: 'v\"x' is not a plain identifier.");
  }

  @Test
  void pathsMustStayUnderPathsRootWhenItIsSet() throws Exception {
    Path root = Files.createDirectories(tmp.resolve("root"));
    Path outside = Files.createDirectories(tmp.resolve("elsewhere"));
    Files.createSymbolicLink(root.resolve("link-out"), outside);
    Map<String, String> c = valid();
    c.put("paths.root", root.toString());
    c.put("checkpoint.location", root.resolve("cp").toString());
    c.put("source.files.path", "file://" + root.resolve("in"));
    c.put("sink.delta.path", root.resolve("tables/../tables/t").toString());
    c.put("metrics.file", root.resolve("metrics.jsonl").toString());
    PipelineConfig ok = PipelineConfig.from(EventprocConfig.of(c));
    assertThat(ok.quarantine().toString()).as("the default quarantine follows the checkpoint, under the root").contains("cp-quarantine");

    c.put("checkpoint.location", root.resolve("../elsewhere/cp").toString());
    c.put("source.files.path", root.resolve("link-out/in").toString());
    c.put("sink.delta.path", "s3a://bucket/t");
    c.put("metrics.file", "/etc/metrics.jsonl");
    assertThat(invalid(c).problems()).containsExactlyInAnyOrder(
        "checkpoint.location: '" + root.resolve("../elsewhere/cp") + "' is outside paths.root=" + root
            + ". Use a path under it, or change paths.root.",
        "source.files.path: '" + root.resolve("link-out/in") + "' is outside paths.root=" + root
            + ". Use a path under it, or change paths.root.",
        "sink.delta.path: 's3a://bucket/t' is outside paths.root=" + root + " (another file system). Use a path under it, or "
            + "change paths.root.",
        "metrics.file: '/etc/metrics.jsonl' is outside paths.root=" + root + ". Use a path under it, or change paths.root.",
        // the default quarantine table sits beside the checkpoint, so it is outside too
        "quarantine.delta.path: '" + root.resolve("../elsewhere/cp") + "-quarantine' is outside paths.root=" + root
            + ". Use a path under it, or change paths.root.");
  }

  @Test
  void aUriRootComparesSchemeBucketAndWholeSegments() {
    assertThat(PathRoot.check("s3a://lake/teams/a", "s3a://lake/teams/a/tables/t")).isNull();
    assertThat(PathRoot.check("s3a://lake/teams/a", "s3a://lake/teams/a")).isNull();
    assertThat(PathRoot.check("s3a://lake/teams/a", "s3a://lake/teams/ab/t")).contains("is outside");
    assertThat(PathRoot.check("s3a://lake/teams/a", "s3a://lake/teams/a/../b/t")).contains("is outside");
    assertThat(PathRoot.check("s3a://lake/teams/a", "s3a://other/teams/a/t")).contains("is outside");
    assertThat(PathRoot.check("s3a://lake/teams/a", "hdfs://lake/teams/a/t")).contains("is outside");
    assertThat(PathRoot.check("s3a://lake/teams/a", "/teams/a/t")).contains("a local path");
  }

  @Test
  void unknownKeyGetsTheClosestKnownKey() {
    Map<String, String> c = valid();
    c.put("sink.kye.columns", "payment_id");
    assertThat(invalid(c).problems()).contains("sink.kye.columns: unknown key. Did you mean sink.key.columns?");
  }

  @Test
  void everyProblemIsReportedAtOnce() {
    Map<String, String> c = with("sink.mode", "upsrt");
    c.put("stage.watermark.delay", "soon");
    c.remove("checkpoint.location");
    ConfigException e = invalid(c);
    assertThat(e.problems()).hasSize(3);
    assertThat(e.getMessage()).startsWith("Invalid configuration (3 problems):");
  }

  @Test
  void rulesBetweenKeys() {
    PipelineConfig.from(EventprocConfig.of(with("trigger.interval", "5s")));
    Map<String, String> noTime = with("source.event.time.column", null);
    assertThat(invalid(noTime).problems()).anyMatch(p -> p.startsWith("stage.type: dedupe-first-seen needs an event time"));
    Map<String, String> append = with("sink.mode", "append");
    assertThat(invalid(append).problems()).contains("sink.version.column is not used with mode append. Remove it, or use mode upsert.");
    assertThat(invalid(with("sink.delete.condition", "op = = 'd'")).getMessage()).contains("sink.delete.condition: 'op = = 'd'' is not a Spark SQL expression");
    assertThat(invalid(with("sink.delta.path", null)).getMessage()).contains("set exactly one of sink.delta.path");
    assertThat(invalid(with("source.event.time.column", "amount")).getMessage())
        .contains("source.event.time.column: column 'amount' is DECIMAL(12,2) in source.schema. Declare it TIMESTAMP");
    Map<String, String> drain = with("trigger", "available-now");
    drain.put("trigger.interval", "5s");
    assertThat(invalid(drain).problems()).contains("trigger.interval is only used with trigger=processing-time. Remove it.");
  }

  /** A topic cannot refuse an older record: a Kafka upsert with a version column needs dedupe-latest on its key and version. */
  @Test
  void aKafkaUpsertWithAVersionIsRefusedUnlessDedupeLatestGuardsThatKeyAndVersion() {
    Map<String, String> c = valid();
    c.keySet().removeIf(k -> k.startsWith("sink.delta."));
    c.put("sink.type", "kafka");
    c.put("sink.kafka.bootstrap.servers", "127.0.0.1:9092");
    c.put("sink.kafka.topic", "payments");
    String expected = "sink.version.column: 'version' with sink.mode=upsert on a Kafka sink needs stage.type=dedupe-latest on the "
        + "same key and version (source.key.columns=payment_id, stage.version.column=version). A topic cannot refuse an older "
        + "record: the sink keeps the newest version only within a batch, so an older version arriving in a later batch would "
        + "become the newest record of its key, or bring a deleted key back after its tombstone; dedupe-latest's state drops it. "
        + "Set that stage, or remove sink.version.column (each batch's records then win over earlier ones).";
    assertThat(invalid(c).problems()).as("behind dedupe-first-seen").containsExactly(expected);
    c.put("stage.type", "none");
    assertThat(invalid(c).problems()).as("no stage").containsExactly(expected);

    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "event_time");
    assertThat(invalid(c).problems()).as("dedupe-latest on another version").containsExactly(expected);
    c.put("stage.version.column", "version");
    PipelineConfig.from(EventprocConfig.of(c));

    Map<String, String> fanOut = new LinkedHashMap<>(c);
    fanOut.keySet().removeIf(k -> k.startsWith("sink."));
    fanOut.put("sinks", "a");
    c.forEach((k, v) -> {
      if (k.startsWith("sink.")) {
        fanOut.put("sink.a." + k.substring("sink.".length()), v);
      }
    });
    PipelineConfig.from(EventprocConfig.of(fanOut));
    fanOut.put("sink.a.query", "SELECT * FROM batch");
    assertThat(invalid(fanOut).problems()).as("a route's query may reorder what the stage emitted")
        .containsExactly(expected.replace("sink.", "sink.a."));

    c.remove("sink.version.column");
    c.put("stage.type", "none");
    c.remove("stage.version.column");
    PipelineConfig.from(EventprocConfig.of(c));
  }

  @Test
  void kafkaSourceNeedsServersAndTopicAndFilesKeysDoNotApply() {
    Map<String, String> c = with("source.type", "kafka");
    ConfigException e = invalid(c);
    assertThat(e.problems()).anyMatch(p -> p.startsWith("source.kafka.bootstrap.servers is required."))
        .anyMatch(p -> p.startsWith("source.kafka.topic is required."))
        .contains("source.files.path: not used here: files keys apply only when source.type=files. Remove it or fix the type.");
  }

  @Test
  void badSchemaIsExplained() {
    assertThat(invalid(with("source.schema", "payment_id STRNG")).getMessage())
        .contains("source.schema: 'payment_id STRNG' is not a Spark DDL schema: [UNSUPPORTED_DATATYPE] Unsupported data type \"STRNG\".");
  }

  @Test
  void sinksFromConfigChecksOnlySinkKeys() {
    Map<String, String> c = valid();
    c.put("sink.delta.pth", "/x");
    assertThatThrownBy(() -> Sinks.fromConfig(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.delta.pth: unknown key. Did you mean sink.delta.path?")
        .hasMessageNotContaining("source.");
    assertThat(Sinks.fromConfig(valid()).name()).isEqualTo("payments");
  }

  @Test
  void secretsComeFromTheEnvironmentOrFilesAndAreMasked() throws Exception {
    Map<String, String> c = valid();
    c.put("source.type", "kafka");
    c.put("source.kafka.bootstrap.servers", "b:9092");
    c.put("source.kafka.topic", "t");
    c.remove("source.files.path");
    c.put("source.kafka.option.kafka.sasl.jaas.config", "${env:TEST_JAAS}");
    Path secret = Files.writeString(tmp.resolve("pw"), "s3cr3t\n");
    c.put("source.kafka.option.kafka.ssl.truststore.password", "${file:" + secret + "}");
    EventprocConfig config = EventprocConfig.of(c, name -> name.equals("TEST_JAAS") ? "jaas-value" : null);
    assertThat(config.get("source.kafka.option.kafka.sasl.jaas.config")).isEqualTo("jaas-value");
    assertThat(config.get("source.kafka.option.kafka.ssl.truststore.password")).isEqualTo("s3cr3t");
    assertThat(config.toString()).doesNotContain("jaas-value").doesNotContain("s3cr3t").contains("******");
    PipelineConfig.from(config);

    assertThatThrownBy(() -> EventprocConfig.of(Map.of("x.password", "${env:NOPE_NOT_SET}"), n -> null))
        .hasMessageContaining("x.password: environment variable NOPE_NOT_SET is not set.");
  }

  @Test
  void aConfigFileMayNotHoldAPlainSecret() throws Exception {
    Path file = Files.writeString(tmp.resolve("job.properties"), "sink.postgres.password=hunter2\n");
    assertThatThrownBy(() -> EventprocConfig.load(file))
        .hasMessageContaining("sink.postgres.password: a secret must not be written in the config file.")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void passwordsInUrlsAreMasked() {
    assertThat(EventprocConfig.maskUrlPassword("postgresql://app:pa55@db:5432/x")).isEqualTo("postgresql://app:******@db:5432/x");
    assertThat(EventprocConfig.maskUrlPassword("jdbc:postgresql://db/x?user=a&password=pa55&ssl=true"))
        .isEqualTo("jdbc:postgresql://db/x?user=a&password=******&ssl=true");
  }

  @Test
  void missingConfigFileSaysWhichFile() {
    assertThatThrownBy(() -> EventprocConfig.load(tmp.resolve("nope.properties")))
        .hasMessageContaining("--config: file").hasMessageContaining("nope.properties does not exist.");
  }

  @Test
  void durationsParseHumanAndIsoForms() {
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("30 s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("10 minutes")).isEqualTo(Duration.ofMinutes(10));
    assertThat(Durations.parse("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("7 days")).isEqualTo(Duration.ofDays(7));
    assertThat(Durations.parse("PT15M")).isEqualTo(Duration.ofMinutes(15));
    assertThat(Durations.parse("0")).isEqualTo(Duration.ZERO);
    assertThat(Durations.parse("10")).isNull();
    assertThat(Durations.parse("-5s")).isNull();
    assertThat(Durations.parse("ten minutes")).isNull();
  }

  @Test
  void identifiersAreQuotedSafely() {
    assertThat(Identifiers.quoteSpark("a`b")).isEqualTo("`a``b`");
    assertThat(Identifiers.quotePostgres("a\"b")).isEqualTo("\"a\"\"b\"");
    assertThat(Identifiers.isPlain("payment_id")).isTrue();
    assertThat(Identifiers.isPlain("1abc")).isFalse();
    assertThat(Identifiers.isPlain("a b")).isFalse();
    assertThat(Identifiers.parseQualified("cat.db.t")).containsExactly("cat", "db", "t");
    assertThat(Identifiers.parseQualified("db..t")).isNull();
    assertThatThrownBy(() -> Identifiers.quoteSparkPath("/tmp/a`b")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void stageKeysAreCheckedAgainstTheStageAndTheSchema() {
    Map<String, String> latest = with("stage.type", "dedupe-latest");
    assertThat(invalid(latest)).hasMessageContaining("stage.version.column is required by dedupe-latest");
    latest.put("stage.version.column", "versoin");
    assertThat(invalid(latest)).hasMessageContaining("stage.version.column: 'versoin' is not a column of source.schema");
    latest.put("stage.version.column", "amount");
    assertThat(invalid(latest)).hasMessageContaining("'amount' is decimal(12,2); use an integer, timestamp or date column");
    latest.put("stage.version.column", "version");
    PipelineConfig ok = PipelineConfig.from(EventprocConfig.of(latest));
    assertThat(ok.stage().versionColumn()).isEqualTo("version");
    assertThat(((dev.eventproc.sink.AbstractBatchSink) ok.sink()).spec().keysUniquePerBatch()).isTrue();

    assertThat(invalid(with("stage.window.duration", "1 minute")))
        .hasMessageContaining("stage.window.duration is only used with stage.type=aggregate");
    Map<String, String> agg = with("stage.type", "aggregate");
    agg.put("stage.window.duration", "1 minute");
    agg.put("stage.window.slide", "2 minutes");
    agg.put("stage.group.columns", "currency");
    assertThat(invalid(agg)).hasMessageContaining("stage.window.slide").hasMessageContaining("at most stage.window.duration")
        .hasMessageContaining("stage.group.columns: 'currency' is not a column of source.schema")
        .hasMessageContaining("stage.aggregates is required");
    assertThat(invalid(with("stage.state.store", "hbase"))).hasMessageContaining("'hbase' is not one of default, rocksdb");
  }

  @Test
  void reconcileKeysNameWhatIsMissingOrMalformed() {
    assertThat(invalid(with("reconcile.from", "yesterday"))).hasMessageContaining("reconcile.from")
        .hasMessageContaining("'yesterday' is not a date. Write YYYY-MM-DD");
    Map<String, String> daily = with("reconcile.time.column", "event_time");
    daily.put("reconcile.from", "2026-01-02");
    daily.put("reconcile.to", "2026-01-01");
    daily.put("reconcile.amount.column", "amount");
    assertThat(invalid(daily)).hasMessageContaining("reconcile.source.table is required")
        .hasMessageContaining("2026-01-01 must be after reconcile.from (2026-01-02)");
    daily.put("reconcile.to", "2026-01-03");
    daily.put("reconcile.source.table", "staging.payments");
    assertThat(PipelineConfig.from(EventprocConfig.of(daily)).reconcile().dailyTotals()).isTrue();
  }
}
