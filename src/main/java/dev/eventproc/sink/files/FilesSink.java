package dev.eventproc.sink.files;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileContext;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Options;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once files: each batch becomes one directory {@code <path>/batch_id=<n>/} of Parquet (or
 * JSON-lines) files, readable with a plain {@code spark.read.parquet(path)} ({@code batch_id} comes back
 * as a partition column). The batch is written aside under {@code <path>/_tmp/}, a hidden marker file
 * {@code _eventproc_commit} naming the writer is added, and the directory is renamed into place: the
 * rename is the commit, and the marker is the commit record. A replayed batch finds its directory with
 * its writer's marker and is skipped; a directory left by another writer (a reset checkpoint) is
 * replaced, and only that one.
 *
 * <p>The rename must be atomic: true on local disks and HDFS, not on object stores such as S3 (use a
 * Delta or Iceberg sink there). Append mode only.
 */
public final class FilesSink extends AbstractBatchSink {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(FilesSink.class);

  public static final String PATH = "files.path";
  public static final String FORMAT = "files.format";
  static final String MARKER = "_eventproc_commit";
  static final String TMP = "_tmp";
  static final String PARTITION = "batch_id";

  /** File formats, as written in {@code files.format}. */
  public enum Format { PARQUET, JSON }

  private final String path;
  private final Format format;

  private FilesSink(SinkSpec spec, String path, Format format) {
    super(spec);
    this.path = path;
    this.format = format;
  }

  /** Reads the {@code files.*} keys of a sink scope. */
  public static FilesSink fromConfig(SinkSpec spec, ConfigReader scope) {
    String path = scope.path(PATH, "Give the directory (or URI) the batches go to.");
    Format format = scope.choice(FORMAT, Format.class, Format.PARQUET);
    if (spec != null && spec.mode() != WriteMode.APPEND) {
      scope.problem(SinkSpec.MODE, "'" + ConfigReader.configName(spec.mode()) + "' does not apply to files: a files sink only "
          + "appends (one directory per batch). Set " + spec.key(SinkSpec.MODE) + "=append, or use a table sink.");
      return null;
    }
    return spec == null || path == null ? null : new FilesSink(spec, path, format);
  }

  /** A files sink in append mode. */
  public static FilesSink create(SinkSpec spec, String path, Format format) {
    if (spec.mode() != WriteMode.APPEND) {
      throw new dev.eventproc.config.ConfigException(spec.key(SinkSpec.MODE) + ": a files sink only appends. Use mode append.");
    }
    return new FilesSink(spec, path, format);
  }

  public Format format() {
    return format;
  }

  @Override
  public String target() {
    return path;
  }

  Path batchDir(long batchId) {
    return new Path(path, PARTITION + "=" + batchId);
  }

  private static FileSystem fs(SparkSession session, Path p) {
    try {
      Configuration conf = session.sessionState().newHadoopConf();
      return p.getFileSystem(conf);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  protected boolean isCommitted(SparkSession session, WriterId writer, long batchId) {
    Path dir = batchDir(batchId);
    try {
      return writer.appId().equals(markerWriter(fs(session, dir), dir));
    } catch (IOException e) {
      throw new UncheckedIOException("sink " + name() + ": cannot read " + new Path(dir, MARKER), e);
    }
  }

  /** A batch is written in one pass; its row count is read back from what was written. */
  @Override
  protected boolean writesInOnePass() {
    return true;
  }

  @Override
  protected CommitResult commit(BatchContext batch) {
    SparkSession session = batch.session();
    Path finalDir = batchDir(batch.batchId());
    Path tmp = new Path(new Path(path, TMP), PARTITION + "=" + batch.batchId() + "-" + UUID.randomUUID());
    FileSystem fs = fs(session, finalDir);
    String fmt = format == Format.PARQUET ? "parquet" : "json";
    batch.rows().write().format(fmt).mode("errorifexists").save(tmp.toString());
    // Parquet answers a count from its footers; JSON is read once more (still cheaper than the batch's plan).
    long rows = batch.rowsIn() != BatchContext.UNKNOWN ? batch.rowsIn()
        : session.read().schema(batch.rows().schema()).format(fmt).load(tmp.toString()).count();
    try {
      try (FSDataOutputStream out = fs.create(new Path(tmp, MARKER), false)) {
        out.write((batch.writer().appId() + "\n" + batch.batchId() + "\n" + rows + "\n").getBytes(StandardCharsets.UTF_8));
      }
      if (fs.exists(finalDir)) {
        if (batch.writer().appId().equals(markerWriter(fs, finalDir))) {
          // Another attempt of this very writer (a zombie driver) committed it since we looked: keep its directory.
          fs.delete(tmp, true);
          return CommitResult.skipped();
        }
        LOG.warn("sink={} target={} batch={}: replacing {} left by another writer (a reset checkpoint?)", name(), target(),
            batch.batchId(), finalDir);
        fs.delete(finalDir, true);
      }
      fs.mkdirs(finalDir.getParent());
      renameNoClobber(session, fs, tmp, finalDir);
      cleanTmp(fs, batch.batchId());
      return CommitResult.written(rows);
    } catch (IOException e) {
      throw new UncheckedIOException("sink " + name() + ": cannot commit batch " + batch.batchId() + " to " + finalDir, e);
    }
  }

  /**
   * Renames the batch directory into place, failing (never merging, never nesting) when the target
   * appeared meanwhile, e.g. from a racing attempt of this writer; the caller then reads the marker.
   * Hadoop's {@code FileSystem.rename} would move the source <em>into</em> an existing directory, and
   * its local implementation falls back to a copy; so local paths use one rename(2) call, other file
   * systems {@code FileContext.rename} without overwrite (atomic on HDFS).
   */
  private static void renameNoClobber(SparkSession session, FileSystem fs, Path from, Path to) throws IOException {
    if ("file".equals(fs.getScheme())) {
      java.nio.file.Files.move(java.nio.file.Path.of(fs.makeQualified(from).toUri()), java.nio.file.Path.of(fs.makeQualified(to).toUri()),
          java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    FileContext fc = FileContext.getFileContext(fs.getUri(), session.sessionState().newHadoopConf());
    fc.rename(from, to, Options.Rename.NONE);
  }

  /** The writer named by a batch directory's marker, or null when it has none. */
  private static String markerWriter(FileSystem fs, Path batchDir) throws IOException {
    Path marker = new Path(batchDir, MARKER);
    if (!fs.exists(marker)) {
      return null;
    }
    try (FSDataInputStream in = fs.open(marker)) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      int end = text.indexOf('\n');
      return end < 0 ? text : text.substring(0, end);
    }
  }

  /** Removes what crashed attempts of this batch left under _tmp. */
  private void cleanTmp(FileSystem fs, long batchId) throws IOException {
    Path tmpRoot = new Path(path, TMP);
    if (!fs.exists(tmpRoot)) {
      return;
    }
    for (FileStatus s : fs.listStatus(tmpRoot)) {
      if (s.getPath().getName().startsWith(PARTITION + "=" + batchId + "-")) {
        fs.delete(s.getPath(), true);
      }
    }
  }
}
