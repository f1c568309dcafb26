package dev.eventproc.bench;

/**
 * An absolute figure a benchmark is judged by (unlike {@link BenchGoal}, not a ratio): for example
 * end-to-end events/s at least 100,000, or p99 latency at most 5 s.
 *
 * @param suite the case
 * @param what the measured figure, in a few words
 * @param measured the value measured (NaN when it could not be measured)
 * @param bound the goal's bound
 * @param atMost whether the goal is {@code measured <= bound} (else {@code measured >= bound})
 * @param unit how values print (for example {@code events/s}, {@code ms})
 */
public record BenchTarget(String suite, String what, double measured, double bound, boolean atMost, String unit) {
  /** Whether the measured value meets the bound (false when not measured). */
  public boolean met() {
    return !Double.isNaN(measured) && (atMost ? measured <= bound : measured >= bound);
  }

  /** The same target with another measured value (for medians over runs). */
  BenchTarget withMeasured(double value) {
    return new BenchTarget(suite, what, value, bound, atMost, unit);
  }
}
