package dev.eventproc.pipeline;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * What a Spark checkpoint says, read from its files without starting a query: the query id (the
 * second half of every sink's writer identity, in {@code metadata}), the last batch Spark planned (its
 * offsets are in {@code offsets/<n>}, written before the batch runs) and the last batch Spark recorded
 * as done ({@code commits/<n>}, written after the sinks committed).
 *
 * @param queryId the query id, or null when the checkpoint has none yet (the pipeline never started)
 * @param lastPlanned the highest batch in {@code offsets/}, or -1
 * @param lastCommitted the highest batch in {@code commits/}, or -1
 */
public record CheckpointState(String queryId, long lastPlanned, long lastCommitted) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** Reads the checkpoint at {@code location} through the session's Hadoop configuration. */
  public static CheckpointState read(SparkSession spark, String location) {
    Path dir = new Path(location);
    try {
      FileSystem fs = dir.getFileSystem(spark.sessionState().newHadoopConf());
      return new CheckpointState(queryId(fs, new Path(dir, "metadata")), highest(fs, new Path(dir, "offsets")),
          highest(fs, new Path(dir, "commits")));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the checkpoint at " + location + ": " + e.getMessage(), e);
    }
  }

  /** Whether the query ever started on this checkpoint. */
  public boolean started() {
    return queryId != null;
  }

  private static String queryId(FileSystem fs, Path metadata) throws IOException {
    if (!fs.exists(metadata)) {
      return null;
    }
    try (InputStream in = fs.open(metadata)) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).trim();
      JsonNode id = text.isEmpty() ? null : JSON.readTree(text.lines().findFirst().orElse("")).get("id");
      if (id == null || !id.isTextual()) {
        throw new IOException(metadata + " holds no query id (expected {\"id\":\"...\"}, found '" + text + "')");
      }
      return id.asText();
    }
  }

  /** The highest batch file ({@code <n>}, not Hadoop's hidden {@code .<n>.crc} or a temporary file) in a log, or -1. */
  private static long highest(FileSystem fs, Path log) throws IOException {
    if (!fs.exists(log)) {
      return -1;
    }
    long max = -1;
    for (FileStatus s : fs.listStatus(log)) {
      String n = s.getPath().getName();
      if (s.isFile() && n.matches("\\d{1,18}")) {
        max = Math.max(max, Long.parseLong(n));
      }
    }
    return max;
  }
}
