package dev.eventproc.reconcile;

import dev.eventproc.config.EventprocConfig;

/**
 * Text from data and from other systems (key values, error messages) made safe for a report: control
 * characters (ANSI escapes, carriage returns, bidirectional overrides) shown as {@code \}{@code uXXXX}, URL
 * passwords masked, and for Markdown, HTML and Markdown syntax shown as text.
 */
final class ReportText {
  private ReportText() {}

  /** For the terminal and JSON: control and bidirectional-override characters escaped, URL passwords masked. */
  static String plain(String s) {
    if (s == null) {
      return "";
    }
    String masked = EventprocConfig.maskUrlPassword(s);
    StringBuilder sb = new StringBuilder(masked.length());
    masked.codePoints().forEach(c -> {
      boolean bidi = (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) || c == 0x200E || c == 0x200F;
      if (Character.isISOControl(c) || bidi) {
        sb.append(String.format("\\u%04x", c));
      } else {
        sb.appendCodePoint(c);
      }
    });
    return sb.toString();
  }

  /** For a Markdown table cell: {@link #plain} with HTML's special characters as entities and Markdown's escaped. */
  static String markdownCell(String s) {
    String p = plain(s);
    StringBuilder sb = new StringBuilder(p.length() + 16);
    for (int i = 0; i < p.length(); i++) {
      char c = p.charAt(i);
      switch (c) {
        case '&' -> sb.append("&amp;");
        case '<' -> sb.append("&lt;");
        case '>' -> sb.append("&gt;");
        case '\\', '`', '*', '[', ']', '(', ')', '#', '!', '|', '~', '{', '}' -> sb.append('\\').append(c);
        // Between letters or digits an underscore cannot start or end emphasis: rec_delta stays readable.
        case '_' -> sb.append(intraword(p, i) ? "_" : "\\_");
        default -> sb.append(c);
      }
    }
    return sb.toString();
  }

  private static boolean intraword(String s, int i) {
    return i > 0 && i < s.length() - 1 && Character.isLetterOrDigit(s.charAt(i - 1)) && Character.isLetterOrDigit(s.charAt(i + 1));
  }
}
