package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The config rules of sink.mode=history: a version column, and a stage that hands over every version. */
public class HistoryConfigTest {
  private static Map<String, String> history() {
    Map<String, String> c = PipelineConfigTest.valid();
    c.put("sink.mode", "history");
    c.put("stage.type", "none");
    c.remove("stage.watermark.delay");
    return c;
  }

  private static ConfigException invalid(Map<String, String> c) {
    return PipelineConfigTest.invalid(c);
  }

  @Test
  void historyAfterNoStageOrAfterFirstSeenOnKeyAndVersionIsAccepted() {
    PipelineConfig.from(EventprocConfig.of(history()));
    Map<String, String> c = history();
    c.put("stage.type", "dedupe-first-seen");
    c.put("stage.watermark.delay", "10 minutes");
    c.put("source.key.columns", "payment_id,version");
    SinkSpec spec = ((AbstractBatchSink) PipelineConfig.from(EventprocConfig.of(c)).sink()).spec();
    assertThat(spec.mode()).isEqualTo(WriteMode.HISTORY);
    assertThat(spec.keysUniquePerBatch()).as("one row per (key, version) is not one row per key").isFalse();
  }

  @Test
  void historyNeedsAVersionColumn() {
    Map<String, String> c = history();
    c.remove("sink.version.column");
    assertThat(invalid(c).problems()).containsExactly("sink.version.column is required with mode history: it orders the "
        + "versions of a key and fills __start_at/__end_at. Set it to the column that orders changes, e.g. updated_at or lsn.");
    assertThatThrownBy(() -> SinkSpec.builder().name("h").mode(WriteMode.HISTORY).keyColumns("id").build())
        .hasMessageContaining("sink.version.column is required with mode history");
  }

  @Test
  void historyIsRefusedAfterDedupeLatestSayingWhy() {
    Map<String, String> c = history();
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.watermark.delay", "10 minutes");
    assertThat(invalid(c).problems()).containsExactly("sink.mode: 'history' cannot follow stage.type=dedupe-latest: that "
        + "stage keeps only the newest version of each key and drops the older ones, which are the rows sink.mode=history keeps. "
        + "Use stage.type=none, or dedupe-first-seen on the key and version (source.key.columns=payment_id,version) to drop "
        + "redelivered copies.");
  }

  @Test
  void historyIsRefusedAfterFirstSeenOnTheKeyAlone() {
    Map<String, String> c = history();
    c.put("stage.type", "dedupe-first-seen");
    c.put("stage.watermark.delay", "10 minutes");
    assertThat(invalid(c).problems()).containsExactly("sink.mode: 'history' cannot follow stage.type=dedupe-first-seen on "
        + "payment_id alone: it keeps the first version of each key and drops the later ones, which sink.mode=history keeps. "
        + "Add the version column to the stage's keys (source.key.columns=payment_id,version), or use stage.type=none.");
  }

  @Test
  void historyIsOnlyForTableSinksAndItsColumnNamesAreReserved() {
    Map<String, String> kafka = history();
    kafka.keySet().removeIf(k -> k.startsWith("sink.delta."));
    kafka.put("sink.type", "kafka");
    kafka.put("sink.kafka.bootstrap.servers", "127.0.0.1:9092");
    kafka.put("sink.kafka.topic", "payments");
    assertThat(invalid(kafka).problems()).anyMatch(p -> p.startsWith("sink.mode: 'history' does not apply to a Kafka topic"));
    assertThatThrownBy(() -> SinkSpec.builder().name("h").mode(WriteMode.HISTORY).keyColumns("__start_at").versionColumn("v")
        .build()).hasMessageContaining("sink.key.columns: '__start_at' is a column the history mode adds. Rename the column.");
  }
}
