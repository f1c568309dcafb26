package dev.eventproc.sink;

import java.util.Map;

/**
 * How sinks that write JSON text (Kafka records, JSON files) format timestamps: to the microsecond that
 * Spark holds, with the offset. Spark's JSON writer defaults to milliseconds
 * ({@code yyyy-MM-dd'T'HH:mm:ss[.SSS][XXX]}), which drops the last three digits of every timestamp.
 */
public final class JsonTimestamps {
  /** Options for {@code to_json} and for the JSON data source's writer. */
  public static final Map<String, String> OPTIONS = Map.of(
      "timestampFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX",
      "timestampNTZFormat", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS");

  private JsonTimestamps() {}
}
