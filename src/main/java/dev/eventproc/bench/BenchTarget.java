package dev.eventproc.bench;

/**
 * An absolute figure a benchmark is judged by (unlike {@link BenchGoal}, not a ratio): for example
 * end-to-end events/s at least 120,000, or p99 latency below 2 s.
 *
 * @param suite the case
 * @param what the measured figure, in a few words
 * @param measured the value measured (NaN when it could not be measured)
 * @param bound the goal's bound
 * @param atMost whether the goal bounds from above ({@code measured <= bound}; else {@code measured >= bound})
 * @param strict whether the bound itself misses ({@code <} or {@code >} instead of {@code <=} or {@code >=})
 * @param unit how values print (for example {@code events/s}, {@code ms})
 */
public record BenchTarget(String suite, String what, double measured, double bound, boolean atMost, boolean strict, String unit) {
  /** A target whose bound itself meets it ({@code <=} or {@code >=}). */
  public BenchTarget(String suite, String what, double measured, double bound, boolean atMost, String unit) {
    this(suite, what, measured, bound, atMost, false, unit);
  }

  /** Whether the measured value meets the bound (false when not measured). */
  public boolean met() {
    if (Double.isNaN(measured)) {
      return false;
    }
    if (strict && measured == bound) {
      return false;
    }
    return atMost ? measured <= bound : measured >= bound;
  }

  /** The comparison as printed: {@code <=}, {@code <}, {@code >=} or {@code >}. */
  public String comparison() {
    return (atMost ? "<" : ">") + (strict ? "" : "=");
  }

  /** The same target with another measured value (for medians over runs). */
  BenchTarget withMeasured(double value) {
    return new BenchTarget(suite, what, value, bound, atMost, strict, unit);
  }
}
