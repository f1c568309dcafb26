package dev.eventproc.sink.files;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.JsonTimestamps;
import dev.eventproc.sink.SchemaChange;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
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
 * Exactly-once files: batch n of a writer becomes one directory
 * {@code <path>/batch_id=<n>/writer-<sink>-<query id>/} of Parquet (or JSON-lines) files, readable with a
 * plain {@code spark.read.parquet(path)} ({@code batch_id} comes back as a partition column; the writer's
 * directory is passed over by partition discovery, see {@link BatchLayout}). The batch is written aside
 * under {@code <path>/_tmp/}, a hidden marker file {@code _eventproc_commit} naming the writer is added,
 * and the directory is renamed into place: the rename is the commit, and the marker is the commit
 * record. A replayed batch finds its directory with its writer's marker and is skipped. Every writer
 * has its own directory in each batch: a new writer (a reset checkpoint, another pipeline or a
 * quarantine on the same path) never deletes or overwrites a batch another writer committed.
 *
 * <p>The rename must be atomic: true on local disks and HDFS, not on object stores such as S3, where a
 * rename copies file by file. Paths on other file systems are refused unless
 * {@value #ALLOW_NON_ATOMIC_RENAME} is set (at the user's own risk). Append mode only.
 */
public final class FilesSink extends AbstractBatchSink {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(FilesSink.class);

  public static final String PATH = "files.path";
  public static final String FORMAT = "files.format";
  /** Accept a file system whose directory rename is not atomic (object stores), at the user's own risk. */
  public static final String ALLOW_NON_ATOMIC_RENAME = "files.allow.non.atomic.rename";
  public static final boolean ALLOW_NON_ATOMIC_RENAME_DEFAULT = false;
  /** File systems whose directory rename is atomic (a local disk, HDFS and HDFS federations). */
  static final Set<String> ATOMIC_RENAME_SCHEMES = Set.of("file", "hdfs", "viewfs");

  /** File formats, as written in {@code files.format}. */
  public enum Format { PARQUET, JSON }

  private final String path;
  private final Format format;
  private final boolean allowNonAtomicRename;
  private final BatchLayout layout;

  private FilesSink(SinkSpec spec, String path, Format format, boolean allowNonAtomicRename) {
    super(spec);
    this.path = path;
    this.format = format;
    this.allowNonAtomicRename = allowNonAtomicRename;
    this.layout = new BatchLayout(path);
  }

  /** Reads the {@code files.*} keys of a sink scope. */
  public static FilesSink fromConfig(SinkSpec spec, ConfigReader scope) {
    String path = scope.path(PATH, "Give the directory (or URI) the batches go to.");
    Format format = scope.choice(FORMAT, Format.class, Format.PARQUET);
    boolean allow = scope.bool(ALLOW_NON_ATOMIC_RENAME, ALLOW_NON_ATOMIC_RENAME_DEFAULT);
    if (path != null && !allow && nonAtomicScheme(path) != null) {
      scope.problem(PATH, nonAtomicMessage(path, nonAtomicScheme(path), scope.key(ALLOW_NON_ATOMIC_RENAME)));
      path = null;
    }
    if (spec != null && spec.mode() != WriteMode.APPEND) {
      scope.problem(SinkSpec.MODE, "'" + ConfigReader.configName(spec.mode()) + "' does not apply to files: a files sink only "
          + "appends (one directory per batch). Set " + spec.key(SinkSpec.MODE) + "=append, or use a table sink.");
      return null;
    }
    return spec == null || path == null ? null : new FilesSink(spec, path, format, allow);
  }

  /** A files sink in append mode, on a file system with atomic directory rename. */
  public static FilesSink create(SinkSpec spec, String path, Format format) {
    return create(spec, path, format, ALLOW_NON_ATOMIC_RENAME_DEFAULT);
  }

  /**
   * A files sink in append mode; with {@code allowNonAtomicRename} also on an object store, at the
   * caller's own risk (see {@value #ALLOW_NON_ATOMIC_RENAME}).
   */
  public static FilesSink create(SinkSpec spec, String path, Format format, boolean allowNonAtomicRename) {
    if (spec.mode() != WriteMode.APPEND) {
      throw new ConfigException(spec.key(SinkSpec.MODE) + ": a files sink only appends. Use mode append.");
    }
    String scheme = nonAtomicScheme(path);
    if (scheme != null && !allowNonAtomicRename) {
      throw new ConfigException(spec.key(PATH) + ": " + nonAtomicMessage(path, scheme, spec.key(ALLOW_NON_ATOMIC_RENAME)));
    }
    return new FilesSink(spec, path, format, allowNonAtomicRename);
  }

  /** The scheme of a path whose file system is not known to rename directories atomically, or null. */
  private static String nonAtomicScheme(String path) {
    String scheme = new Path(path).toUri().getScheme();
    return scheme == null || ATOMIC_RENAME_SCHEMES.contains(scheme.toLowerCase(Locale.ROOT)) ? null : scheme;
  }

  private static String nonAtomicMessage(String path, String scheme, String allowKey) {
    return "'" + path + "' is on file system '" + scheme + "', which is not known to rename a directory atomically "
        + "(object stores such as s3a, gs, abfs copy file by file): a crash in the middle of the commit can leave part "
        + "of a batch that reads as committed. Use a Delta or Iceberg sink on object stores, or set " + allowKey
        + "=true to accept that risk.";
  }

  public Format format() {
    return format;
  }

  /** Added columns need nothing; a widened type is refused ({@link FilesEvolution}). */
  @Override
  public List<String> schemaChangeRefusals(SchemaChange change) {
    return FilesEvolution.refusals(name(), target(), change);
  }

  @Override
  public String target() {
    return path;
  }

  /** The directory whose batch directories hold the markers. */
  @Override
  protected Map<String, String> shape() {
    return shapeOf(SinkType.FILES, PATH, new Path(path).toString());
  }

  /** Every commit marker under the path (of every writer), for reconciliation: Spark SQL cannot list them. */
  public List<Marker> markers(SparkSession session) {
    Path root = new Path(path);
    try {
      return layout.markers(fs(session, root));
    } catch (IOException e) {
      throw new UncheckedIOException("sink " + name() + ": cannot list the commit markers under " + path, e);
    }
  }

  /** Where this writer commits a batch (package-private for tests). */
  Path writerDir(long batchId, WriterId writer) {
    return layout.writerDir(batchId, writer);
  }

  private static FileSystem fs(SparkSession session, Path p) {
    try {
      Configuration conf = session.sessionState().newHadoopConf();
      return p.getFileSystem(conf);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A path without a scheme resolves on the default file system, which may be an object store. */
  @Override
  protected void checkSession(SparkSession session) {
    String scheme = fs(session, new Path(path)).getScheme();
    if (!allowNonAtomicRename && !ATOMIC_RENAME_SCHEMES.contains(scheme.toLowerCase(Locale.ROOT))) {
      throw new ConfigException(spec.key(PATH) + ": " + nonAtomicMessage(path, scheme, spec.key(ALLOW_NON_ATOMIC_RENAME)));
    }
  }

  @Override
  protected boolean isCommitted(SparkSession session, WriterId writer, long batchId) {
    FileSystem fs = fs(session, layout.batchDir(batchId));
    try {
      return writer.appId().equals(layout.markerWriter(fs, batchId, writer))
          || writer.appId().equals(layout.legacyMarkerWriter(fs, batchId));
    } catch (IOException e) {
      throw new UncheckedIOException("sink " + name() + ": cannot read the commit marker of batch " + batchId + " under " + path, e);
    }
  }

  @Override
  public CommitRecord lastCommit(SparkSession session, WriterId writer) {
    try {
      return layout.lastCommit(fs(session, new Path(path)), writer);
    } catch (IOException e) {
      throw new UncheckedIOException("sink " + name() + ": cannot read the commit markers under " + path, e);
    }
  }

  /** An empty batch leaves its marker too, so the markers have no gap and a lost batch shows as one. */
  @Override
  protected boolean recordsEmptyBatches() {
    return true;
  }

  /** A batch is written in one pass; its row count is read back from what was written. */
  @Override
  protected boolean writesInOnePass() {
    return true;
  }

  @Override
  protected CommitResult commit(BatchContext batch) {
    SparkSession session = batch.session();
    WriterId writer = batch.writer();
    Path finalDir = layout.writerDir(batch.batchId(), writer);
    Path tmp = layout.tmpDir(batch.batchId(), writer, UUID.randomUUID().toString());
    FileSystem fs = fs(session, finalDir);
    String fmt = format == Format.PARQUET ? "parquet" : "json";
    batch.rows().write().format(fmt).options(format == Format.JSON ? JsonTimestamps.OPTIONS : Map.<String, String>of()).mode("errorifexists")
        .save(tmp.toString());
    // Parquet answers a count from its footers; JSON is read once more (still cheaper than the batch's plan).
    long rows = batch.rowsIn() != BatchContext.UNKNOWN ? batch.rowsIn()
        : session.read().schema(batch.rows().schema()).format(fmt).load(tmp.toString()).count();
    try {
      try (FSDataOutputStream out = fs.create(new Path(tmp, BatchLayout.MARKER), false)) {
        out.write((writer.appId() + "\n" + batch.batchId() + "\n" + rows + "\n").getBytes(StandardCharsets.UTF_8));
      }
      if (fs.exists(finalDir)) {
        if (writer.appId().equals(BatchLayout.readMarker(fs, finalDir))) {
          // Another attempt of this very writer (a zombie driver) committed it since we looked: keep its directory.
          fs.delete(tmp, true);
          return CommitResult.skipped();
        }
        // Only this writer ever renames into its own directory; one without its marker is what a rename
        // that is not atomic (an object store, allowed at the user's risk) left half done.
        LOG.warn("sink={} target={} batch={}: replacing {}, an unfinished commit of this writer", name(), target(),
            batch.batchId(), finalDir);
        fs.delete(finalDir, true);
      }
      // Staged, and no directory of this writer is in place: a racing attempt may pass here too, and
      // then the rename below refuses the later one.
      FaultInjection.at(FaultInjection.Point.AFTER_STAGING, name(), batch.batchId());
      fs.mkdirs(finalDir.getParent());
      renameNoClobber(session, fs, tmp, finalDir);
      cleanTmp(fs, batch.batchId(), writer);
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
      Files.move(java.nio.file.Path.of(fs.makeQualified(from).toUri()), java.nio.file.Path.of(fs.makeQualified(to).toUri()),
          StandardCopyOption.ATOMIC_MOVE);
      return;
    }
    FileContext fc = FileContext.getFileContext(fs.getUri(), session.sessionState().newHadoopConf());
    fc.rename(from, to, Options.Rename.NONE);
  }

  /** Removes what crashed attempts of this writer at this batch left under _tmp (never another writer's). */
  private void cleanTmp(FileSystem fs, long batchId, WriterId writer) throws IOException {
    Path tmpRoot = layout.tmpRoot();
    if (!fs.exists(tmpRoot)) {
      return;
    }
    for (FileStatus s : fs.listStatus(tmpRoot)) {
      if (BatchLayout.isTmpOf(s.getPath().getName(), batchId, writer)) {
        fs.delete(s.getPath(), true);
      }
    }
  }
}
