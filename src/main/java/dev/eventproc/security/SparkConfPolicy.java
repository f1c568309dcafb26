package dev.eventproc.security;

import dev.eventproc.config.ConfigReader.PathKind;
import dev.eventproc.config.Identifiers;
import java.net.URI;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code spark.*} keys a config may set in restricted mode: tuning values of a checked form, and paths
 * confined to the root (the warehouse, event logs, an Iceberg Hadoop catalog's warehouse, the default file
 * system). Everything else, {@code spark.master}, {@code spark.jars}, {@code spark.plugins}, JVM options,
 * {@code spark.hadoop.*} and any class name, belongs to the platform and is refused. README lists the same keys.
 */
final class SparkConfPolicy {
  private enum Rule { INT, BOOL, SIZE, TIME_ZONE, PATH, DEFAULT_FS }

  static final Map<String, Rule> ALLOWED = new TreeMap<>(Map.ofEntries(
      Map.entry("spark.sql.shuffle.partitions", Rule.INT),
      Map.entry("spark.default.parallelism", Rule.INT),
      Map.entry("spark.sql.session.timeZone", Rule.TIME_ZONE),
      Map.entry("spark.sql.adaptive.enabled", Rule.BOOL),
      Map.entry("spark.sql.adaptive.coalescePartitions.enabled", Rule.BOOL),
      Map.entry("spark.sql.ansi.enabled", Rule.BOOL),
      Map.entry("spark.sql.files.maxPartitionBytes", Rule.SIZE),
      Map.entry("spark.sql.streaming.minBatchesToRetain", Rule.INT),
      Map.entry("spark.sql.streaming.noDataMicroBatches.enabled", Rule.BOOL),
      Map.entry("spark.databricks.delta.snapshotPartitions", Rule.INT),
      Map.entry("spark.driver.memory", Rule.SIZE),
      Map.entry("spark.executor.memory", Rule.SIZE),
      Map.entry("spark.executor.cores", Rule.INT),
      Map.entry("spark.executor.instances", Rule.INT),
      Map.entry("spark.eventLog.enabled", Rule.BOOL),
      Map.entry("spark.eventLog.dir", Rule.PATH),
      Map.entry("spark.sql.warehouse.dir", Rule.PATH),
      Map.entry("spark.hadoop.fs.defaultFS", Rule.DEFAULT_FS)));

  /** {@code spark.sql.catalog.<name>[.<setting>]}: an Iceberg Hadoop catalog is the one kind a config may define. */
  private static final Pattern CATALOG = Pattern.compile("spark\\.sql\\.catalog\\.([^.]+)(\\.(.+))?");
  static final String ICEBERG_CATALOG = "org.apache.iceberg.spark.SparkCatalog";

  private SparkConfPolicy() {}

  /** Null when the key and value are allowed, else why not. */
  static String check(String key, String value, String root) {
    Matcher m = CATALOG.matcher(key);
    if (m.matches()) {
      return catalog(m.group(1), m.group(3), value, root);
    }
    Rule rule = ALLOWED.get(key);
    if (rule == null) {
      return "is not one of the Spark settings a config may change in restricted mode (README lists them). The platform "
          + "sets the others.";
    }
    return switch (rule) {
      case INT -> value.matches("\\d{1,9}") ? null : "'" + value + "' is not a whole number.";
      case BOOL -> value.matches("true|false") ? null : "'" + value + "' is not true or false.";
      case SIZE -> value.matches("\\d{1,12}[kmgtKMGT]?[bB]?") ? null : "'" + value + "' is not a size such as 512m or 4g.";
      case TIME_ZONE -> value.matches("[A-Za-z0-9_/+:-]{1,64}") ? null : "'" + value + "' is not a time zone such as UTC.";
      case PATH -> PathConfinement.check(root, value, PathKind.HADOOP);
      case DEFAULT_FS -> defaultFs(value, root);
    };
  }

  private static String catalog(String name, String setting, String value, String root) {
    if (!Identifiers.isPlain(name) || name.equalsIgnoreCase("spark_catalog")) {
      return "'" + name + "' cannot be defined here: a config may define Iceberg catalogs of its own names, not "
          + "spark_catalog.";
    }
    if (setting == null) {
      return value.equals(ICEBERG_CATALOG) ? null : "a config may define only Iceberg catalogs (" + ICEBERG_CATALOG + ").";
    }
    return switch (setting) {
      case "type" -> value.equals("hadoop") ? null : "a config may define only Hadoop catalogs (type=hadoop), whose "
          + "tables lie under a warehouse path below the root.";
      case "warehouse" -> PathConfinement.check(root, value, PathKind.HADOOP);
      case "cache-enabled" -> value.matches("true|false") ? null : "'" + value + "' is not true or false.";
      default -> "is not a catalog setting a config may change in restricted mode (type, warehouse, cache-enabled).";
    };
  }

  /** The default file system decides where scheme-less paths go: it must be the root's own. */
  private static String defaultFs(String value, String root) {
    try {
      URI v = URI.create(value);
      URI r = URI.create(root.matches("^[A-Za-z][A-Za-z0-9+.-]*:.*") ? root : "file:///");
      boolean same = v.getScheme() != null && v.getScheme().equalsIgnoreCase(r.getScheme())
          && Objects.equals(v.getAuthority(), r.getAuthority());
      return same ? null : "'" + value + "' is not the file system of the paths root " + root + ".";
    } catch (IllegalArgumentException e) {
      return "'" + value + "' is not a URI.";
    }
  }
}
