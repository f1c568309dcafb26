package dev.eventproc.pipeline;

import dev.eventproc.sink.SinkType;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Creates the Spark session for {@code eventproc run} and the demo. */
public final class Sessions {
  static final String DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";
  static final String ICEBERG_EXTENSION = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions";
  static final String DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog";

  /** Spark's cache of compiled generated classes (per JVM; a static setting, so fixed when the session starts). */
  public static final String CODEGEN_CACHE_KEY = "spark.sql.codegen.cache.maxEntries";
  /**
   * Spark's default of 100 entries is smaller than what one pipeline batch uses (parse, stage, quarantine,
   * sink, the sink's commit-record and log queries: about 120 classes measured on a Delta upsert pipeline,
   * spread over the cache's four segments): every batch then evicted and compiled the same ~45 classes
   * with Janino again. 1000 holds that set several times over.
   */
  public static final String CODEGEN_CACHE_ENTRIES = "1000";

  private Sessions() {}

  /**
   * The active session, or a new one with the SQL extensions of the formats in use (Delta's catalog
   * too when Delta is used). Without a master (none from
   * spark-submit or the config) it runs {@code local[*]}; a local master gets few shuffle and Delta
   * snapshot partitions and no UI. The {@code spark.*} keys of the config are applied last and win.
   */
  public static SparkSession getOrCreate(String appName, Map<String, String> sparkConf, Set<SinkType> sinkTypes) {
    return getOrCreate(appName, sparkConf, sinkTypes, false);
  }

  /**
   * As {@link #getOrCreate(String, Map, Set)}; with {@code sparkMetrics}, {@link EventprocPlugin} is added to
   * {@code spark.plugins} (the plugins listed by the config or spark-submit stay), before the session exists.
   */
  public static SparkSession getOrCreate(String appName, Map<String, String> sparkConf, Set<SinkType> sinkTypes,
      boolean sparkMetrics) {
    SparkConf submitted = new SparkConf(); // what spark-submit (or -Dspark.*) passed
    String master = sparkConf.getOrDefault("spark.master", submitted.get("spark.master", null));
    SparkSession.Builder b = SparkSession.builder().appName(appName);
    // Only the extensions of formats in use: their jars may be absent from a cluster that does not need them.
    Set<String> extensions = new LinkedHashSet<>();
    for (String e : sparkConf.getOrDefault("spark.sql.extensions", submitted.get("spark.sql.extensions", "")).split(",")) {
      if (!e.isBlank()) {
        extensions.add(e.trim());
      }
    }
    if (sinkTypes.contains(SinkType.DELTA)) {
      extensions.add(DELTA_EXTENSION);
      b = b.config("spark.sql.catalog.spark_catalog", DELTA_CATALOG);
    }
    if (sinkTypes.contains(SinkType.ICEBERG)) {
      extensions.add(ICEBERG_EXTENSION);
    }
    if (sparkMetrics) {
      b = b.config(SparkMetrics.PLUGINS, SparkMetrics.withPlugin(sparkConf.getOrDefault(SparkMetrics.PLUGINS,
          submitted.get(SparkMetrics.PLUGINS, ""))));
    }
    if (!extensions.isEmpty()) {
      b = b.config("spark.sql.extensions", String.join(",", extensions));
    }
    if (!submitted.contains(CODEGEN_CACHE_KEY)) {
      b = b.config(CODEGEN_CACHE_KEY, CODEGEN_CACHE_ENTRIES);
    }
    if (!submitted.contains(CheckpointFiles.CONF_KEY)) {
      b = b.config(CheckpointFiles.CONF_KEY, CheckpointFiles.class.getName()); // a config's spark.* key still wins, below
    }
    if (master == null) {
      master = "local[*]";
      b = b.master(master);
    }
    if (master.startsWith("local")) {
      // Cluster-sized defaults (200 shuffle partitions, 50 for Delta's log replay) make every small
      // local batch pay for hundreds of empty tasks.
      String partitions = String.valueOf(Math.max(2, Runtime.getRuntime().availableProcessors() * 2));
      b = b.config("spark.sql.shuffle.partitions", partitions)
          .config("spark.databricks.delta.snapshotPartitions", partitions)
          .config("spark.ui.enabled", "false")
          .config("spark.driver.host", "127.0.0.1");
    }
    for (Map.Entry<String, String> e : sparkConf.entrySet()) {
      if (!e.getKey().equals("spark.sql.extensions") && !(sparkMetrics && e.getKey().equals(SparkMetrics.PLUGINS))) {
        b = b.config(e.getKey(), e.getValue());
      }
    }
    return b.getOrCreate();
  }
}
