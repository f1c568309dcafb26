package dev.eventproc.config;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses human durations such as {@code 10 minutes}, {@code 30s}, {@code 500ms} or ISO {@code PT10M}. */
public final class Durations {
  private static final Pattern HUMAN = Pattern.compile("(\\d{1,12})\\s*([a-z]*)");
  public static final String EXAMPLES = "Use a whole number and a unit, e.g. '10 minutes', '30s', '500ms', '2 hours'.";

  private Durations() {}

  /** The duration, or null when the text is not one. */
  public static Duration parse(String text) {
    if (text == null) {
      return null;
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.startsWith("p")) {
      try {
        Duration d = Duration.parse(t.toUpperCase(Locale.ROOT));
        return d.isNegative() ? null : d;
      } catch (DateTimeParseException e) {
        return null;
      }
    }
    Matcher m = HUMAN.matcher(t);
    if (!m.matches()) {
      return null;
    }
    long n = Long.parseLong(m.group(1));
    switch (m.group(2)) {
      case "ms": case "milli": case "millis": case "millisecond": case "milliseconds":
        return Duration.ofMillis(n);
      case "s": case "sec": case "secs": case "second": case "seconds":
        return Duration.ofSeconds(n);
      case "m": case "min": case "mins": case "minute": case "minutes":
        return Duration.ofMinutes(n);
      case "h": case "hr": case "hrs": case "hour": case "hours":
        return Duration.ofHours(n);
      case "d": case "day": case "days":
        return Duration.ofDays(n);
      case "":
        return n == 0 ? Duration.ZERO : null; // a bare number is ambiguous, except zero
      default:
        return null;
    }
  }

  /** Spark interval text for a duration, e.g. for {@code withWatermark}. */
  public static String toSparkInterval(Duration d) {
    return d.toMillis() + " milliseconds";
  }

  /** Short human form: 1500 ms becomes "1.5 s", 600000 ms "10 min". */
  public static String human(Duration d) {
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    if (ms < 3_600_000) {
      return String.format(Locale.ROOT, "%.1f min", ms / 60_000.0);
    }
    return String.format(Locale.ROOT, "%.1f h", ms / 3_600_000.0);
  }
}
