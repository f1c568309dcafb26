package dev.eventproc.testutils;

import dev.eventproc.cli.EventGenerator;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** The config most pipeline tests start from: events as JSON files, one file per batch. */
public final class PaymentFiles {
  private PaymentFiles() {}

  /**
   * An available-now pipeline named {@code name} reading {@code dir/in} one file per batch, keyed by
   * {@code payment_id} on {@code event_time}, its checkpoint in {@code dir/checkpoint}; the caller adds the
   * stage and sinks. A mutable map, in insertion order.
   */
  public static Map<String, String> pipeline(String name, Path dir) {
    return filesPipeline(name, dir, EventGenerator.SCHEMA, "payment_id");
  }

  /** The same over files of any {@code schema}, keyed by {@code keyColumn}, with an {@code event_time} column. */
  public static Map<String, String> filesPipeline(String name, Path dir, String schema, String keyColumn) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", name);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.files.max.files.per.trigger", "1");
    c.put("source.schema", schema);
    c.put("source.key.columns", keyColumn);
    c.put("source.event.time.column", "event_time");
    return c;
  }
}
