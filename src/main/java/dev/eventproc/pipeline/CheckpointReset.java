package dev.eventproc.pipeline;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.PathRoot;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What {@code --reset-checkpoint} may delete, in every mode: {@code checkpoint.location} is deleted
 * recursively, so it must be a directory holding Spark's checkpoint layout and eventproc's fingerprint
 * and nothing else, and never a file system or bucket root, the paths root (or a parent of it), or a
 * directory that holds any other path of the config (a sink's data, the source, a warehouse).
 */
final class CheckpointReset {
  /** What Spark and eventproc keep at the top of a checkpoint (plus Hadoop's hidden {@code .NAME.crc} files). */
  static final Set<String> LAYOUT = Set.of("metadata", "offsets", "commits", "sources", "state", CheckpointGuard.FILE);
  private static final Pattern PATH_LIKE = Pattern.compile("^(/|file:|[A-Za-z][\\w+.-]*://).*");
  private static final String WAY_OUT = " Delete it by hand if you are sure, or use a checkpoint.location of its own.";

  private CheckpointReset() {}

  /** Refuses, naming the key, a location that must never be deleted; looks at names only (no file system). */
  static void checkLocation(PipelineConfig config, List<String> roots) {
    String location = config.checkpoint();
    URI cp = uri(location);
    if (cp.getPath() == null || cp.getPath().isEmpty() || cp.getPath().equals("/")) {
      throw refuse(location, "is the root of its file system or bucket: a reset would delete everything in it.");
    }
    for (String root : roots) {
      if (contains(cp, uri(root))) {
        throw refuse(location, "is the paths root " + root + (sameLocation(cp, uri(root)) ? "" : " or a directory above it")
            + " (" + PathRoot.KEY + " or --paths-root): a reset would delete every team path under it.");
      }
    }
    EventprocConfig raw = config.raw();
    for (String key : raw.keys()) {
      String value = raw.get(key);
      if (!key.equals(PipelineConfig.CHECKPOINT) && value != null && PATH_LIKE.matcher(value).matches()
          && contains(cp, uri(value))) {
        throw refuse(location, "holds " + key + " (" + (raw.isSecret(key) ? "a secret value" : value)
            + "): a reset would delete it.");
      }
    }
  }

  /**
   * Whether there is a checkpoint to delete at {@code dir}: false when nothing (or an empty directory) is
   * there; true for Spark's layout with eventproc's fingerprint and nothing else; otherwise refused.
   */
  static boolean holdsCheckpoint(FileSystem fs, Path dir, String location) throws IOException {
    if (!fs.exists(dir)) {
      return false;
    }
    if (!fs.getFileStatus(dir).isDirectory()) {
      throw refuse(location, "is a file, not a checkpoint directory.");
    }
    Set<String> names = new TreeSet<>();
    for (FileStatus s : fs.listStatus(dir)) {
      names.add(s.getPath().getName());
    }
    if (names.isEmpty()) {
      return false;
    }
    if (!names.contains(CheckpointGuard.FILE)) {
      throw refuse(location, "holds no " + CheckpointGuard.FILE + ": eventproc did not write a checkpoint there.");
    }
    if (!names.contains("metadata") && !names.contains("offsets")) {
      throw refuse(location, "holds no Spark checkpoint (no metadata file, no offsets directory).");
    }
    List<String> other = new ArrayList<>();
    for (String n : names) {
      boolean crc = n.startsWith(".") && n.endsWith(".crc") && LAYOUT.contains(n.substring(1, n.length() - 4));
      // a fingerprint written aside and not yet renamed (GuardFile), or its checksum
      boolean aside = n.startsWith("." + CheckpointGuard.FILE + ".") || n.startsWith(".." + CheckpointGuard.FILE + ".");
      if (!LAYOUT.contains(n) && !crc && !aside) {
        other.add(n);
      }
    }
    if (!other.isEmpty()) {
      throw refuse(location, "holds " + String.join(", ", other.subList(0, Math.min(5, other.size())))
          + (other.size() > 5 ? " and more" : "") + ", which no checkpoint holds.");
    }
    return true;
  }

  private static ConfigException refuse(String location, String why) {
    return new ConfigException(PipelineConfig.CHECKPOINT + ": --reset-checkpoint refuses to delete '" + location + "': it "
        + why + WAY_OUT);
  }

  /** A location as Hadoop reads it (scheme, authority, normalized path); a relative local path made absolute. */
  private static URI uri(String value) {
    URI u = new Path(value).toUri();
    if (u.getScheme() == null && u.getPath() != null && !u.getPath().startsWith("/")) {
      return new File(u.getPath()).getAbsoluteFile().toPath().normalize().toUri();
    }
    return u;
  }

  /**
   * Whether {@code inner} is {@code outer} or lies below it. A path without a scheme may be on any file
   * system (it is resolved against the default one), so it is compared by path alone: that errs on refusing.
   */
  static boolean contains(URI outer, URI inner) {
    if (outer.getScheme() != null && inner.getScheme() != null) {
      boolean outerLocal = "file".equalsIgnoreCase(outer.getScheme());
      if (outerLocal != "file".equalsIgnoreCase(inner.getScheme())) {
        return false;
      }
      if (!outerLocal && (!outer.getScheme().equalsIgnoreCase(inner.getScheme())
          || !Objects.equals(outer.getAuthority(), inner.getAuthority()))) {
        return false;
      }
    }
    String o = trim(outer.getPath());
    String i = trim(inner.getPath());
    return o.isEmpty() || i.equals(o) || i.startsWith(o + "/");
  }

  private static boolean sameLocation(URI a, URI b) {
    return trim(a.getPath()).equals(trim(b.getPath()));
  }

  private static String trim(String path) {
    String p = path == null ? "" : path;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }

  /** The paths roots of a config: the operator's in restricted mode, and {@value PathRoot#KEY} when set. */
  static List<String> roots(EventprocConfig raw) {
    List<String> out = new ArrayList<>();
    if (raw.restricted() != null) {
      out.add(raw.restricted().pathsRoot());
    }
    String root = raw.get(PathRoot.KEY);
    if (root != null && !root.isEmpty()) {
      out.add(root);
    }
    return out;
  }
}
