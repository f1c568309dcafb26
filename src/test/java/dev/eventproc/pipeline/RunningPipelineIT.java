package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.SourceProgress;
import org.apache.spark.sql.streaming.StateOperatorProgress;
import org.apache.spark.sql.streaming.StreamingQueryListener.QueryProgressEvent;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.junit.jupiter.api.Test;

/**
 * How a running pipeline counts and stops (issue 21 items 11, 12 and 13): idle progress events,
 * {@code trigger=once}, and the listener's lifetime. Small files source, files sinks.
 */
class RunningPipelineIT {
  private final SparkSession spark = TestSpark.session();

  static Map<String, String> config(Path dir, String name) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", name);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.files.max.files.per.trigger", "1");
    c.put("source.schema", "id STRING, event_time TIMESTAMP");
    c.put("source.key.columns", "id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "dedupe-first-seen");
    c.put("sink.type", "files");
    c.put("sink.mode", "append");
    c.put("sink.files.path", dir.resolve("out").toString());
    c.put("quarantine.type", "files");
    c.put("quarantine.mode", "append");
    c.put("quarantine.files.path", dir.resolve("quarantine").toString());
    return c;
  }

  private static String event(String id, String time) {
    return "{\"id\":\"" + id + "\",\"event_time\":\"2026-03-01T" + time + "Z\"}";
  }

  /** Two files: 3 valid rows, one duplicate, one malformed line. */
  static void twoFiles(Path dir) {
    JsonFiles.writeTextFiles(dir.resolve("in"), List.of(
        List.of(event("a", "10:00:00"), event("b", "10:00:01"), "not json"),
        List.of(event("a", "10:00:02"), event("c", "10:00:03"))), JsonFiles.FIXED_DAY_RECEIVED);
  }

  /**
   * While a query waits for data, Spark reports idle triggers as progress too (every
   * {@code spark.sql.streaming.noDataProgressEventInterval}), repeating the last executed plan's state
   * metrics (dropped duplicates included) under a batch id that ran already or never runs. Such events
   * are built here as Spark 3.5 builds them (its {@code finishTrigger} with nothing executed) from the
   * last real progress, and must not count.
   */
  @Test
  void idleProgressEventsAreNotCountedAgain() throws Exception {
    Path dir = TestSpark.newDir("idle-progress");
    twoFiles(dir);
    Map<String, String> c = config(dir, "idle_progress");
    c.put("trigger", "available-now");
    List<ProgressListener.BatchStats> reported = Collections.synchronizedList(new ArrayList<>());
    Pipeline p = Pipeline.start(spark, PipelineConfig.from(EventprocConfig.of(c)), reported::add);
    p.query().awaitTermination();
    ProgressListener l = p.listener();
    long ran = reported.size();
    StreamingQueryProgress last = p.query().lastProgress();
    assertThat(last.durationMs()).containsKey("addBatch");
    l.onQueryProgress(new QueryProgressEvent(idle(last, last.batchId())));
    for (int i = 0; i < 3; i++) {
      l.onQueryProgress(new QueryProgressEvent(idle(last, last.batchId() + 1)));
    }

    assertThat(reported).hasSize((int) ran);
    assertThat(reported).extracting(ProgressListener.BatchStats::batchId).doesNotHaveDuplicates();
    assertThat(l.batches()).isEqualTo(ran);
    assertThat(l.inputRows()).isEqualTo(5);
    assertThat(l.written()).isEqualTo(3);
    assertThat(l.duplicatesDropped()).isEqualTo(1);
    assertThat(l.quarantined()).isEqualTo(1);
    assertThat(l.unbalancedBatches()).isZero();
  }

  /** {@code trigger=once} keeps the per-trigger limit: it runs as available-now, one file per batch. */
  @Test
  void triggerOnceKeepsThePerTriggerLimit() throws Exception {
    Path dir = TestSpark.newDir("trigger-once");
    twoFiles(dir);
    Map<String, String> c = config(dir, "trigger_once");
    c.put("trigger", "once");
    List<ProgressListener.BatchStats> reported = Collections.synchronizedList(new ArrayList<>());
    Pipeline p = PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), reported::add);
    assertThat(reported.stream().filter(b -> b.inputRows() > 0)).extracting(ProgressListener.BatchStats::inputRows)
        .containsExactly(3L, 2L);
    assertThat(p.query().isActive()).isFalse();
  }

  /**
   * The listener {@code Pipeline.start} registers lives as long as its query: gone when the query ends,
   * deaf to a later query of the same name; {@link Pipeline#stop()} stops the query and unregisters it.
   */
  @Test
  void theListenerEndsWithItsQueryAndStopStopsBoth() throws Exception {
    Path dir = TestSpark.newDir("listener-life");
    twoFiles(dir);
    Map<String, String> c = config(dir, "listener_life");
    c.put("trigger", "available-now");
    Pipeline first = Pipeline.start(spark, PipelineConfig.from(EventprocConfig.of(c)), null);
    first.query().awaitTermination();
    long deadline = System.currentTimeMillis() + 30_000;
    while (spark.streams().listListeners().length > 0
        && Arrays.asList(spark.streams().listListeners()).contains(first.listener())
        && System.currentTimeMillis() < deadline) {
      Thread.sleep(20); // the listener removes itself on the bus thread, after the termination event
    }
    assertThat(spark.streams().listListeners()).doesNotContain(first.listener());
    // Counted once the listener is gone: the bus may still deliver the last batch's progress after
    // awaitTermination returns, before the termination event that unregisters it.
    long counted = first.listener().batches();

    JsonFiles.writeTextFiles(dir.resolve("in2"), List.of(List.of(event("d", "10:00:04"))), JsonFiles.FIXED_DAY_RECEIVED);
    Map<String, String> again = config(dir, "listener_life");
    again.put("checkpoint.location", dir.resolve("checkpoint2").toString());
    again.put("source.files.path", dir.resolve("in2").toString());
    again.put("trigger", "processing-time");
    Pipeline second = Pipeline.start(spark, PipelineConfig.from(EventprocConfig.of(again)), null);
    deadline = System.currentTimeMillis() + 180_000;
    while (second.listener().inputRows() < 1 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50); // waiting for the second query's first batch
    }
    second.stop();
    assertThat(second.query().isActive()).isFalse();
    assertThat(spark.streams().listListeners()).doesNotContain(second.listener());
    assertThat(second.listener().inputRows()).isEqualTo(1);
    assertThat(first.listener().batches()).as("the first query's listener heard nothing of the second").isEqualTo(counted);
  }

  /** An idle trigger's progress as Spark 3.5 reports it: no input, no addBatch, the last plan's state metrics. */
  static StreamingQueryProgress idle(StreamingQueryProgress last, long batchId) {
    SourceProgress[] sources = Arrays.stream(last.sources()).map(s -> new SourceProgress(s.description(), s.endOffset(),
        s.endOffset(), s.latestOffset(), 0L, 0.0, 0.0, s.metrics())).toArray(SourceProgress[]::new);
    StateOperatorProgress[] ops = Arrays.stream(last.stateOperators()).map(o -> o.copy(0L, 0L))
        .toArray(StateOperatorProgress[]::new);
    Map<String, Long> durations = new HashMap<>(Map.of("latestOffset", 1L, "triggerExecution", 1L));
    return new StreamingQueryProgress(last.id(), last.runId(), last.name(), last.timestamp(), batchId, 0L, durations,
        new HashMap<>(last.eventTime()), ops, sources, last.sink(), new HashMap<>());
  }
}
