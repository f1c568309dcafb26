package dev.eventproc.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The raw configuration: flat string keys, with {@code ${env:NAME}} and {@code ${file:/path}}
 * references already replaced by their values. Immutable.
 *
 * <p>Secrets: a key whose name looks like a secret (password, secret, token, JAAS config...) or whose
 * value came from a reference is masked by {@link #masked()} and {@link #toString()}, which is what
 * every log line uses. A config <em>file</em> may not hold such a secret in plain text: it must use
 * a reference, so the file itself can be checked in. A map given from code may hold literals.
 *
 * <p>Typed, validated views of this are built with {@link ConfigReader}.
 */
public final class EventprocConfig {
  private static final Pattern REFERENCE = Pattern.compile("\\$\\{(env|file):([^}]*)}");
  /** A secret word anywhere in a key name: {@code fs.s3a.secret.key}, {@code account.key.<acct>}, {@code ssl.keystore.key}. */
  private static final Pattern SECRET_WORD = Pattern.compile("(?i)(password|passwd|passphrase|secret|token|credential|jaas"
      + "|(api|private|access|account|keystore|signing|encryption)[._-]?key|(^|[._-])pwd($|[._-])|[._-]key$)");
  /** Names that only choose a mechanism or switch a feature, and hold no secret (e.g. {@code ...credentials.provider}). */
  private static final Pattern NOT_SECRET_LAST =
      Pattern.compile("(?i).*[._-](provider|providers|enabled|class|classes|mechanism|type|algorithm|url|columns?|serializer|ms)$");
  /** Spark settings that decide what Spark hides in its UI and logs: a config may not weaken them. */
  private static final Pattern REDACTION_KEY = Pattern.compile("(?i)spark\\.(sql\\.)?redaction\\..*");
  /** URL parameters whose value is a secret ({@code password=}, {@code sslpassword=}, {@code token=}...). */
  private static final Pattern URL_SECRET_PARAM =
      Pattern.compile("(?i)([?&;][\\w.-]*(password|passwd|pwd|secret|token|sig)[\\w.-]*=)[^&\\r\\n]*");
  /** {@code scheme://user:password@}: the password may hold '/', '@' or ':', so it runs to the last '@' of the word. */
  private static final Pattern URL_USER_INFO = Pattern.compile("(?i)(\\b[a-z][a-z0-9+.-]*://[^/:@\\s]*:)\\S*@");
  static final String MASK = "******";

  private final Map<String, String> values;
  private final Set<String> secretKeys;
  private final String origin;
  private final RestrictedMode restricted;

  private EventprocConfig(Map<String, String> values, Set<String> secretKeys, String origin, RestrictedMode restricted) {
    this.values = Collections.unmodifiableMap(new TreeMap<>(values));
    this.secretKeys = Set.copyOf(secretKeys);
    this.origin = origin;
    this.restricted = restricted;
  }

  /** Reads a Java properties file (UTF-8). */
  public static EventprocConfig load(Path file) {
    return load(file, null);
  }

  /**
   * Reads a Java properties file (UTF-8) written by someone the operator does not trust, when {@code restricted}
   * is not null: {@code ${file:}} reads only below its secrets directory, {@code ${env:}} only the team's
   * variables, and the pipeline built from it is checked against {@link RestrictedMode}.
   */
  public static EventprocConfig load(Path file, RestrictedMode restricted) {
    return load(file, restricted, System::getenv);
  }

  /** As {@link #load(Path, RestrictedMode)}, resolving {@code ${env:...}} with the given lookup. */
  public static EventprocConfig load(Path file, RestrictedMode restricted, UnaryOperator<String> env) {
    Properties props = new Properties();
    try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(in);
    } catch (NoSuchFileException e) {
      throw new ConfigException("--config: file " + file.toAbsolutePath() + " does not exist.");
    } catch (IOException | IllegalArgumentException e) {
      throw new ConfigException("--config: cannot read " + file.toAbsolutePath() + ": " + e.getMessage());
    }
    Map<String, String> raw = new TreeMap<>();
    for (String name : props.stringPropertyNames()) {
      raw.put(name.trim(), props.getProperty(name).trim());
    }
    return resolve(raw, false, file.toString(), env, restricted);
  }

  /** Builds a config from library code. Literal secrets are allowed here. */
  public static EventprocConfig of(Map<String, String> map) {
    return resolve(new TreeMap<>(map), true, "map", System::getenv, null);
  }

  /** As {@link #of(Map)}, resolving {@code ${env:...}} with the given lookup (for tests and embedding). */
  public static EventprocConfig of(Map<String, String> map, UnaryOperator<String> env) {
    return resolve(new TreeMap<>(map), true, "map", env, null);
  }

  /** As {@link #load(Path, RestrictedMode)} for keys given as a map (literal secrets refused as in a file). */
  public static EventprocConfig of(Map<String, String> map, UnaryOperator<String> env, RestrictedMode restricted) {
    return resolve(new TreeMap<>(map), restricted == null, "map", env, restricted);
  }

  private static EventprocConfig resolve(Map<String, String> raw, boolean literalSecretsAllowed, String origin,
      UnaryOperator<String> env, RestrictedMode restricted) {
    List<String> problems = new ArrayList<>();
    Map<String, String> resolved = new TreeMap<>();
    Set<String> secrets = new HashSet<>();
    for (Map.Entry<String, String> e : raw.entrySet()) {
      String key = e.getKey();
      String value = e.getValue() == null ? "" : e.getValue();
      if (REDACTION_KEY.matcher(key).matches()) {
        problems.add(key + ": a config may not change what Spark redacts from its logs and UI. Remove it (the platform "
            + "sets redaction with spark-submit).");
        continue;
      }
      if (isSecretName(key)) {
        secrets.add(key);
        if (!literalSecretsAllowed && !value.isEmpty() && !REFERENCE.matcher(value).find()) {
          problems.add(key + ": a secret must not be written in the config file. Use ${env:NAME} "
              + "(an environment variable) or ${file:/path} (a file holding only the secret).");
          continue;
        }
      }
      Matcher m = REFERENCE.matcher(value);
      StringBuilder out = new StringBuilder();
      boolean ok = true;
      while (m.find()) {
        secrets.add(key);
        String kind = m.group(1);
        String target = m.group(2).trim();
        String replacement;
        try {
          replacement = restricted == null ? ("env".equals(kind) ? env.apply(target) : readSecretFile(target))
              : "env".equals(kind) ? checkedEnv(restricted, key, target, env) : restricted.readSecretFile(key, target);
        } catch (RestrictedMode.ReferenceRefused refused) {
          problems.add(refused.getMessage());
          ok = false;
          break;
        }
        if (replacement == null) {
          problems.add(key + ": " + ("env".equals(kind)
              ? "environment variable " + target + " is not set. Export it before starting, or change " + key + "."
              : "cannot read secret file " + target + ". Check the path and its permissions."));
          ok = false;
          break;
        }
        m.appendReplacement(out, Matcher.quoteReplacement(replacement));
      }
      if (ok) {
        m.appendTail(out);
        resolved.put(key, out.toString());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return new EventprocConfig(resolved, secrets, origin, restricted);
  }

  private static String checkedEnv(RestrictedMode restricted, String key, String name, UnaryOperator<String> env)
      throws RestrictedMode.ReferenceRefused {
    restricted.checkEnvReference(key, name);
    return env.apply(name);
  }

  private static String readSecretFile(String path) {
    try {
      return Files.readString(Path.of(path), StandardCharsets.UTF_8).strip();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  static boolean isSecretName(String key) {
    return SECRET_WORD.matcher(key).find() && !NOT_SECRET_LAST.matcher(key).matches();
  }

  /** The value of a key, or null when absent. */
  public String get(String key) {
    return values.get(key);
  }

  public boolean contains(String key) {
    return values.containsKey(key);
  }

  /** All keys, sorted. */
  public Set<String> keys() {
    return values.keySet();
  }

  /** Whether the key holds a secret (masked in logs). */
  public boolean isSecret(String key) {
    return secretKeys.contains(key);
  }

  /** The operator's restricted mode this config was loaded under, or null (default mode: the config is trusted). */
  public RestrictedMode restricted() {
    return restricted;
  }

  /** Where this config came from (a file path, or "map"). */
  public String origin() {
    return origin;
  }

  /** A copy with one key set (or removed when value is null); secrets keep their masking. */
  public EventprocConfig with(String key, String value) {
    Map<String, String> copy = new TreeMap<>(values);
    if (value == null) {
      copy.remove(key);
    } else {
      copy.put(key, value);
    }
    return new EventprocConfig(copy, secretKeys, origin, restricted);
  }

  /** The config with every secret replaced by {@value #MASK}: the only form that may be logged. */
  public Map<String, String> masked() {
    Map<String, String> out = new TreeMap<>();
    values.forEach((k, v) -> out.put(k, secretKeys.contains(k) ? MASK : maskUrlPassword(v)));
    return out;
  }

  /**
   * Masks passwords embedded in URLs: every parameter named like a secret ({@code password=},
   * {@code sslpassword=}, {@code token=}: up to the next {@code &} or line end, so a password with
   * '/', '@' or spaces is masked whole) and the password of {@code scheme://user:password@host}.
   * Safe on free text such as an error message that quotes a URL.
   */
  public static String maskUrlPassword(String value) {
    if (value == null) {
      return null;
    }
    String v = URL_SECRET_PARAM.matcher(value).replaceAll("$1" + Matcher.quoteReplacement(MASK));
    return URL_USER_INFO.matcher(v).replaceAll("$1" + Matcher.quoteReplacement(MASK) + "@");
  }

  /**
   * The text with every secret of this config (values of secret keys and of {@code ${env:}} /
   * {@code ${file:}} references, longest first) and URL passwords masked: what a message may show.
   */
  public String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    List<String> secrets = secretKeys.stream().map(values::get).filter(v -> v != null && !v.isEmpty())
        .sorted(Comparator.comparingInt(String::length).reversed()).toList();
    for (String v : secrets) {
      // A very short value would mask unrelated text; it is masked where a message quotes it.
      out = v.length() >= 3 ? out.replace(v, MASK) : out.replace("'" + v + "'", "'" + MASK + "'");
    }
    return maskUrlPassword(out);
  }

  @Override
  public String toString() {
    return "EventprocConfig" + masked();
  }
}
