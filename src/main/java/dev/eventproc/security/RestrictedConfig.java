package dev.eventproc.security;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.ConfigReader.PathKind;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.Identifiers;
import dev.eventproc.config.PathRoot;
import dev.eventproc.config.RestrictedMode;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.postgres.PgUrl;
import dev.eventproc.stage.StageOptions;
import dev.eventproc.stage.WindowAggregate;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks a whole config against the operator's {@link RestrictedMode}, after it was read and before
 * anything runs, recording each problem under its key: every path the pipeline uses, and paths derived from
 * them, strictly below the root ({@link PathConfinement}); SQL from config against {@link SqlPolicy};
 * {@code spark.*} keys against {@link SparkConfPolicy}; Kafka settings against {@link KafkaOptionPolicy};
 * PostgreSQL URL parameters against an allow-list; catalog tables inside the operator's namespace; and no
 * {@value PathRoot#KEY} in the file (the operator sets the root).
 */
public final class RestrictedConfig {
  private static final String SCOPE = "(sink\\.|sink\\.[^.]+\\.|quarantine\\.)";
  private static final Pattern DELETE_CONDITION = Pattern.compile(SCOPE + "delete\\.condition");
  private static final Pattern QUERY = Pattern.compile("sink\\.[^.]+\\.query");
  private static final Pattern TABLE = Pattern.compile(SCOPE + "(delta|iceberg)\\.table");
  private static final Pattern DELTA_PATH = Pattern.compile(SCOPE + "delta\\.path");
  private static final Pattern POSTGRES_URL = Pattern.compile(SCOPE + "postgres\\.url");
  private static final Pattern KAFKA_CLIENT = Pattern.compile(SCOPE + "kafka\\.(producer|admin)\\.(.+)");
  private static final Pattern SOURCE_OPTION = Pattern.compile("source\\.kafka\\.option\\.(.+)");
  /** pgjdbc parameters a config may set: no class names (socketFactory, sslfactory...), no log file. */
  private static final Set<String> POSTGRES_PARAMETERS = Set.of("user", "password", "ssl", "sslmode", "sslrootcert",
      "sslcert", "sslkey", "sslpassword", "ApplicationName", "connectTimeout", "socketTimeout", "loginTimeout",
      "tcpKeepAlive", "targetServerType", "currentSchema", "reWriteBatchedInserts", "prepareThreshold");
  private static final Set<String> POSTGRES_FILE_PARAMETERS = Set.of("sslrootcert", "sslcert", "sslkey");
  /** ReconcileOptions.SOURCE_TABLE (not imported: the reconcile package depends on pipeline, which calls this). */
  private static final String RECONCILE_SOURCE_TABLE = "reconcile.source.table";
  private static final String SUFFIX = " (restricted mode)";

  private RestrictedConfig() {}

  /** Records a problem for each key that restricted mode refuses; does nothing when the config is not restricted. */
  public static void check(ConfigReader r) {
    EventprocConfig c = r.config();
    RestrictedMode mode = c.restricted();
    if (mode == null) {
      return;
    }
    String root = mode.pathsRoot();
    r.pathsRead().forEach((key, kind) -> {
      String v = c.get(key);
      if (v != null && !v.isEmpty()) {
        report(r, key, PathConfinement.check(root, v, kind));
      }
    });
    for (String key : c.keys()) {
      String v = c.get(key);
      if (v == null || v.isEmpty()) {
        continue;
      }
      Matcher m;
      if (key.equals(PathRoot.KEY)) {
        report(r, key, "is set by the operator (--paths-root), not by the config. Remove it.");
      } else if (key.startsWith("spark.")) {
        report(r, key, SparkConfPolicy.check(key, v, root));
      } else if (DELETE_CONDITION.matcher(key).matches()) {
        reportAll(r, key, SqlPolicy.checkExpression(v));
      } else if (key.equals(StageOptions.AGGREGATES)) {
        for (String part : WindowAggregate.splitTopLevel(v)) {
          reportAll(r, key, SqlPolicy.checkExpression(part));
        }
      } else if (QUERY.matcher(key).matches()) {
        reportAll(r, key, SqlPolicy.checkQuery(v));
      } else if (TABLE.matcher(key).matches() || key.equals(RECONCILE_SOURCE_TABLE)) {
        report(r, key, catalogTable(key, v, mode, c));
      } else if (DELTA_PATH.matcher(key).matches()) {
        String base = v.endsWith("/") ? v.substring(0, v.length() - 1) : v;
        String why = PathConfinement.check(root, base + SinkSpec.TOMBSTONE_SUFFIX, PathKind.HADOOP);
        report(r, key, why == null ? null : "its tombstone table " + why);
      } else if (POSTGRES_URL.matcher(key).matches()) {
        report(r, key, postgresUrl(v, mode));
      } else if ((m = KAFKA_CLIENT.matcher(key)).matches()) {
        String why = KafkaOptionPolicy.checkClient(m.group(3), v);
        report(r, key, why != null ? why : KafkaOptionPolicy.isLocation(m.group(3)) ? storeFile(v, mode) : null);
      } else if ((m = SOURCE_OPTION.matcher(key)).matches()) {
        String why = KafkaOptionPolicy.checkSourceOption(m.group(1), v);
        report(r, key, why != null ? why : KafkaOptionPolicy.isLocation(m.group(1)) ? storeFile(v, mode) : null);
      }
    }
  }

  /**
   * Refuses a local path that a command derives from a key (e.g. reconcile's report directory from
   * {@code checkpoint.location}) when it leaves the root.
   *
   * @throws ConfigException naming the key and what was derived
   */
  public static void checkDerivedLocalPath(RestrictedMode mode, String key, String derived, String what) {
    String why = PathConfinement.check(mode.pathsRoot(), derived, PathKind.LOCAL);
    if (why != null) {
      throw new ConfigException(key + ": " + what + " " + why + SUFFIX);
    }
  }

  /**
   * A table of a catalog: its namespace must be the operator's (or below it); an Iceberg catalog that eventproc
   * defines from {@code iceberg.warehouse} may not replace Spark's own.
   */
  private static String catalogTable(String key, String value, RestrictedMode mode, EventprocConfig c) {
    List<String> parts = Identifiers.parseQualified(value);
    if (parts == null) {
      return null; // reported by the reader already
    }
    boolean iceberg = key.endsWith("iceberg.table");
    boolean delta = key.endsWith("delta.table");
    if (iceberg && parts.get(0).equalsIgnoreCase("spark_catalog")) {
      return "'" + value + "' names spark_catalog: an Iceberg sink uses a catalog of its own.";
    }
    if (delta && parts.size() == 3 && !parts.get(0).equalsIgnoreCase("spark_catalog")) {
      return "'" + value + "' names catalog " + parts.get(0) + ": a Delta table lives in spark_catalog.";
    }
    if (mode.catalogNamespace() == null) {
      return "names a catalog table, and the operator allowed none (--catalog-namespace). Use a path below the paths root.";
    }
    if (parts.size() < 2) {
      return "'" + value + "' has no namespace. Write " + mode.catalogNamespace() + ".<table>.";
    }
    int first = parts.size() == 2 ? 0 : 1; // catalog.namespace...table, or namespace.table
    String namespace = String.join(".", parts.subList(first, parts.size() - 1));
    boolean inside = namespace.equals(mode.catalogNamespace()) || namespace.startsWith(mode.catalogNamespace() + ".");
    return inside ? null : "'" + value + "' is outside the namespace " + mode.catalogNamespace() + " the operator allows.";
  }

  private static String postgresUrl(String url, RestrictedMode mode) {
    PgUrl.Parsed parsed;
    try {
      parsed = PgUrl.parse(url);
    } catch (IllegalArgumentException e) {
      return null; // reported by the reader already, without the URL
    }
    for (Map.Entry<String, String> p : parsed.parameters().entrySet()) {
      if (!POSTGRES_PARAMETERS.contains(p.getKey())) {
        return "parameter " + (p.getKey().matches("[A-Za-z0-9_.-]{1,64}") ? p.getKey() : "?") + " is not allowed: only "
            + String.join(", ", new TreeSet<>(POSTGRES_PARAMETERS)) + ".";
      }
      if (POSTGRES_FILE_PARAMETERS.contains(p.getKey())) {
        String why = storeFile(p.getValue(), mode);
        if (why != null) {
          return "parameter " + p.getKey() + ": " + why;
        }
      }
    }
    return null;
  }

  /** A key or trust store: below the paths root, or in the secrets directory. */
  private static String storeFile(String path, RestrictedMode mode) {
    String why = PathConfinement.check(mode.pathsRoot(), path, PathKind.LOCAL);
    if (why != null && mode.secretsDir() != null && PathConfinement.check(mode.secretsDir(), path, PathKind.LOCAL) == null) {
      return null;
    }
    return why == null ? null : why.replace(". Use a path below it.", ", and not in the secrets directory. Use a path "
        + "below the root or in the secrets directory.");
  }

  private static void reportAll(ConfigReader r, String key, List<String> problems) {
    problems.forEach(p -> report(r, key, p));
  }

  private static void report(ConfigReader r, String key, String problem) {
    if (problem != null) {
      r.problem(key, problem + SUFFIX);
    }
  }
}
