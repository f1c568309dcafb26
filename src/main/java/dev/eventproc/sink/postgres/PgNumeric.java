package dev.eventproc.sink.postgres;

import org.postgresql.util.ByteConverter;

/**
 * PostgreSQL's binary {@code numeric} for a decimal that fits a long (Spark keeps those as an unscaled
 * long): the same bytes as pgjdbc's {@code ByteConverter.numeric(BigDecimal)}, without building a
 * BigDecimal and its digit arrays per value. Layout: digit count, weight (in base-10000 groups, of the
 * first one), sign, display scale, then the base-10000 digits, leading and trailing zero groups left out.
 */
final class PgNumeric {
  /** Unscaled values up to 18 digits, as Spark stores decimals of precision 18 or less. */
  static final int MAX_DIGITS = 18;
  /** Base-10000 groups of such a value: 5 before the point and 5 after, at most. */
  private static final int MAX_GROUPS = 10;
  private static final int POSITIVE = 0x0000;
  private static final int NEGATIVE = 0x4000;
  private static final long[] POW10 = new long[MAX_DIGITS + 1];

  static {
    POW10[0] = 1;
    for (int i = 1; i <= MAX_DIGITS; i++) {
      POW10[i] = POW10[i - 1] * 10;
    }
  }

  private final short[] groups = new short[MAX_GROUPS];

  /** Bytes {@link #write} needs at most: 8 of header, 2 per group. */
  static final int MAX_BYTES = 8 + 2 * MAX_GROUPS;

  /**
   * Writes {@code unscaled / 10^scale} at {@code at} of {@code out}; returns the bytes written.
   * {@code scale} from 0 to {@value #MAX_DIGITS}, {@code |unscaled| < 10^}{@value #MAX_DIGITS}.
   */
  int write(long unscaled, int scale, byte[] out, int at) {
    long abs = Math.abs(unscaled);
    long intPart = abs / POW10[scale];
    long frac = abs % POW10[scale];
    int n = 0;
    int intGroups = 0;
    for (long v = intPart; v > 0; v /= 10_000) {
      intGroups++;
    }
    for (int i = intGroups - 1; i >= 0; i--) { // most significant first
      groups[n + i] = (short) (intPart % 10_000);
      intPart /= 10_000;
    }
    n += intGroups;
    int fracGroups = (scale + 3) / 4;
    if (fracGroups > 0) {
      int pad = 4 * fracGroups - scale; // the fraction padded to whole groups with zeros on the right
      long last = frac % POW10[4 - pad] * POW10[pad];
      long rest = frac / POW10[4 - pad];
      groups[n + fracGroups - 1] = (short) last;
      for (int i = fracGroups - 2; i >= 0; i--) {
        groups[n + i] = (short) (rest % 10_000);
        rest /= 10_000;
      }
      n += fracGroups;
    }
    int first = 0;
    while (first < n && groups[first] == 0) {
      first++;
    }
    int end = n;
    while (end > first && groups[end - 1] == 0) {
      end--;
    }
    int count = end - first;
    int weight = count == 0 ? -1 : intGroups - 1 - first; // pgjdbc writes zero with weight -1
    ByteConverter.int2(out, at, count);
    ByteConverter.int2(out, at + 2, weight);
    ByteConverter.int2(out, at + 4, unscaled < 0 && count > 0 ? NEGATIVE : POSITIVE);
    ByteConverter.int2(out, at + 6, scale);
    for (int i = 0; i < count; i++) {
      ByteConverter.int2(out, at + 8 + 2 * i, groups[first + i]);
    }
    return 8 + 2 * count;
  }
}
