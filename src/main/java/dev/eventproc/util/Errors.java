package dev.eventproc.util;

/** Small helpers for exceptions and their messages, shared by every layer. */
public final class Errors {
  private Errors() {}

  /**
   * Rethrows any exception unchanged, a checked one too (as Scala code does), so callers see Spark's own
   * exception rather than a wrapper. Use as {@code throw Errors.<RuntimeException>rethrow(e);}.
   */
  @SuppressWarnings("unchecked")
  public static <E extends Exception> E rethrow(Exception e) throws E {
    throw (E) e;
  }

  /** The first line of a message, trimmed (Spark's and drivers' messages go on with plans and stacks); "" for null. */
  public static String firstLine(String s) {
    if (s == null) {
      return "";
    }
    String t = s.strip();
    int nl = t.indexOf('\n');
    return (nl < 0 ? t : t.substring(0, nl)).trim();
  }

  /** The first line of an exception's message, or the exception itself when it has no message. */
  public static String summary(Throwable e) {
    return e.getMessage() == null ? e.toString() : firstLine(e.getMessage());
  }

  /** Sleeps; an interrupt keeps the thread's flag and ends the wait as an {@link IllegalStateException}. */
  public static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
