package dev.eventproc.testutils;

import dev.eventproc.sink.SinkType;
import java.nio.file.Path;
import java.util.Map;

/** The target keys of one sink type for pipeline tests, each in its own place under a test directory. */
public final class SinkConfigs {
  private SinkConfigs() {}

  /**
   * Adds {@code sink.<type>.*} target keys: Delta at {@code dir/table}, Iceberg table
   * {@code <prefix>.db.<table>} in a Hadoop catalog at {@code dir/iceberg}, PostgreSQL table
   * {@code table} in a new schema named after {@code prefix}, files at {@code dir/files}, and a new
   * Kafka topic {@code <prefix>-<nanos>} on the test broker. Read them back from {@code c}.
   */
  public static Map<String, String> target(SinkType type, Map<String, String> c, Path dir, String prefix, String table) {
    switch (type) {
      case DELTA -> c.put("sink.delta.path", dir.resolve("table").toString());
      case ICEBERG -> {
        c.put("sink.iceberg.table", prefix + ".db." + table);
        c.put("sink.iceberg.warehouse", dir.resolve("iceberg").toString());
      }
      case POSTGRES -> {
        c.put("sink.postgres.url", TestPostgres.url());
        c.put("sink.postgres.user", TestPostgres.user());
        c.put("sink.postgres.schema", TestPostgres.newSchema(prefix));
        c.put("sink.postgres.table", table);
      }
      case FILES -> c.put("sink.files.path", dir.resolve("files").toString());
      case KAFKA -> {
        c.put("sink.kafka.bootstrap.servers", TestKafka.servers());
        c.put("sink.kafka.topic", prefix + "-" + Long.toHexString(System.nanoTime()));
      }
      default -> throw new IllegalStateException("no target for " + type);
    }
    return c;
  }
}
