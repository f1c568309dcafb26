package dev.eventproc.util;

import java.nio.charset.StandardCharsets;
import org.apache.spark.unsafe.Platform;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Text out of Spark's internal strings, as valid UTF-8. A Spark string is bytes and need not be valid
 * UTF-8 (a string cast from binary, such as a Kafka value); reading it through a Java String turns
 * each bad sequence into U+FFFD, which is what the sinks wrote when they read {@code Row}s, so they
 * keep doing that: a target that checks its encoding (PostgreSQL) would otherwise refuse the batch on
 * every retry, and a Kafka key would change its bytes and its partition.
 */
public final class Utf8Text {
  private Utf8Text() {}

  /** Whether every byte is 1..127: ASCII without U+0000, valid as it is (the common case, checked without decoding). */
  public static boolean plainAscii(UTF8String s) {
    Object base = s.getBaseObject();
    long offset = s.getBaseOffset();
    for (int i = 0, n = s.numBytes(); i < n; i++) {
      if (Platform.getByte(base, offset + i) <= 0) {
        return false;
      }
    }
    return true;
  }

  /** The text's bytes, with any invalid sequence replaced by U+FFFD. */
  public static byte[] validBytes(UTF8String s) {
    return plainAscii(s) ? s.getBytes() : s.toString().getBytes(StandardCharsets.UTF_8);
  }
}
