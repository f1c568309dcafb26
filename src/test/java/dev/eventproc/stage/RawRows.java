package dev.eventproc.stage;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.TestSpark;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Raw rows as a source hands them to {@link EventStream#parse}, for tests of the parse step on a static frame. */
final class RawRows {
  private RawRows() {}

  /** The raw bytes, the source position and the time received (null: none). */
  static StructType schema() {
    return new StructType().add(EventStream.RAW, DataTypes.BinaryType).add(EventStream.POSITION, DataTypes.StringType)
        .add("_eventproc_received", DataTypes.TimestampType);
  }

  /** A files source of {@code id STRING, ts TIMESTAMP} keyed by id with event time ts, plus {@code extra} keys. */
  static SourceOptions filesSource(String dirName, Map<String, String> extra) {
    Map<String, String> c = new HashMap<>(Map.of("source.type", "files", "source.files.path", TestSpark.newDir(dirName).toString(),
        "source.schema", "id STRING, ts TIMESTAMP", "source.key.columns", "id", "source.event.time.column", "ts"));
    c.putAll(extra);
    return SourceOptions.read(new ConfigReader(EventprocConfig.of(c)));
  }
}
