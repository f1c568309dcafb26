package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.cli.EventGenerator;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQueryProgress;
import org.junit.jupiter.api.Test;

/**
 * eventproc's metrics where Spark operators look. The Prometheus test runs {@code eventproc run} with
 * {@code metrics.spark=true} in a child JVM (the PrometheusServlet needs the Spark UI, which the shared
 * test session keeps off; {@code spark.ui.port=0} takes a free port), scrapes the driver's
 * {@code /metrics/prometheus} over HTTP and finds the values of the batches it ran (its metrics file).
 */
class SparkMetricsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofMinutes(3);
  private static final Pattern UI = Pattern.compile("Spark UI at (http://\\S+)");

  @Test
  void theDriversPrometheusEndpointShowsTheBatchesEventprocRan() throws Exception {
    Path dir = TestSpark.newDir("spark-metrics");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(8, 11).withMalformedRate(0.2));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 2);
    String name = "metrics_job";
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", name);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.files.max.files.per.trigger", "1");
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("sink.type", "files");
    c.put("sink.mode", "append");
    c.put("sink.files.path", dir.resolve("out").toString());
    c.put("quarantine.type", "files");
    c.put("quarantine.files.path", dir.resolve("quarantine").toString());
    c.put("metrics.file", dir.resolve("metrics.jsonl").toString());
    c.put("metrics.spark", "true");
    c.put("spark.ui.enabled", "true");
    c.put("spark.ui.port", "0");
    c.put("spark.metrics.conf.*.sink.prometheusServlet.class", "org.apache.spark.metrics.sink.PrometheusServlet");
    c.put("spark.metrics.conf.*.sink.prometheusServlet.path", "/metrics/prometheus");
    ChildPipeline child = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("job.properties"), c));

    Process p = child.start(null);
    try {
      long deadline = System.nanoTime() + WAIT.toNanos();
      List<JsonNode> batches = List.of();
      long input = 0;
      while (input < feed.messages().size()) {
        assertThat(p.isAlive()).as("the child runs; log:\n%s", child.tail()).isTrue();
        assertThat(System.nanoTime()).as("all input read within %s; log:\n%s", WAIT, child.tail()).isLessThan(deadline);
        Thread.sleep(200);
        batches = lines(dir.resolve("metrics.jsonl"));
        input = batches.stream().mapToLong(b -> b.get("input_rows").asLong()).sum();
      }
      Matcher ui = UI.matcher(child.log());
      assertThat(ui.find()).as("the child logs its UI address; log:\n%s", child.tail()).isTrue();
      String scraped = scrape(ui.group(1) + "/metrics/prometheus");

      long written = batches.stream().mapToLong(b -> b.get("written").asLong()).sum();
      long quarantined = batches.stream().mapToLong(b -> b.get("quarantined").asLong()).sum();
      long withRows = batches.stream().filter(b -> b.get("written").asLong() > 0).count();
      assertThat(quarantined).as("the feed has malformed rows").isPositive();
      String sink = "eventproc_" + name + "_" + name + "_";
      String quarantine = "eventproc_" + name + "_" + name + "_quarantine_";
      String pipeline = "eventproc_" + name + "_";
      assertThat(value(scraped, sink + "rows_written_Value")).isEqualTo(written);
      assertThat(value(scraped, sink + "batches_committed_Value")).isEqualTo(withRows);
      assertThat(value(scraped, sink + "replays_skipped_Value")).isZero();
      assertThat(value(scraped, sink + "commit_time_Count")).isEqualTo(withRows);
      assertThat(value(scraped, quarantine + "rows_written_Value")).isEqualTo(quarantined);
      assertThat(value(scraped, pipeline + "batches_Count")).isEqualTo(batches.size());
      assertThat(value(scraped, pipeline + "input_rows_Count")).isEqualTo(feed.messages().size());
      assertThat(value(scraped, pipeline + "quarantined_Count")).isEqualTo(quarantined);
      assertThat(value(scraped, pipeline + "accounting_not_closed_Count")).isZero();
      assertThat(value(scraped, pipeline + "last_batch_id_Value")).isEqualTo(batches.get(batches.size() - 1).get("batch_id").asLong());
      System.out.println("SCRAPED eventproc lines:\n" + scraped.lines().filter(l -> l.contains("_eventproc_"))
          .reduce("", (a, b) -> a + b + "\n"));
    } finally {
      ChildPipeline.kill9(p);
    }
  }

  @Test
  void theBatchCountsAreObservedMetricsOfTheQueryProgress() {
    SparkSession spark = TestSpark.session();
    Path dir = TestSpark.newDir("observed");
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(8, 12).withMalformedRate(0.2));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 1);
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "observed");
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("sink.type", "files");
    c.put("sink.mode", "append");
    c.put("sink.files.path", dir.resolve("out").toString());
    c.put("quarantine.type", "files");
    c.put("quarantine.files.path", dir.resolve("quarantine").toString());
    Pipeline done = PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), null);

    StreamingQueryProgress batch0 = done.query().recentProgress()[0];
    Row observed = batch0.observedMetrics().get(BatchCounts.observationName("observed"));
    assertThat(observed).as("observed metrics of batch 0: %s", batch0.observedMetrics()).isNotNull();
    QuarantineSplit.Split split = done.split().outcome(0);
    assertThat((long) observed.getAs(BatchCounts.ROWS)).isEqualTo(feed.messages().size());
    assertThat((long) observed.getAs(BatchCounts.TO_SINK)).isEqualTo(split.main().rowsIn());
    assertThat((long) observed.getAs(BatchCounts.QUARANTINED)).isEqualTo(split.quarantine().rowsIn()).isPositive();
  }

  private static List<JsonNode> lines(Path file) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    if (Files.exists(file)) {
      for (String l : Files.readAllLines(file)) {
        if (!l.isBlank()) {
          out.add(JSON.readTree(l));
        }
      }
    }
    return out;
  }

  private static String scrape(String url) throws Exception {
    HttpResponse<String> r = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NORMAL).build().send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(30))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s", url).isEqualTo(200);
    return r.body();
  }

  /** The value of the one metric whose name ends with {@code suffix}. */
  private static long value(String scraped, String suffix) {
    Matcher m = Pattern.compile("(?m)^metrics_\\S*_" + Pattern.quote(suffix) + "(\\{[^}]*\\})? (-?[0-9.E]+)$").matcher(scraped);
    assertThat(m.find()).as("a metric ending %s in:\n%s", suffix, scraped.lines().filter(l -> l.contains("eventproc"))
        .reduce("", (a, b) -> a + b + "\n")).isTrue();
    return (long) Double.parseDouble(m.group(2));
  }
}
