package dev.eventproc.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.function.Consumer;

/**
 * Appends one JSON object per batch to a local file ({@code metrics.file}), for log shippers and
 * dashboards: the fields of {@link ProgressListener.BatchStats} in snake case, the pipeline name and
 * {@code accounting_closes}.
 */
public final class MetricsFile implements Consumer<ProgressListener.BatchStats> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String pipeline;
  private final Path file;

  public MetricsFile(String pipeline, Path file) {
    this.pipeline = pipeline;
    this.file = file;
  }

  /** The JSON line of a batch (without the newline). */
  public static String json(String pipeline, ProgressListener.BatchStats s) {
    ObjectNode n = JSON.createObjectNode();
    n.put("pipeline", pipeline);
    n.put("batch_id", s.batchId());
    n.put("input_rows", s.inputRows());
    n.put("written", s.written());
    n.put("duplicates_dropped", s.duplicatesDropped());
    n.put("late_dropped", s.lateDropped());
    n.put("quarantined", s.quarantined());
    n.put("accounting_closes", s.closes());
    n.put("state_rows", s.stateRows());
    n.put("state_memory_bytes", s.stateMemoryBytes());
    n.put("watermark", s.watermark());
    n.put("watermark_lag_ms", s.watermarkLagMillis());
    n.put("duration_ms", s.durationMillis());
    n.put("commit_ms", s.commitMillis());
    n.put("replays_skipped", s.replaysSkipped());
    n.put("kafka_offsets_behind", s.kafkaOffsetsBehind());
    return n.toString();
  }

  @Override
  public synchronized void accept(ProgressListener.BatchStats s) {
    try {
      if (file.getParent() != null) {
        Files.createDirectories(file.getParent());
      }
      Files.writeString(file, json(pipeline, s) + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE,
          StandardOpenOption.APPEND);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append batch metrics to " + file, e);
    }
  }
}
