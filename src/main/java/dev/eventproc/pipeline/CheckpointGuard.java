package dev.eventproc.pipeline;

import dev.eventproc.config.ConfigException;
import dev.eventproc.stage.SourceOptions;
import dev.eventproc.stage.StageOptions;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * Refuses to run a pipeline on a checkpoint written for a different one. Spark restarts from a
 * checkpoint whatever the query now reads or keys by, and state built for other keys or another
 * schema then gives wrong answers quietly (or fails deep inside a state store). The guard stores a
 * fingerprint of what the checkpoint depends on (source, schema, keys, event time, stage) in
 * {@value #FILE} inside the checkpoint, and on a restart compares it with the config, naming every
 * key that changed. {@code eventproc run --reset-checkpoint} (or {@link #reset}) deletes the checkpoint
 * and starts over: the query reads from the source's starting offsets again under a new query id.
 */
public final class CheckpointGuard {
  /** The fingerprint's file name inside the checkpoint directory. */
  public static final String FILE = "eventproc-fingerprint.properties";
  private static final List<String> KEYS = List.of(SourceOptions.TYPE, SourceOptions.KAFKA_TOPIC, SourceOptions.FILES_PATH,
      SourceOptions.KEY_COLUMNS, SourceOptions.EVENT_TIME_COLUMN, StageOptions.TYPE, StageOptions.VERSION_COLUMN,
      StageOptions.TIEBREAK_COLUMN, StageOptions.WINDOW_DURATION, StageOptions.WINDOW_SLIDE, StageOptions.GROUP_COLUMNS,
      StageOptions.AGGREGATES, StageOptions.AGGREGATE_DEDUPE);

  private CheckpointGuard() {}

  /** What the checkpoint depends on, per config key; the schema in Spark's normalised DDL. */
  static Map<String, String> fingerprint(PipelineConfig config) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String k : KEYS) {
      String v = config.raw().get(k);
      out.put(k, v == null ? "" : v.trim());
    }
    out.put(SourceOptions.SCHEMA, config.source().schema().toDDL());
    return out;
  }

  /**
   * Writes the fingerprint into a new checkpoint, or checks it against a used one.
   *
   * @throws ConfigException naming each changed key, with its old and new value, and the way out
   */
  public static void check(SparkSession spark, PipelineConfig config) {
    Path dir = new Path(config.checkpoint());
    Map<String, String> now = fingerprint(config);
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      Path file = new Path(dir, FILE);
      boolean used = fs.exists(new Path(dir, "offsets")) || fs.exists(new Path(dir, "metadata"));
      if (used && fs.exists(file)) {
        Map<String, String> before = read(fs, file);
        List<String> changes = new ArrayList<>();
        now.forEach((k, v) -> {
          String old = before.getOrDefault(k, "");
          if (!old.equals(v)) {
            changes.add(k + " was '" + old + "', now '" + v + "'");
          }
        });
        if (!changes.isEmpty()) {
          throw new ConfigException("checkpoint " + config.checkpoint() + " was written by a pipeline with a different "
              + "source, schema, key or stage, and its offsets and state do not fit this one: " + String.join("; ", changes)
              + ". Set the old values back, use a new checkpoint.location, or run with --reset-checkpoint to delete it "
              + "and read the source again from its starting offsets.");
        }
        return;
      }
      write(fs, file, now);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read or write " + FILE + " in checkpoint " + config.checkpoint() + ": " + e, e);
    }
  }

  /** Deletes the pipeline's checkpoint (offsets, state and fingerprint). */
  public static void reset(SparkSession spark, PipelineConfig config) {
    Path dir = new Path(config.checkpoint());
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (fs.exists(dir) && !fs.delete(dir, true)) {
        throw new IllegalStateException("could not delete checkpoint " + config.checkpoint());
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot delete checkpoint " + config.checkpoint() + ": " + e, e);
    }
  }

  private static Map<String, String> read(FileSystem fs, Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = new InputStreamReader(fs.open(file), StandardCharsets.UTF_8)) {
      p.load(r);
    }
    Map<String, String> out = new LinkedHashMap<>();
    p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
    return out;
  }

  private static void write(FileSystem fs, Path file, Map<String, String> values) throws IOException {
    Properties p = new Properties();
    p.putAll(values);
    try (Writer w = new OutputStreamWriter(fs.create(file, true), StandardCharsets.UTF_8)) {
      p.store(w, "what this checkpoint was written for; see eventproc CheckpointGuard");
    }
  }
}
