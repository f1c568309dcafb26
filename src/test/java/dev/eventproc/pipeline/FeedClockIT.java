package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * The generator's feed lies before the clock it is made with, so a pipeline that received it at that time
 * quarantines none of it as ahead: the demo and the tests do not depend on today's date (the feed once
 * started at 2026-01-01 whatever the clock said).
 */
class FeedClockIT {
  /** Before the generator's old fixed start (2026-01-01), as a machine whose clock is behind may read. */
  private static final Instant CLOCK = Instant.parse("2025-06-01T12:00:00Z");
  private final SparkSession spark = TestSpark.session();

  @Test
  void aFeedMadeOnAClockBeforeItsOldStartReachesTheSinkWhole() {
    Clock clock = Clock.fixed(CLOCK, ZoneOffset.UTC);
    EventGenerator.Spec spec = EventGenerator.Spec.payments(200, 3, clock).withVersions(2, 0.1).withMalformedRate(0);
    EventGenerator.Output feed = EventGenerator.generate(spec);

    Path dir = TestSpark.newDir("feed-clock");
    JsonFiles.write(dir.resolve("in"), feed.messages(), 2, CLOCK); // received when that clock said
    Map<String, String> c = PipelineIT.base(dir, "feed_clock");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("sink.mode", "upsert");
    c.put("sink.version.column", "version");
    c.put("sink.delete.condition", "op = 'd'");
    PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(c)), null);

    Path quarantine = dir.resolve("checkpoint-quarantine");
    long quarantined = Files.exists(quarantine) ? spark.read().format("delta").load(quarantine.toString()).count() : 0;
    assertThat(quarantined).as("rows quarantined (as event-time-in-future)").isZero();
    Map<String, String> expected = new TreeMap<>();
    for (Event e : feed.oracle().latest().values()) {
      expected.put(e.paymentId(), e.version() + ":" + e.amount().toPlainString());
    }
    Map<String, String> actual = new TreeMap<>();
    for (Row r : spark.read().format("delta").load(dir.resolve("table").toString())
        .selectExpr("payment_id", "concat(version, ':', amount)").collectAsList()) {
      actual.put(r.getString(0), r.getString(1));
    }
    assertThat(actual).isEqualTo(expected);
    assertThat(feed.messages()).allSatisfy(m -> assertThat(m.event().eventTime()).isBefore(CLOCK));
    assertThat(EventGenerator.generate(EventGenerator.Spec.payments(200, 3, clock).withVersions(2, 0.1).withMalformedRate(0)))
        .as("the same feed for a seed and a clock").isEqualTo(feed);
  }
}
