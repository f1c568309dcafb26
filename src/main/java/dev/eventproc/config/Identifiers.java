package dev.eventproc.config;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Validation and quoting of SQL identifiers that come from configuration (table and column names).
 *
 * <p>Only plain identifiers are accepted: a letter or underscore, then letters, digits or
 * underscores, at most 128 characters. Anything with quotes, spaces, dots (other than between the
 * parts of a qualified name), semicolons or comment markers is refused before it reaches SQL, and
 * what is accepted is still quoted wherever it is spliced into a statement.
 */
public final class Identifiers {
  private static final Pattern PLAIN = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
  public static final String RULE =
      "Use letters, digits and underscores only, starting with a letter or underscore (at most 128 characters).";

  private Identifiers() {}

  /** True when the name is a plain identifier. */
  public static boolean isPlain(String name) {
    return name != null && PLAIN.matcher(name).matches();
  }

  /** Returns the name when plain, else throws a {@link ConfigException} naming the key. */
  public static String requirePlain(String key, String name) {
    if (!isPlain(name)) {
      throw new ConfigException(notPlainMessage(key, name));
    }
    return name;
  }

  static String notPlainMessage(String key, String name) {
    return key + ": '" + name + "' is not a plain identifier. " + RULE;
  }

  /** Splits a possibly qualified name (catalog.db.table) and checks each part; null when invalid. */
  public static List<String> parseQualified(String name) {
    if (name == null || name.isEmpty()) {
      return null;
    }
    String[] parts = name.split("\\.", -1);
    if (parts.length > 4) {
      return null;
    }
    for (String p : parts) {
      if (!isPlain(p)) {
        return null;
      }
    }
    return List.of(parts);
  }

  /**
   * Quotes an identifier for Spark SQL: backticks, with embedded backticks doubled. Config values
   * are validated as plain before they get here; column names of a user's DataFrame may be anything
   * Spark allows, and quoting keeps them inert.
   */
  public static String quoteSpark(String name) {
    checkQuotable(name);
    return "`" + name.replace("`", "``") + "`";
  }

  /** Quotes a qualified name for Spark SQL, part by part. */
  public static String quoteSparkQualified(List<String> parts) {
    StringBuilder sb = new StringBuilder();
    for (String p : parts) {
      if (sb.length() > 0) {
        sb.append('.');
      }
      sb.append(quoteSpark(p));
    }
    return sb.toString();
  }

  /** Quotes an identifier for PostgreSQL: double quotes, with embedded double quotes doubled. */
  public static String quotePostgres(String name) {
    checkQuotable(name);
    return "\"" + name.replace("\"", "\"\"") + "\"";
  }

  /**
   * Quotes a filesystem path or URI as a Spark SQL identifier, as in {@code delta.`/tmp/t`}.
   * Backticks and control characters are refused rather than escaped.
   */
  public static String quoteSparkPath(String path) {
    if (path == null || path.isEmpty() || path.indexOf('`') >= 0 || path.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("path cannot be quoted safely: " + path);
    }
    return "`" + path + "`";
  }

  private static void checkQuotable(String name) {
    if (name == null || name.isEmpty() || name.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("identifier cannot be quoted safely: " + name);
    }
  }
}
