package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.sink.registry.Sinks;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The {@code sink.postgres.*} keys read without a database: defaults, values, and errors that name the key. */
class PostgresOptionsTest {

  private static Map<String, String> config() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("sink.type", "postgres");
    c.put("sink.name", "w");
    c.put("sink.mode", "append");
    c.put("sink.postgres.url", "jdbc:postgresql://127.0.0.1/test");
    c.put("sink.postgres.table", "t");
    return c;
  }

  private static PostgresOptions read(Map<String, String> c) {
    return ((PostgresSink) Sinks.fromConfig(c)).options();
  }

  @Test
  void aTaskLockTimeoutThatWouldNotBoundTheWaitIsRefused() {
    Map<String, String> c = config();
    c.put("sink.postgres.task.lock.timeout", "0s");
    assertThatThrownBy(() -> Sinks.fromConfig(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.postgres.task.lock.timeout: '0s' is too short: staging tasks would wait without limit.");
    c.put("sink.postgres.task.lock.timeout", "30s");
    assertThat(read(c).taskLockTimeout()).hasSeconds(30);
  }

  @Test
  void theDirectPathPrefetchesOnePartitionUnlessToldOtherwise() {
    Map<String, String> c = config();
    assertThat(read(c).directPrefetch()).isEqualTo(PostgresOptions.DIRECT_PREFETCH_DEFAULT).isEqualTo(1);
    c.put("sink.postgres.direct.prefetch", "0");
    assertThat(read(c).directPrefetch()).isZero();
    c.put("sink.postgres.direct.prefetch", "9");
    assertThatThrownBy(() -> read(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.postgres.direct.prefetch: '9' is out of range. Use a whole number from 0 to 8.");
    assertThatThrownBy(() -> PostgresOptions.builder().directPrefetch(-1)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.postgres.direct.prefetch: '-1' is out of range. Use 0 (one partition after another) to 8.");
  }
}
