package dev.eventproc.sink.postgres;

/**
 * The sink's rule for U+0000, which PostgreSQL stores neither in text nor in jsonb (jsonb refuses its
 * JSON escape): in text and inside nested values (map keys included) it becomes U+FFFD, so the row is
 * kept. A key column is never changed, since a key could then become another row's key and merge with
 * it: a key holding U+0000 is refused ({@link NulInKeyException}).
 */
final class NulRule {
  private static final String JSON_NUL = "\\u0000";
  private static final String JSON_REPLACEMENT = "\\ufffd";

  private NulRule() {}

  /** A key column holds U+0000, which the sink neither stores nor changes. */
  static final class NulInKeyException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    NulInKeyException(String column) {
      super("key column " + column + " holds a NUL character (U+0000). PostgreSQL cannot store it: in text and nested "
          + "values it becomes U+FFFD, but a key is never changed, since it could become another row's key and merge with it. "
          + "Send such rows to quarantine before the sink (the pipeline's parse step does), or remove the character in the "
          + "query that feeds the sink.");
    }

    /** The same error, saying which sink and batch. */
    IllegalArgumentException of(String sinkName, long batchId) {
      return new IllegalArgumentException("sink " + sinkName + " batch " + batchId + ": " + getMessage(), this);
    }
  }

  static boolean inText(String s) {
    return s.indexOf('\0') >= 0;
  }

  /** Whether JSON text holds an escaped U+0000 (not an escaped backslash followed by "u0000"). */
  static boolean inJson(String json) {
    return json.contains(JSON_NUL) && !json(json).equals(json);
  }

  /** Text with U+0000 replaced by U+FFFD. */
  static String text(String s) {
    return inText(s) ? s.replace('\0', '\uFFFD') : s;
  }

  /** JSON text with each escaped U+0000 written as the escape of U+FFFD (and any raw U+0000 replaced). */
  static String json(String json) {
    if (!json.contains(JSON_NUL)) {
      return text(json);
    }
    StringBuilder out = new StringBuilder(json.length());
    int from = 0;
    for (int k = 0; k < json.length() - 1; k++) {
      if (json.charAt(k) != '\\') {
        continue;
      }
      if (json.startsWith(JSON_NUL, k)) {
        out.append(json, from, k).append(JSON_REPLACEMENT);
        from = k + JSON_NUL.length();
        k = from - 1;
      } else {
        k++; // an escaped character, a backslash included
      }
    }
    return text(out.append(json, from, json.length()).toString());
  }
}
