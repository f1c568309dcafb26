package dev.eventproc.security;

import java.net.URI;
import org.apache.hadoop.fs.Path;

/** How Spark and Hadoop read a path: {@link Path}'s parsing (scheme, authority, a normalized path). */
final class HadoopPaths {
  private HadoopPaths() {}

  /**
   * The URI Hadoop makes of a path or URI: {@code ..} and {@code //} already removed from its path.
   *
   * @throws IllegalArgumentException when Hadoop cannot parse it
   */
  static URI uri(String value) {
    return new Path(value).toUri();
  }
}
