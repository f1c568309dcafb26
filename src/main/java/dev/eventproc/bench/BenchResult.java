package dev.eventproc.bench;

/**
 * One measured variant of a benchmark case.
 *
 * @param suite the case (e.g. {@code postgres})
 * @param variant what ran (e.g. {@code eventproc-batch insert})
 * @param rows rows written
 * @param seconds wall time
 * @param note what the variant is, in a few words
 */
public record BenchResult(String suite, String variant, long rows, double seconds, String note) {
  /** Seconds since {@code startNanos} (a {@link System#nanoTime()} reading): the wall time of a variant. */
  public static double secondsSince(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  public double rowsPerSecond() {
    return seconds <= 0 ? 0 : rows / seconds;
  }
}
