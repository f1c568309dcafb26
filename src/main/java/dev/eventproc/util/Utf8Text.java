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

  private static final long ONES = 0x0101010101010101L;
  private static final long HIGH_BITS = 0x8080808080808080L;
  private static final boolean UNALIGNED = Platform.unaligned();

  /** Whether every byte is 1..127: ASCII without U+0000, valid as it is (the common case, checked without decoding). */
  public static boolean plainAscii(UTF8String s) {
    Object base = s.getBaseObject();
    long offset = s.getBaseOffset();
    int n = s.numBytes();
    int i = 0;
    int words = UNALIGNED ? n : 0; // eight bytes at a time only where the CPU reads them at any address
    // Eight bytes at a time: a byte with its high bit set, or a zero byte (which w - ONES turns into one
    // with the high bit set), shows in the high bits of w | (w - ONES).
    for (; i + 8 <= words; i += 8) {
      long w = Platform.getLong(base, offset + i);
      if (((w | (w - ONES)) & HIGH_BITS) != 0) {
        return false;
      }
    }
    for (; i < n; i++) {
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
