package dev.eventproc.sink.files;

import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.WriterId;
import dev.eventproc.util.Sha256;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Where the files sink puts a batch: {@code <path>/batch_id=<n>/writer-<sink>-<query id>/}. Each writer
 * has a directory of its own in every batch directory, so a new writer (a reset checkpoint, a second
 * pipeline on the path) never meets, let alone replaces, a batch another writer committed. The writer's
 * directory name holds no {@code =}: Spark's partition discovery passes over it and still reads
 * {@code batch_id} from its parent, so {@code spark.read.parquet(path)} reads every committed batch of
 * every writer once, with the one partition column it always had.
 *
 * <p>Tables written before this layout hold a batch's files directly in {@code batch_id=<n>/}, with the
 * marker there. Both layouts read together (the same partition column), and a writer of the old layout
 * still finds its own batches there ({@link #legacyMarkerWriter}).
 */
final class BatchLayout {
  static final String PARTITION = "batch_id";
  static final String MARKER = "_eventproc_commit";
  static final String TMP = "_tmp";
  /** Prefix of a writer's directory; never starts with {@code _} or {@code .}, which readers skip. */
  static final String WRITER_PREFIX = "writer-";
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_.-]{1,100}");

  private final String root;

  BatchLayout(String root) {
    this.root = root;
  }

  /** {@code <path>/batch_id=<n>}: one per batch id, shared by the writers of that id. */
  Path batchDir(long batchId) {
    return new Path(root, PARTITION + "=" + batchId);
  }

  /** {@code <path>/batch_id=<n>/writer-<sink>-<query id>}: where this writer commits batch n. */
  Path writerDir(long batchId, WriterId writer) {
    return new Path(batchDir(batchId), writerDirName(writer));
  }

  /**
   * The writer's directory name: sink name and query id as they are when they are plain (a Spark query
   * id is a UUID), else a SHA-256 of the query id, so a path never carries a character Hadoop or a shell
   * would read differently. The marker inside holds the full writer id.
   */
  static String writerDirName(WriterId writer) {
    String q = writer.queryId();
    String query = PLAIN.matcher(q).matches() && !q.startsWith(".") ? q : "h" + Sha256.hex(q).substring(0, 32);
    return WRITER_PREFIX + writer.sinkName() + "-" + query;
  }

  /**
   * A fresh place under {@code <path>/_tmp} (hidden from readers) for one attempt of a writer at a batch;
   * named by batch and writer, so a writer clears only its own attempts.
   */
  Path tmpDir(long batchId, WriterId writer, String attempt) {
    return new Path(tmpRoot(), tmpPrefix(batchId, writer) + attempt);
  }

  Path tmpRoot() {
    return new Path(root, TMP);
  }

  /** Whether {@code name} under {@code _tmp} is an attempt of this writer at batch {@code batchId}. */
  static boolean isTmpOf(String name, long batchId, WriterId writer) {
    return name.startsWith(tmpPrefix(batchId, writer));
  }

  private static String tmpPrefix(long batchId, WriterId writer) {
    return PARTITION + "=" + batchId + "-" + writerDirName(writer) + "-";
  }

  /** The writer named by this writer's directory of a batch, or null when it has no marker. */
  String markerWriter(FileSystem fs, long batchId, WriterId writer) throws IOException {
    return readMarker(fs, writerDir(batchId, writer));
  }

  /** The writer named by a marker directly in {@code batch_id=<n>/}: a batch of the old layout, or null. */
  String legacyMarkerWriter(FileSystem fs, long batchId) throws IOException {
    return readMarker(fs, batchDir(batchId));
  }

  /**
   * The newest batch whose marker names this writer (its own directory, or the old layout's batch
   * directory): batch, the marker's time, and the rows it records; {@link CommitRecord#NONE} when none.
   */
  CommitRecord lastCommit(FileSystem fs, WriterId writer) throws IOException {
    Path rootPath = new Path(root);
    if (!fs.exists(rootPath)) {
      return CommitRecord.NONE;
    }
    List<Long> batches = new ArrayList<>();
    for (FileStatus s : fs.listStatus(rootPath)) {
      String n = s.getPath().getName();
      if (s.isDirectory() && n.startsWith(PARTITION + "=") && n.substring(PARTITION.length() + 1).matches("\\d{1,18}")) {
        batches.add(Long.parseLong(n.substring(PARTITION.length() + 1)));
      }
    }
    batches.sort(Comparator.reverseOrder());
    for (long b : batches) {
      for (Path dir : List.of(writerDir(b, writer), batchDir(b))) {
        Path marker = new Path(dir, MARKER);
        if (fs.exists(marker)) {
          String[] lines = readAll(fs, marker).split("\n");
          if (writer.appId().equals(lines[0])) {
            long rows = lines.length > 2 && lines[2].matches("\\d{1,18}") ? Long.parseLong(lines[2]) : -1;
            return new CommitRecord(b, Instant.ofEpochMilli(fs.getFileStatus(marker).getModificationTime()), rows, "");
          }
        }
      }
    }
    return CommitRecord.NONE;
  }

  /**
   * Every commit marker under the path, both layouts: what each says (writer, batch id, rows written)
   * and the writer directory it is in ("" for the old layout). A marker that cannot be read is reported
   * with batch id -1 and the path in place of the writer, so a check names it.
   */
  List<Marker> markers(FileSystem fs) throws IOException {
    List<Marker> out = new ArrayList<>();
    for (String glob : List.of(PARTITION + "=*/" + WRITER_PREFIX + "*/" + MARKER, PARTITION + "=*/" + MARKER)) {
      FileStatus[] found = fs.globStatus(new Path(root, glob));
      for (FileStatus f : found == null ? new FileStatus[0] : found) {
        String dir = f.getPath().getParent().getName();
        String[] lines;
        try (FSDataInputStream in = fs.open(f.getPath())) {
          lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
        }
        try {
          out.add(new Marker(lines[0], Long.parseLong(lines[1].trim()), Long.parseLong(lines[2].trim()),
              dir.startsWith(WRITER_PREFIX) ? dir : ""));
        } catch (RuntimeException unreadable) {
          out.add(new Marker("unreadable marker " + f.getPath(), -1, -1, dir));
        }
      }
    }
    return out;
  }

  /** The writer named by a directory's marker, or null when it has none. */
  static String readMarker(FileSystem fs, Path dir) throws IOException {
    Path marker = new Path(dir, MARKER);
    if (!fs.exists(marker)) {
      return null;
    }
    String text = readAll(fs, marker);
    int end = text.indexOf('\n');
    return end < 0 ? text : text.substring(0, end);
  }

  private static String readAll(FileSystem fs, Path file) throws IOException {
    try (FSDataInputStream in = fs.open(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

}
