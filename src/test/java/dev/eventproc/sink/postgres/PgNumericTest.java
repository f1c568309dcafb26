package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.postgresql.util.ByteConverter;

/** The long fast path writes exactly what pgjdbc's BigDecimal encoder writes. */
class PgNumericTest {
  private final PgNumeric numeric = new PgNumeric();

  private void assertSameAsPgjdbc(long unscaled, int scale) {
    byte[] expected = ByteConverter.numeric(BigDecimal.valueOf(unscaled, scale));
    byte[] out = new byte[PgNumeric.MAX_BYTES + 3];
    int n = numeric.write(unscaled, scale, out, 3);
    assertThat(Arrays.copyOfRange(out, 3, 3 + n)).as("%d scale %d", unscaled, scale).isEqualTo(expected);
  }

  @Test
  void edgesOfEveryScale() {
    long[] values = {0, 1, -1, 9, 10, 99, 100, 999, 1_000, 9_999, 10_000, 10_001, 100_000_000, 100_010_000, 123_456_789,
        1_000_000_000_000L, 999_999_999_999_999_999L, -999_999_999_999_999_999L, 100_000_000_000_000_000L, 5_000_000_000_000_000L};
    for (int scale = 0; scale <= PgNumeric.MAX_DIGITS; scale++) {
      for (long v : values) {
        assertSameAsPgjdbc(v, scale);
      }
    }
  }

  @Test
  void randomValuesOfEveryLengthAndScale() {
    SplittableRandom random = new SplittableRandom(42);
    for (int i = 0; i < 200_000; i++) {
      int digits = 1 + random.nextInt(PgNumeric.MAX_DIGITS);
      long bound = 1;
      for (int d = 0; d < digits; d++) {
        bound *= 10;
      }
      long v = random.nextLong(bound) * (random.nextBoolean() ? 1 : -1);
      if (random.nextInt(4) == 0) { // runs of zeros, as amounts have
        v = v / 10_000 * 10_000;
      }
      assertSameAsPgjdbc(v, random.nextInt(PgNumeric.MAX_DIGITS + 1));
    }
  }
}
