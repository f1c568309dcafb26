package dev.eventproc.config;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineConfigTest;
import dev.eventproc.sink.SinkType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * Every key the code reads is documented in README: configs using each source and, through a fan-out,
 * each sink adapter are read, and each key (with {@code quarantine.*} documented as {@code sink.*},
 * {@code sink.<name>.*} as {@code sink.*}) must appear in README.
 */
class ReadmeKeysTest {
  @Test
  void everyKeyIsInTheReadme() throws Exception {
    String readme = Files.readString(Path.of("README.md"));
    Set<String> keys = new TreeSet<>();
    for (String source : new String[] {"files", "kafka"}) {
      Map<String, String> c = PipelineConfigTest.valid();
      c.put("source.type", source);
      keys.addAll(PipelineConfig.keysRead(EventprocConfig.of(c)));
    }
    Map<String, String> all = PipelineConfigTest.valid();
    all.keySet().removeIf(k -> k.startsWith("sink."));
    StringBuilder names = new StringBuilder();
    for (SinkType t : SinkType.values()) {
      String n = t.name().toLowerCase(Locale.ROOT) + "_sink";
      names.append(names.length() == 0 ? "" : ",").append(n);
      all.put("sink." + n + ".type", t.name().toLowerCase(Locale.ROOT));
      all.put("sink." + n + ".mode", "append");
    }
    all.put("sinks", names.toString());
    keys.addAll(PipelineConfig.keysRead(EventprocConfig.of(all)));

    Set<String> missing = new TreeSet<>();
    for (String k : keys) {
      String documented = k.startsWith("quarantine.") ? "sink." + k.substring("quarantine.".length()) : k;
      for (SinkType t : SinkType.values()) {
        documented = documented.replace("sink." + t.name().toLowerCase(Locale.ROOT) + "_sink.query", "sink.<name>.query")
            .replace("sink." + t.name().toLowerCase(Locale.ROOT) + "_sink.", "sink.");
      }
      if (!readme.contains("`" + documented + "`")) {
        missing.add(documented);
      }
    }
    assertThat(keys).contains("pipeline.name", "sink.delta.path", "source.kafka.option.*", "spark.*", "sinks",
        "sink.postgres_sink.postgres.url", "sink.kafka_sink.kafka.producer.*", "sink.iceberg_sink.iceberg.table");
    assertThat(missing).as("keys read by the code but not documented in README").isEmpty();
  }
}
