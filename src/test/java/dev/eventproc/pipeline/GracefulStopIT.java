package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * SIGTERM (what Ctrl-C, {@code kill} and a cluster manager send) stops {@code eventproc run} after the
 * batch in flight, with exit status 0 and that batch in {@code metrics.file} (issue 21 item 12). One
 * child JVM; the signal arrives as soon as the first batch is reported, while later batches run back
 * to back.
 */
class GracefulStopIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final SparkSession spark = TestSpark.session();

  @Test
  void sigtermLetsTheRunningBatchFinishExitsZeroAndRecordsTheLastBatch() throws Exception {
    Path dir = TestSpark.newDir("graceful-stop");
    List<List<String>> files = new ArrayList<>();
    for (int f = 0; f < 40; f++) {
      List<String> lines = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        lines.add("{\"id\":\"f" + f + "-" + i + "\",\"event_time\":\"2026-03-01T10:00:00Z\"}");
      }
      files.add(lines);
    }
    JsonFiles.writeTextFiles(dir.resolve("in"), files, JsonFiles.FIXED_DAY_RECEIVED);
    Map<String, String> c = RunningPipelineIT.config(dir, "graceful");
    c.put("trigger", "processing-time");
    c.put("metrics.file", dir.resolve("metrics.jsonl").toString());
    c.put("spark.master", "local[1]");
    c.put("spark.sql.shuffle.partitions", "1");
    ChildPipeline child = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("graceful.properties"), c));

    Process p = child.start(null);
    long deadline = System.currentTimeMillis() + 240_000;
    while (!child.log().contains("graceful batch 0:")) {
      assertThat(p.isAlive()).as("child ended before its first batch; log:\n%s", child.tail()).isTrue();
      assertThat(System.currentTimeMillis()).as("first batch within 240 s; log:\n%s", child.tail()).isLessThan(deadline);
      Thread.sleep(100); // polling the child's log; the order comes from the log, not from the pause
    }
    p.destroy(); // SIGTERM
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("child stopped within 120 s; log:\n%s", child.tail()).isTrue();
    assertThat(p.exitValue()).as("exit status after SIGTERM; log:\n%s", child.tail()).isZero();

    long reportedWritten = 0;
    long lastBatch = -1;
    for (String line : Files.readAllLines(dir.resolve("metrics.jsonl"))) {
      JsonNode n = JSON.readTree(line);
      reportedWritten += n.get("written").asLong();
      lastBatch = Math.max(lastBatch, n.get("batch_id").asLong());
    }
    long inSink = spark.read().parquet(dir.resolve("out").toString()).count();
    assertThat(reportedWritten).as("every committed batch is in metrics.file, the last one included").isEqualTo(inSink);
    assertThat(lastBatch).as("batches ran until the signal").isGreaterThanOrEqualTo(0);
    assertThat(inSink).as("stopped before the end of the input").isLessThan(40 * 20);
  }
}
