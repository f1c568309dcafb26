package dev.eventproc.security;

import dev.eventproc.config.ConfigReader.PathKind;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Whether a path of the config stays strictly below the operator's root in restricted mode, checked the way
 * the code that uses it reads it: Spark and Hadoop parse a URI ({@code file:/x}, {@code s3a://b/x}, a plain
 * {@code /x}) with {@link org.apache.hadoop.fs.Path}; java.nio takes a plain local path, where
 * {@code file:/x} is a relative path. A local path is compared after resolving the symbolic links of the part
 * that exists. The root itself is refused (derived paths such as {@code <path>__tombstones} would land beside
 * it), and so are relative paths and {@code .}/{@code ..} segments, whose meaning depends on the working
 * directory or on links.
 */
final class PathConfinement {
  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");
  private static final Pattern DOT_SEGMENT = Pattern.compile("(^|.*[/\\\\])\\.{1,2}([/\\\\].*|$)");

  private PathConfinement() {}

  /** Null when {@code value} lies strictly below {@code root}, else why not (for a problem after the key). */
  static String check(String root, String value, PathKind kind) {
    if (DOT_SEGMENT.matcher(value).matches()) {
      return "'" + value + "' has a '.' or '..' segment. Write the path without them.";
    }
    boolean uriRoot = URI_SCHEME.matcher(root).matches();
    if (kind == PathKind.LOCAL) {
      Path p = Path.of(value);
      if (!p.isAbsolute()) {
        return "'" + value + "' is not an absolute local path" + (value.startsWith("file:")
            ? " (this key takes a plain path: a file: URI would be read relative to the working directory)" : "")
            + ". Write an absolute path below " + root + ".";
      }
      return uriRoot ? outside(value, root, " (a local file)") : local(root, p, value);
    }
    URI u;
    try {
      u = HadoopPaths.uri(value);
    } catch (IllegalArgumentException e) {
      return "'" + value + "' is not a path or URI.";
    }
    String scheme = u.getScheme() == null ? null : u.getScheme().toLowerCase(Locale.ROOT);
    boolean local = scheme == null || scheme.equals("file");
    if (local && u.getAuthority() != null) {
      return "'" + value + "' names a host in a file: URI. Write file:/path or a plain absolute path.";
    }
    if (u.getPath() == null || !u.getPath().startsWith("/")) {
      return "'" + value + "' is a relative path. Write an absolute path below " + root + ".";
    }
    if (uriRoot) {
      URI r = URI.create(root);
      if (scheme == null) {
        return "'" + value + "' has no scheme: write the full URI below " + root + ".";
      }
      return scheme.equals(lower(r.getScheme())) && Objects.equals(u.getAuthority(), r.getAuthority())
          && below(u.getPath(), r.getPath()) ? null : outside(value, root, "");
    }
    return local ? local(root, Path.of(u.getPath()), value) : outside(value, root, " (another file system)");
  }

  /** A local path below a local root, with the links of its existing part resolved. */
  private static String local(String root, Path p, String value) {
    Path real = resolveLinks(p);
    if (real == null) {
      return "'" + value + "' goes through a symbolic link that cannot be resolved. Use a path without it.";
    }
    Path realRoot = Path.of(root);
    if (real.equals(realRoot)) {
      return "'" + value + "' is the root itself: use a directory below it (paths derived from it, such as "
          + "<path>__tombstones, would land beside the root).";
    }
    return real.startsWith(realRoot) ? null : outside(value, root, real.equals(p.normalize()) ? "" : " (links resolved: " + real + ")");
  }

  private static String outside(String value, String root, String why) {
    return "'" + value + "' is outside the paths root " + root + why + ". Use a path below it.";
  }

  private static boolean below(String path, String rootPath) {
    String r = rootPath == null || rootPath.isEmpty() ? "/" : rootPath;
    String prefix = r.endsWith("/") ? r : r + "/";
    return path.startsWith(prefix) && path.length() > prefix.length();
  }

  /**
   * The path with the symbolic links of its longest existing prefix resolved (a link counts as existing even
   * when it points nowhere), or null when they cannot be resolved (a dangling link could be made to point
   * anywhere before it is written through).
   */
  static Path resolveLinks(Path p) {
    Path existing = p;
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return p;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(p));
    } catch (IOException e) {
      return null;
    }
  }

  private static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }
}
