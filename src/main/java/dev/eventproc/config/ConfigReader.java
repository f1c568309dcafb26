package dev.eventproc.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Typed, validating access to an {@link EventprocConfig}. Every read records the key as known and
 * every bad value as a problem; {@link #finish()} then reports unknown keys (with the closest known
 * key as a suggestion) and throws one {@link ConfigException} listing all problems, so a user fixes
 * a config in one pass rather than one error per start.
 *
 * <p>A reader may be scoped to a key prefix ({@link #scope(String)}): {@code scope("sink.")} reads
 * {@code mode} as {@code sink.mode}. Scopes share the known keys and problems of their root.
 */
public final class ConfigReader {
  private final EventprocConfig config;
  private final String prefix;
  private final Shared shared;

  private static final class Shared {
    final Set<String> known = new TreeSet<>();
    final Map<String, String> knownPrefixes = new LinkedHashMap<>();
    final Map<String, String> explainedPrefixes = new LinkedHashMap<>();
    final List<String> problems = new ArrayList<>();
    final Map<String, PathKind> paths = new LinkedHashMap<>();
  }

  /** How the code that uses a path reads it, which decides how it must be checked. */
  public enum PathKind {
    /** By Spark or Hadoop: a URI or local path, {@code ..} removed before the file system resolves links. */
    HADOOP,
    /** By java.nio: a plain local path (a {@code file:} URI is a relative path there), links resolved by the OS. */
    LOCAL
  }

  public ConfigReader(EventprocConfig config) {
    this(config, "", new Shared());
  }

  private ConfigReader(EventprocConfig config, String prefix, Shared shared) {
    this.config = config;
    this.prefix = prefix;
    this.shared = shared;
  }

  /** A reader whose keys are relative to {@code prefix} (which should end with a dot). */
  public ConfigReader scope(String subPrefix) {
    return new ConfigReader(config, prefix + subPrefix, shared);
  }

  /** The full name of a key of this scope. */
  public String key(String name) {
    return prefix + name;
  }

  public EventprocConfig config() {
    return config;
  }

  /** Whether the key is set (and records it as known). */
  public boolean has(String name) {
    String k = key(name);
    shared.known.add(k);
    String v = config.get(k);
    return v != null && !v.isEmpty();
  }

  /** The raw value or the default; an empty value counts as absent. */
  public String string(String name, String defaultValue) {
    String k = key(name);
    shared.known.add(k);
    String v = config.get(k);
    return v == null || v.isEmpty() ? defaultValue : v;
  }

  /** The raw value, or a problem "KEY is required. FIX" and null. */
  public String required(String name, String fix) {
    String v = string(name, null);
    if (v == null) {
      problem(name, "is required. " + fix);
    }
    return v;
  }

  /**
   * A path (directory, file or URI) read by Spark or Hadoop, or null when absent; with {@code requiredFix}
   * an absent path is a problem. When {@value PathRoot#KEY} is set the path must lie under it (in
   * restricted mode the operator's root is checked instead, with the other restricted checks).
   */
  public String path(String name, String requiredFix) {
    return path(name, requiredFix, PathKind.HADOOP);
  }

  /** As {@link #path}, for a local file the code opens with java.nio (e.g. {@code metrics.file}). */
  public String localPath(String name, String requiredFix) {
    return path(name, requiredFix, PathKind.LOCAL);
  }

  private String path(String name, String requiredFix, PathKind kind) {
    String v = requiredFix == null ? string(name, null) : required(name, requiredFix);
    shared.known.add(PathRoot.KEY);
    shared.paths.put(key(name), kind);
    String root = config.get(PathRoot.KEY);
    if (v != null && root != null && !root.isEmpty() && config.restricted() == null) {
      String why = kind == PathKind.LOCAL ? PathRoot.checkLocal(root, v) : PathRoot.check(root, v);
      if (why != null) {
        problem(name, why + ". Use a path under it, or change " + PathRoot.KEY + ".");
      }
    }
    return v;
  }

  public Duration duration(String name, Duration defaultValue) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    Duration d = Durations.parse(v);
    if (d == null) {
      problem(name, "'" + v + "' is not a duration. " + Durations.EXAMPLES);
      return defaultValue;
    }
    return d;
  }

  public int integer(String name, int defaultValue, int min, int max) {
    return (int) longValue(name, defaultValue, min, max);
  }

  public long longValue(String name, long defaultValue, long min, long max) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    try {
      long n = Long.parseLong(v.replace("_", ""));
      if (n < min || n > max) {
        problem(name, "'" + v + "' is out of range. Use a whole number from " + min + " to " + max + ".");
        return defaultValue;
      }
      return n;
    } catch (NumberFormatException e) {
      problem(name, "'" + v + "' is not a whole number. Use a whole number from " + min + " to " + max + ".");
      return defaultValue;
    }
  }

  public boolean bool(String name, boolean defaultValue) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    switch (v.toLowerCase(Locale.ROOT)) {
      case "true": case "yes": case "on":
        return true;
      case "false": case "no": case "off":
        return false;
      default:
        problem(name, "'" + v + "' is not a boolean. Use true or false.");
        return defaultValue;
    }
  }

  /**
   * An enum value written in config style: constant {@code INSERT_IF_ABSENT} is written
   * {@code insert-if-absent}.
   */
  public <E extends Enum<E>> E choice(String name, Class<E> type, E defaultValue) {
    String v = string(name, null);
    if (v == null) {
      return defaultValue;
    }
    for (E e : type.getEnumConstants()) {
      if (configName(e).equalsIgnoreCase(v.trim())) {
        return e;
      }
    }
    problem(name, "'" + v + "' is not one of " + choices(type) + ". Set " + key(name) + " to one of them.");
    return defaultValue;
  }

  /** The config spelling of an enum constant. */
  public static String configName(Enum<?> e) {
    return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  public static <E extends Enum<E>> String choices(Class<E> type) {
    return Arrays.stream(type.getEnumConstants()).map(ConfigReader::configName).collect(Collectors.joining(", "));
  }

  /** A plain SQL identifier (column name), or null when absent. */
  public String identifier(String name) {
    String v = string(name, null);
    if (v != null && !Identifiers.isPlain(v)) {
      problem(name, "'" + v + "' is not a plain identifier. " + Identifiers.RULE);
      return null;
    }
    return v;
  }

  /** A comma-separated list of plain identifiers; empty when absent. Duplicates are refused. */
  public List<String> identifiers(String name) {
    String v = string(name, null);
    if (v == null) {
      return List.of();
    }
    List<String> out = new ArrayList<>();
    for (String part : v.split(",", -1)) {
      String p = part.trim();
      if (!Identifiers.isPlain(p)) {
        problem(name, "'" + p + "' (in '" + v + "') is not a plain identifier. " + Identifiers.RULE);
        return List.of();
      }
      if (out.contains(p)) {
        problem(name, "'" + p + "' is listed twice in '" + v + "'. List each column once.");
        return List.of();
      }
      out.add(p);
    }
    return Collections.unmodifiableList(out);
  }

  /** A qualified table name such as {@code db.table} or {@code catalog.db.table}; null when absent. */
  public List<String> qualifiedName(String name) {
    String v = string(name, null);
    if (v == null) {
      return null;
    }
    List<String> parts = Identifiers.parseQualified(v);
    if (parts == null) {
      problem(name, "'" + v + "' is not a table name. Use plain identifiers separated by dots, e.g. db.payments. "
          + Identifiers.RULE);
    }
    return parts;
  }

  /**
   * Every key under {@code name + "."} with the prefix removed (e.g. passthrough options). The prefix
   * is recorded as known, so its keys are not reported as unknown.
   */
  public Map<String, String> prefixed(String name, String meaning) {
    String p = key(name) + ".";
    shared.knownPrefixes.put(p, meaning);
    Map<String, String> out = new TreeMap<>();
    for (String k : config.keys()) {
      if (k.startsWith(p)) {
        out.put(k.substring(p.length()), config.get(k));
      }
    }
    return out;
  }

  /** Records that keys under this prefix, when unknown, are explained by {@code why}. */
  public void explainPrefix(String name, String why) {
    shared.explainedPrefixes.put(key(name), why);
  }

  /**
   * Records a problem about a key of this scope. The message follows the key: "KEY: message". Secrets
   * of the config (and values that came from {@code ${env:}}/{@code ${file:}}) are masked in it.
   */
  public void problem(String name, String message) {
    String k = key(name);
    String m = config.redact(message);
    shared.problems.add(m.startsWith("is ") ? k + " " + m : k + ": " + m);
  }

  /** Problems so far (for tests and tools). */
  public List<String> problems() {
    return List.copyOf(shared.problems);
  }

  /** The path keys read so far (full names), with how their code reads them. */
  public Map<String, PathKind> pathsRead() {
    return Collections.unmodifiableMap(shared.paths);
  }

  /** Keys read so far. */
  public Set<String> knownKeys() {
    return Collections.unmodifiableSet(shared.known);
  }

  /** Prefixes of passthrough keys read so far, with what they mean. */
  public Map<String, String> knownPrefixes() {
    return Collections.unmodifiableMap(shared.knownPrefixes);
  }

  /** Reports unknown keys and throws when any problem was recorded. */
  public void finish() {
    finish(k -> true);
  }

  /**
   * As {@link #finish()}, checking for unknown keys only among those {@code owned} (e.g. a sink
   * built alone checks only {@code sink.*} keys).
   */
  public void finish(Predicate<String> owned) {
    List<String> problems = new ArrayList<>(shared.problems);
    for (String k : config.keys()) {
      if (!owned.test(k) || shared.known.contains(k) || shared.knownPrefixes.keySet().stream().anyMatch(k::startsWith)) {
        continue;
      }
      String explained = shared.explainedPrefixes.entrySet().stream()
          .filter(e -> k.startsWith(e.getKey())).map(Map.Entry::getValue).findFirst().orElse(null);
      if (explained != null) {
        problems.add(k + ": not used here: " + explained + " Remove it or fix the type.");
        continue;
      }
      String suggestion = closest(k);
      problems.add(k + ": unknown key." + (suggestion == null
          ? " Remove it; README lists every key." : " Did you mean " + suggestion + "?"));
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  private String closest(String unknown) {
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    for (String k : shared.known) {
      int d = distance(unknown, k);
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return bestDistance <= Math.max(2, unknown.length() / 5) ? best : null;
  }

  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
