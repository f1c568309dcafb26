package dev.eventproc.pipeline;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * The checkpoint guard's properties file: read it, create it only if absent (atomically: a file is
 * written aside, then linked or renamed into place without replacing one that appeared meanwhile), or
 * replace it whole.
 */
final class GuardFile {
  private static final String COMMENT = "what this checkpoint was written for; see eventproc CheckpointGuard";

  private GuardFile() {}

  static Map<String, String> read(FileSystem fs, Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = new InputStreamReader(fs.open(file), StandardCharsets.UTF_8)) {
      p.load(r);
    }
    Map<String, String> out = new TreeMap<>();
    p.stringPropertyNames().forEach(k -> out.put(k, p.getProperty(k)));
    return out;
  }

  /**
   * Writes the file unless it exists; false when another writer's file got there first. Local disks:
   * {@code link(2)}, which fails on an existing name; other file systems: {@code FileContext.rename}
   * without overwrite (atomic on HDFS).
   */
  static boolean createIfAbsent(FileSystem fs, SparkSession spark, Path file, Map<String, String> values) throws IOException {
    Path aside = writeAside(fs, file, values);
    try {
      if ("file".equals(fs.getScheme())) {
        Files.createLink(local(fs, file), local(fs, aside));
      } else {
        FileContext.getFileContext(fs.getUri(), spark.sparkContext().hadoopConfiguration()).rename(aside, file, Options.Rename.NONE);
      }
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) { // Hadoop's own FileAlreadyExistsException, or a real failure
      if (fs.exists(file)) {
        return false;
      }
      throw e;
    } finally {
      fs.delete(aside, false);
    }
  }

  /** Replaces the file whole (a reader sees the old one or the new one). */
  static void replace(FileSystem fs, SparkSession spark, Path file, Map<String, String> values) throws IOException {
    Path aside = writeAside(fs, file, values);
    try {
      if ("file".equals(fs.getScheme())) {
        Files.move(local(fs, aside), local(fs, file), StandardCopyOption.ATOMIC_MOVE);
      } else {
        FileContext.getFileContext(fs.getUri(), spark.sparkContext().hadoopConfiguration()).rename(aside, file, Options.Rename.OVERWRITE);
      }
    } finally {
      fs.delete(aside, false);
    }
  }

  private static Path writeAside(FileSystem fs, Path file, Map<String, String> values) throws IOException {
    fs.mkdirs(file.getParent());
    Path aside = new Path(file.getParent(), "." + file.getName() + "." + UUID.randomUUID() + ".tmp");
    Properties p = new Properties();
    p.putAll(values);
    try (Writer w = new OutputStreamWriter(fs.create(aside, false), StandardCharsets.UTF_8)) {
      p.store(w, COMMENT);
    }
    return aside;
  }

  private static java.nio.file.Path local(FileSystem fs, Path p) {
    return java.nio.file.Path.of(fs.makeQualified(p).toUri());
  }
}
