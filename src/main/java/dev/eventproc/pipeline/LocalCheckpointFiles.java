package dev.eventproc.pipeline;

import dev.eventproc.util.Errors;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.PathFilter;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.execution.streaming.CheckpointFileManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoint files on a local (or locally mounted) file system, written and renamed through
 * {@code java.nio}. Spark's default manager goes through Hadoop's checksummed local file system, which
 * starts a process for every {@code readlink} and {@code chmod} it needs: five for every checkpoint
 * file (each state partition's delta, the offsets and commits logs), some 30 per micro-batch of a
 * stateful query, 1.5-2 ms each. This one starts none and keeps the same promises: a file appears
 * whole or not at all (written to a hidden temporary file, then renamed), and a write that must not
 * overwrite fails with Hadoop's {@code FileAlreadyExistsException} if the file exists, atomically (a
 * hard link, which the system refuses when the name is taken; where there are no hard links, a rename
 * after a check, with a short window between the two), so two runs of one query still cannot both
 * write the same batch. Files it overwrites lose a stale Hadoop checksum sibling ({@code .name.crc}),
 * so Spark's default manager can read the checkpoint again; listings hide those siblings as it does.
 * Failures are Hadoop's and Java's own {@code IOException}s (file not found, file exists), as Spark's
 * callers expect them.
 */
final class LocalCheckpointFiles implements CheckpointFileManager {
  private static final Logger LOG = LoggerFactory.getLogger(LocalCheckpointFiles.class);
  private final Path root;
  private final RawLocalFileSystem fs;

  LocalCheckpointFiles(Path root, Configuration conf) throws IOException {
    this.fs = new RawLocalFileSystem();
    this.fs.initialize(URI.create("file:///"), conf);
    this.root = root;
  }

  @Override
  public CancellableFSDataOutputStream createAtomic(Path path, boolean overwriteIfPossible) {
    java.nio.file.Path target = local(path);
    TaskContext task = TaskContext.get();
    String name = "." + target.getFileName() + "." + UUID.randomUUID() + (task == null ? "" : ".TID" + task.taskAttemptId()) + ".tmp";
    try {
      directory(target.getParent()); // as Hadoop's create does
      return new AtomicFile(target, target.resolveSibling(name), overwriteIfPossible);
    } catch (IOException e) {
      throw Errors.<RuntimeException>rethrow(e);
    }
  }

  @Override
  public FSDataInputStream open(Path path) {
    try {
      return fs.open(path);
    } catch (IOException e) {
      throw Errors.<RuntimeException>rethrow(e);
    }
  }

  @Override
  public FileStatus[] list(Path path, PathFilter filter) {
    try {
      return Arrays.stream(fs.listStatus(path)).filter(s -> !isChecksum(s.getPath().getName()) && filter.accept(s.getPath()))
          .toArray(FileStatus[]::new);
    } catch (IOException e) {
      throw Errors.<RuntimeException>rethrow(e);
    }
  }

  @Override
  public void mkdirs(Path path) {
    try {
      directory(local(path));
    } catch (IOException e) {
      throw Errors.<RuntimeException>rethrow(e);
    }
  }

  @Override
  public boolean exists(Path path) {
    return Files.exists(local(path));
  }

  @Override
  public void delete(Path path) {
    try {
      fs.delete(path, true);
      Files.deleteIfExists(checksumOf(local(path)));
    } catch (IOException e) {
      throw Errors.<RuntimeException>rethrow(e);
    }
  }

  @Override
  public boolean isLocal() {
    return true;
  }

  @Override
  public Path createCheckpointDirectory() {
    Path qualified = fs.makeQualified(root);
    mkdirs(qualified);
    return qualified;
  }

  /**
   * Creates a directory and its parents unless it is one already. The check comes first because JDK 17
   * before 17.0.14 refuses a symbolic link to a directory in {@code createDirectories} (JDK-8294193), and
   * a checkpoint location behind a link is common (a mounted volume).
   */
  private static void directory(java.nio.file.Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
    }
  }

  private java.nio.file.Path local(Path path) {
    return fs.pathToFile(path).toPath();
  }

  static boolean isChecksum(String name) {
    return name.startsWith(".") && name.endsWith(".crc");
  }

  /** Hadoop's checksum file of a file: {@code .name.crc} beside it. */
  static java.nio.file.Path checksumOf(java.nio.file.Path file) {
    return file.resolveSibling("." + file.getFileName() + ".crc");
  }

  /** A file written to a temporary name and published whole on close; cancel() leaves nothing. */
  private static final class AtomicFile extends CancellableFSDataOutputStream {
    private final java.nio.file.Path target;
    private final java.nio.file.Path temp;
    private final boolean overwrite;
    private boolean ended;

    AtomicFile(java.nio.file.Path target, java.nio.file.Path temp, boolean overwrite) throws IOException {
      super(new BufferedOutputStream(Files.newOutputStream(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), 64 * 1024));
      this.target = target;
      this.temp = temp;
      this.overwrite = overwrite;
    }

    @Override
    public synchronized void close() throws IOException {
      if (ended) {
        return;
      }
      ended = true;
      try {
        super.close();
        publish();
      } finally {
        deleteTemp(); // never in place of publish()'s outcome: a refused write must stay Hadoop's FileAlreadyExistsException
      }
    }

    @Override
    public synchronized void cancel() {
      if (ended) {
        return;
      }
      ended = true;
      try {
        super.close();
      } catch (IOException ignored) {
        // the temporary file goes anyway
      }
      deleteTemp(); // callers cancel while handling another failure, which must not be masked
    }

    /** Deletes the temporary file; a failure is warned about, as Spark's manager does, and leaves a stray hidden file. */
    private void deleteTemp() {
      try {
        Files.deleteIfExists(temp);
      } catch (IOException e) {
        LOG.warn("Could not delete the temporary checkpoint file {}", temp, e);
      }
    }

    private void publish() throws IOException {
      // before the new content appears: a stale checksum beside it would fail Spark's default manager on
      // this file, and a kill between the two steps must not leave the old checksum with the new content
      if (overwrite || !Files.exists(target)) {
        Files.deleteIfExists(checksumOf(target));
      }
      if (overwrite) {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE); // rename(2): replaces atomically
      } else {
        try {
          Files.createLink(target, temp); // link(2) refuses a name that exists: no window between check and rename
        } catch (FileAlreadyExistsException e) {
          throw exists();
        } catch (UnsupportedOperationException | FileSystemException noLinks) {
          try {
            Files.move(temp, target); // no hard links here: refuses an existing target, checked just before the rename
          } catch (FileAlreadyExistsException e) {
            throw exists();
          }
        }
      }
    }

    private IOException exists() {
      return new org.apache.hadoop.fs.FileAlreadyExistsException("cannot write " + target + ": it exists (another run of this "
          + "query wrote it?)");
    }
  }
}
