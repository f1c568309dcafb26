package dev.eventproc.config;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The directory every path of a config must stay under ({@value #KEY}), for platforms that hand
 * config files to teams: a path may not leave the root by {@code ..}, by a symbolic link that points
 * out of it, or by naming another file system. Local paths are compared after resolving the links of
 * the part that exists; URIs ({@code s3a://bucket/x}) after normalizing, by scheme, authority and
 * whole path segments.
 */
public final class PathRoot {
  /** The config key. */
  public static final String KEY = "paths.root";

  private static final Pattern URI_SCHEME = Pattern.compile("^[A-Za-z][A-Za-z0-9+.-]*:.*");

  private PathRoot() {}

  /** Null when {@code path} lies under {@code root}, else why not (for a config problem). */
  public static String check(String root, String path) {
    if (isUri(root) != isUri(path)) {
      return "'" + path + "' is outside " + KEY + "=" + root + " (" + (isUri(path) ? "another file system" : "a local path") + ")";
    }
    boolean inside = isUri(root) ? uriUnder(root, path) : localUnder(root, path);
    return inside ? null : "'" + path + "' is outside " + KEY + "=" + root;
  }

  /**
   * As {@link #check}, for a file the code opens with java.nio: the path is read as java.nio reads it (a
   * {@code file:} URI is a path relative to the working directory there) and its links are resolved before
   * any {@code ..}, as the operating system does.
   */
  public static String checkLocal(String root, String path) {
    if (isUri(root)) {
      return "'" + path + "' is outside " + KEY + "=" + root + " (a local file)";
    }
    Path realRoot = real(local(root).toAbsolutePath().normalize());
    Path realPath = realAsOpened(Path.of(path).toAbsolutePath());
    if (realPath.startsWith(realRoot)) {
      return null;
    }
    return "'" + path + "' is outside " + KEY + "=" + root + (path.startsWith("file:")
        ? " (this key takes a plain local path: a file: URI is read relative to the working directory)" : "");
  }

  /** The path as the OS opens it: links of the longest existing prefix resolved first, then the rest normalized. */
  static Path realAsOpened(Path p) {
    Path existing = p;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return p.normalize();
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(p)).normalize();
    } catch (IOException e) {
      return p.normalize();
    }
  }

  /** Whether a value is a URI of a file system other than the local one ({@code file:} URIs are local paths). */
  static boolean isUri(String value) {
    return URI_SCHEME.matcher(value).matches() && !value.startsWith("file:");
  }

  private static boolean localUnder(String root, String path) {
    Path realRoot = real(local(root).toAbsolutePath().normalize());
    Path realPath = real(local(path).toAbsolutePath().normalize());
    return realPath.startsWith(realRoot);
  }

  private static Path local(String value) {
    if (value.startsWith("file:")) {
      try {
        return Path.of(new URI(value));
      } catch (URISyntaxException | IllegalArgumentException e) {
        return Path.of(value.substring("file:".length()));
      }
    }
    return Path.of(value);
  }

  /** The path with the links of its longest existing prefix resolved (the rest cannot be a link yet). */
  private static Path real(Path p) {
    Path existing = p;
    while (existing != null && !Files.exists(existing)) {
      existing = existing.getParent();
    }
    if (existing == null) {
      return p;
    }
    try {
      return existing.toRealPath().resolve(existing.relativize(p)).normalize();
    } catch (IOException e) {
      return p;
    }
  }

  private static boolean uriUnder(String root, String path) {
    try {
      URI r = new URI(root).normalize();
      URI p = new URI(path).normalize();
      if (!lower(r.getScheme()).equals(lower(p.getScheme())) || !Objects.equals(r.getAuthority(), p.getAuthority())) {
        return false;
      }
      String rp = r.getPath() == null || r.getPath().isEmpty() ? "/" : r.getPath();
      String pp = p.getPath() == null ? "" : p.getPath();
      if (pp.contains("/../") || pp.endsWith("/..") || pp.startsWith("..")) {
        return false; // normalize() keeps leading ".." it cannot resolve
      }
      String prefix = rp.endsWith("/") ? rp : rp + "/";
      return pp.equals(rp) || (pp + "/").equals(prefix) || pp.startsWith(prefix);
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static String lower(String s) {
    return s == null ? "" : s.toLowerCase(Locale.ROOT);
  }
}
