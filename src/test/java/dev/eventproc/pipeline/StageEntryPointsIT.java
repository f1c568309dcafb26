package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.stage.Dedupe;
import dev.eventproc.stage.EventStream;
import dev.eventproc.stage.LatestVersion;
import dev.eventproc.stage.ParsedEvents;
import dev.eventproc.stage.WindowAggregate;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;

/**
 * The library's stage entry points over {@link ParsedEvents} give what a sink takes: the schema's
 * columns, valid rows only. {@code LatestVersion.apply(ParsedEvents, ...)} returned the pipeline's
 * internal rows (quarantined rows, all-null drop-count rows, a pass-through column), and a sink in the
 * user's {@code foreachBatch} refused the batch for its null keys.
 */
class StageEntryPointsIT {
  private static final Duration DELAY = Duration.ofMinutes(5);
  private final SparkSession spark = TestSpark.session();

  /** a in versions 2 then 1, b once, and a line that is not JSON. */
  private static void input(Path dir) {
    Instant t = Instant.parse("2026-03-01T10:00:00Z");
    SurprisingInputIT.files(dir.resolve("in"), List.of(List.of(SurprisingInputIT.event("a", 2L, "EUR", 2, t.plusSeconds(1)),
        SurprisingInputIT.event("a", 1L, "EUR", 1, t), SurprisingInputIT.event("b", 1L, "EUR", 3, t), "{not json")),
        List.of(t.plusSeconds(60)));
  }

  /** Runs {@code stage} over the parsed input into the configured sink, in the user's own query. */
  private List<String> writeThroughSink(Path dir, Map<String, String> c, Function<ParsedEvents, Dataset<Row>> stage)
      throws Exception {
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));
    ParsedEvents events = EventStream.read(spark, config.source(), config.inputRules());
    stage.apply(events).writeStream().foreachBatch(config.sink()).option("checkpointLocation", config.checkpoint())
        .trigger(Trigger.AvailableNow()).start().awaitTermination();
    Dataset<Row> table = spark.read().format("delta").load(dir.resolve("table").toString());
    assertThat(table.columns()).containsExactly(events.schema().fieldNames());
    return table.selectExpr("concat(id, ':', version)").as(Encoders.STRING()).collectAsList();
  }

  @Test
  void latestVersionOverParsedEventsWritesThroughASink() throws Exception {
    Path dir = TestSpark.newDir("entry-latest");
    input(dir);
    Map<String, String> c = SurprisingInputIT.config(dir, "entry_latest");
    c.putAll(Map.of("stage.type", "dedupe-latest", "stage.version.column", "version", "sink.mode", "upsert",
        "sink.key.columns", "id", "sink.version.column", "version"));

    assertThat(writeThroughSink(dir, c, e -> LatestVersion.apply(e, "version", null, DELAY)))
        .containsExactlyInAnyOrder("a:2", "b:1");
  }

  @Test
  void firstSeenOverParsedEventsWritesThroughASink() throws Exception {
    Path dir = TestSpark.newDir("entry-first-seen");
    input(dir);
    Map<String, String> c = SurprisingInputIT.config(dir, "entry_first_seen");
    c.putAll(Map.of("stage.type", "dedupe-first-seen", "sink.mode", "insert-if-absent", "sink.key.columns", "id"));

    assertThat(writeThroughSink(dir, c, e -> Dedupe.firstSeen(e, DELAY)))
        .hasSize(2).contains("b:1");
  }

  @Test
  void windowAggregateOverParsedEventsWritesOnlyWindowsThroughASink() throws Exception {
    Path dir = TestSpark.newDir("entry-aggregate");
    Instant t = Instant.parse("2026-03-01T10:00:00Z");
    // The second file's event moves the watermark past the first window's end, so it is emitted.
    SurprisingInputIT.files(dir.resolve("in"), List.of(
        List.of(SurprisingInputIT.event("a", 2L, "EUR", 2, t.plusSeconds(1)), SurprisingInputIT.event("a", 1L, "EUR", 1, t),
            SurprisingInputIT.event("b", 1L, "EUR", 3, t), "{not json"),
        List.of(SurprisingInputIT.event("c", 1L, "USD", 5, t.plusSeconds(300)))),
        List.of(t.plusSeconds(60), t.plusSeconds(360)));
    Map<String, String> c = SurprisingInputIT.config(dir, "entry_aggregate");
    c.putAll(Map.of("stage.type", "aggregate", "stage.watermark.delay", "1 minute", "stage.window.duration", "1 minute",
        "stage.group.columns", "currency", "stage.aggregates", "count(*) AS n, sum(amount) AS total", "sink.mode", "upsert",
        "sink.key.columns", "window_start,currency"));
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));
    ParsedEvents events = EventStream.read(spark, config.source(), config.inputRules());

    WindowAggregate.apply(events, config.stage().aggregation(), config.stage().watermarkDelay()).writeStream()
        .foreachBatch(config.sink()).option("checkpointLocation", config.checkpoint())
        .trigger(Trigger.AvailableNow()).start().awaitTermination();

    Dataset<Row> table = spark.read().format("delta").load(dir.resolve("table").toString());
    assertThat(table.columns()).containsExactly("window_start", "window_end", "currency", "n", "total");
    assertThat(table.selectExpr("concat(currency, ':', n, ':', total)").as(Encoders.STRING()).collectAsList())
        .containsExactly("EUR:3:6");
  }
}
