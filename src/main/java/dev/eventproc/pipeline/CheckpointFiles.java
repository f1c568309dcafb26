package dev.eventproc.pipeline;

import java.io.IOException;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathFilter;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.sql.execution.streaming.CheckpointFileManager;

/**
 * The checkpoint file manager of eventproc's sessions ({@value #CONF_KEY}): for a checkpoint on the
 * local file system, one that starts no processes ({@link LocalCheckpointFiles}); for any other (HDFS,
 * S3, ...), Spark's own. Spark makes one per checkpoint directory, on the driver and in tasks.
 */
public final class CheckpointFiles implements CheckpointFileManager {
  /** Spark's setting naming the class. */
  public static final String CONF_KEY = "spark.sql.streaming.checkpointFileManagerClass";

  private final CheckpointFileManager files;

  /** Called by Spark, for each checkpoint directory, with its Hadoop configuration. */
  public CheckpointFiles(Path path, Configuration conf) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
      files = new LocalCheckpointFiles(path, conf);
    } else {
      Configuration spark = new Configuration(conf);
      spark.unset(CONF_KEY); // Spark's choice for this file system
      files = CheckpointFileManager.create(path, spark);
    }
  }

  /** Whether {@code path} is handled without Hadoop's local file system (tests). */
  boolean isOwnLocal() {
    return files instanceof LocalCheckpointFiles;
  }

  @Override
  public CancellableFSDataOutputStream createAtomic(Path path, boolean overwriteIfPossible) {
    return files.createAtomic(path, overwriteIfPossible);
  }

  @Override
  public FSDataInputStream open(Path path) {
    return files.open(path);
  }

  @Override
  public FileStatus[] list(Path path, PathFilter filter) {
    return files.list(path, filter);
  }

  @Override
  public void mkdirs(Path path) {
    files.mkdirs(path);
  }

  @Override
  public boolean exists(Path path) {
    return files.exists(path);
  }

  @Override
  public void delete(Path path) {
    files.delete(path);
  }

  @Override
  public boolean isLocal() {
    return files.isLocal();
  }

  @Override
  public Path createCheckpointDirectory() {
    return files.createCheckpointDirectory();
  }
}
