package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.junit.jupiter.api.Test;

/**
 * {@code PipelineRunner.run} hands every batch to its callback (and the metrics file) before it
 * returns. Spark delivers progress events on its listener bus after the batch, so when the query ended
 * the runner removed its listener while the last batches' events were still queued, and they were
 * never reported (seen as a flaky count of dropped duplicates in {@code SchemaEvolutionIT}). Here a
 * slow listener on the same bus holds the events back, which makes that race certain.
 */
class PipelineRunnerReportTest {
  private final SparkSession spark = TestSpark.session();

  /**
   * Another application's listener that takes its time: Spark calls the bus's listeners one after
   * another, so holding the first progress event until the query has ended queues every later event.
   */
  private final class SlowListener extends StreamingQueryListener {
    private boolean held;

    @Override
    public void onQueryStarted(QueryStartedEvent event) {}

    @Override
    public void onQueryProgress(QueryProgressEvent event) {
      if (held) {
        return;
      }
      held = true;
      long deadline = System.currentTimeMillis() + 60_000;
      try {
        while (spark.streams().active().length > 0 && System.currentTimeMillis() < deadline) {
          Thread.sleep(50);
        }
        Thread.sleep(300); // past awaitTermination's return
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    @Override
    public void onQueryTerminated(QueryTerminatedEvent event) {}
  }

  @Test
  void everyBatchIsReportedBeforeRunReturns() {
    Path dir = TestSpark.newDir("runner-report");
    Instant t = Instant.parse("2026-03-01T10:00:00Z");
    SurprisingInputIT.files(dir.resolve("in"), List.of(
        List.of(SurprisingInputIT.event("a", 1L, "EUR", 1, t)),
        List.of(SurprisingInputIT.event("b", 1L, "EUR", 2, t.plusSeconds(1)), SurprisingInputIT.event("b", 1L, "EUR", 2, t.plusSeconds(1))),
        List.of(SurprisingInputIT.event("c", 1L, "EUR", 3, t.plusSeconds(2)), "{not json")),
        List.of(t.plusSeconds(60), t.plusSeconds(61), t.plusSeconds(62)));
    Map<String, String> c = SurprisingInputIT.config(dir, "runner_report");
    c.putAll(Map.of("stage.type", "dedupe-first-seen", "sink.mode", "insert-if-absent", "sink.key.columns", "id"));
    SlowListener slow = new SlowListener();
    spark.streams().addListener(slow);
    List<ProgressListener.BatchStats> reported = new ArrayList<>();
    try {
      PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), reported::add);
    } finally {
      spark.streams().removeListener(slow);
    }
    assertThat(reported.stream().mapToLong(ProgressListener.BatchStats::inputRows).sum()).as("rows read, over the batches reported")
        .isEqualTo(5);
    assertThat(reported.stream().mapToLong(ProgressListener.BatchStats::duplicatesDropped).sum()).isEqualTo(1);
    assertThat(reported.stream().mapToLong(ProgressListener.BatchStats::quarantined).sum()).isEqualTo(1);
  }
}
