package dev.eventproc.testutils;

import dev.eventproc.pipeline.CheckpointFiles;
import dev.eventproc.pipeline.Sessions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

/** The one SparkSession of the test JVM: local[2], two shuffle partitions, Delta enabled, no UI. */
public final class TestSpark {
  /** A Hadoop Iceberg catalog under the test directory. */
  public static final String ICEBERG_CATALOG = "local";
  private static SparkSession session;
  private static Path root;

  private TestSpark() {}

  public static synchronized SparkSession session() {
    if (session == null) {
      root = newRoot();
      session = SparkSession.builder()
          .master("local[2]")
          .appName("eventproc-tests")
          .config("spark.ui.enabled", "false")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.sql.shuffle.partitions", "2")
          .config("spark.default.parallelism", "2")
          .config("spark.sql.warehouse.dir", root.resolve("warehouse").toString())
          .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension,"
              + "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
          .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
          .config("spark.sql.catalog." + ICEBERG_CATALOG, "org.apache.iceberg.spark.SparkCatalog")
          .config("spark.sql.catalog." + ICEBERG_CATALOG + ".type", "hadoop")
          .config("spark.sql.catalog." + ICEBERG_CATALOG + ".warehouse", root.resolve("iceberg").toString())
          .config("spark.sql.catalog." + ICEBERG_CATALOG + ".cache-enabled", "false")
          .config("spark.databricks.delta.snapshotPartitions", "2")
          .config("spark.sql.streaming.stateStore.stateSchemaCheck", "true")
          .config(Sessions.CODEGEN_CACHE_KEY, Sessions.CODEGEN_CACHE_ENTRIES) // as eventproc run has it
          .config(CheckpointFiles.CONF_KEY, CheckpointFiles.class.getName()) // as eventproc run has it
          .getOrCreate();
    }
    return session;
  }

  /** Where the {@value #ICEBERG_CATALOG} Iceberg catalog keeps its tables. */
  public static synchronized java.nio.file.Path icebergWarehouse() {
    session();
    return root.resolve("iceberg");
  }

  /** A fresh directory under target/ for one test's tables and checkpoints. */
  public static synchronized Path newDir(String prefix) {
    session();
    try {
      return Files.createTempDirectory(root, prefix);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path newRoot() {
    try {
      Path target = Path.of("target", "test-work").toAbsolutePath();
      Files.createDirectories(target);
      return Files.createTempDirectory(target, "run-");
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
