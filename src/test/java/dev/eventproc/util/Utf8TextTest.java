package dev.eventproc.util;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;

class Utf8TextTest {
  /** Every length up to three words, with a zero byte, a high byte and a two-byte character at every position, off any alignment. */
  @Test
  void plainAsciiFindsAZeroOrHighByteAtAnyPositionOfAnyLength() {
    for (int n = 0; n <= 24; n++) {
      byte[] text = new byte[n + 3];
      Arrays.fill(text, (byte) 'a');
      for (int start = 0; start < 3; start++) {
        UTF8String plain = UTF8String.fromBytes(text, start, n);
        assertThat(Utf8Text.plainAscii(plain)).as("n=%d start=%d", n, start).isTrue();
        for (int at = 0; at < n; at++) {
          for (byte bad : new byte[] {0, (byte) 0x80, (byte) 0xC3, (byte) 0xFF}) {
            byte[] copy = text.clone();
            copy[start + at] = bad;
            assertThat(Utf8Text.plainAscii(UTF8String.fromBytes(copy, start, n))).as("n=%d start=%d at=%d byte=%d", n, start, at, bad)
                .isFalse();
          }
        }
        byte[] one = text.clone(); // 0x01 and 0x7F are plain: the borrow of w - ONES must not flag them
        if (n > 0) {
          one[start] = 1;
          one[start + n - 1] = 0x7F;
          assertThat(Utf8Text.plainAscii(UTF8String.fromBytes(one, start, n))).as("n=%d start=%d, 0x01 and 0x7F", n, start).isTrue();
        }
      }
    }
  }

  @Test
  void validBytesKeepsValidTextAndReplacesBadSequences() {
    assertThat(Utf8Text.validBytes(UTF8String.fromString("plain ascii text, more than eight bytes")))
        .isEqualTo("plain ascii text, more than eight bytes".getBytes(StandardCharsets.UTF_8));
    assertThat(Utf8Text.validBytes(UTF8String.fromString("zürich €"))).isEqualTo("zürich €".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(Utf8Text.validBytes(UTF8String.fromBytes(new byte[] {'a', (byte) 0xC3, '(', 'b'})), StandardCharsets.UTF_8))
        .isEqualTo("a\uFFFD(b");
  }
}
