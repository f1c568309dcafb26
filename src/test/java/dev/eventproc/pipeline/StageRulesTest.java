package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stage's config rules that keep surprising input from being dropped without a trace (issue 21). */
class StageRulesTest {

  private static PipelineConfig config(Map<String, String> c) {
    return PipelineConfig.from(EventprocConfig.of(c));
  }

  @Test
  void aFutureSkewAboveTheWatermarkDelayIsRefusedWithItsConsequence() {
    Map<String, String> c = PipelineConfigTest.valid();
    c.put("source.max.future.skew", "1 hour");
    assertThatThrownBy(() -> config(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.max.future.skew: 1.0 h is more than stage.watermark.delay (10.0 min)")
        .hasMessageContaining("dropped as late");
    c.put("source.max.future.skew", "10 minutes");
    assertThat(config(c).source().maxFutureSkew()).hasMinutes(10);
    c.remove("source.max.future.skew");
    assertThat(config(c).source().maxFutureSkew()).as("the default is below the default delay").hasMinutes(1);
  }

  private static Map<String, String> latest(String type) {
    Map<String, String> c = PipelineConfigTest.valid();
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("sink.type", type);
    c.remove("sink.delta.path");
    switch (type) {
      case "delta" -> c.put("sink.delta.path", "/tmp/t");
      case "iceberg" -> c.put("sink.iceberg.table", "lake.db.t");
      case "postgres" -> {
        c.put("sink.postgres.url", "jdbc:postgresql://127.0.0.1:5432/postgres");
        c.put("sink.postgres.table", "t");
      }
      case "kafka" -> {
        c.put("sink.kafka.bootstrap.servers", "127.0.0.1:9092");
        c.put("sink.kafka.topic", "t");
      }
      default -> throw new IllegalArgumentException(type);
    }
    return c;
  }

  /**
   * After a key's state expires, dedupe-latest emits an older version that is still on time: a keyed
   * sink without the stage's version (and tie-break) would take it. Such a pipeline is refused.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"delta", "iceberg", "postgres", "kafka"})
  void dedupeLatestRequiresItsKeyedSinksToCarryTheSameVersionAndTiebreak(String type) {
    Map<String, String> c = latest(type);
    c.remove("sink.version.column");
    assertThatThrownBy(() -> config(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.version.column is required behind stage.type=dedupe-latest (stage.version.column=version)")
        .hasMessageContaining("older version");
    c.put("sink.version.column", "version");
    c.put("stage.tiebreak.column", "event_time");
    assertThatThrownBy(() -> config(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.tiebreak.column: must be event_time, as stage.tiebreak.column");
    c.put("sink.tiebreak.column", "event_time");
    assertThat(config(c).stage().tiebreakColumn()).isEqualTo("event_time");
  }

  /**
   * Strings order as text ("10" < "9") and PostgreSQL compares them under a collation: stage and
   * sinks could disagree on which row is newer. A string version or tie-break is refused everywhere.
   */
  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {"delta", "iceberg", "postgres", "kafka"})
  void stringVersionsAreRefusedInTheStageAndInEverySink(String type) {
    Map<String, String> c = latest(type);
    c.put("stage.version.column", "op");
    c.put("sink.version.column", "op");
    assertThatThrownBy(() -> config(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("stage.version.column: 'op' is string")
        .hasMessageContaining("sink.version.column: 'op' is string in source.schema")
        .hasMessageContaining("\"10\" < \"9\"");
    Map<String, String> sinkOnly = latest(type);
    sinkOnly.put("stage.type", "none");
    sinkOnly.remove("stage.version.column");
    sinkOnly.put("sink.version.column", "op");
    if (!type.equals("kafka")) {
      assertThatThrownBy(() -> config(sinkOnly)).isInstanceOf(ConfigException.class)
          .hasMessageContaining("sink.version.column: 'op' is string in source.schema");
    }
  }
}
