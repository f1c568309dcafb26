package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import dev.eventproc.testutils.CrashMatrix;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One pipeline writing each batch to Delta (upsert), Iceberg (upsert) and Parquet files (append),
 * killed between two sinks and at the fault points of Iceberg and files: after a restart every sink
 * equals its own oracle.
 */
class FanOutCrashIT {
  private static final java.util.concurrent.atomic.AtomicInteger CATALOGS = new java.util.concurrent.atomic.AtomicInteger();
  private static CrashHarness harness;
  private final SparkSession spark = TestSpark.session();

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("fanout-crash", 3);
  }

  static Map<String, String> config(Path dir, String trigger) {
    Map<String, String> c = harness.config(dir, trigger);
    c.put("sinks", "lake,ice,raw");
    c.put("sink.lake.type", "delta");
    c.put("sink.lake.delta.path", dir.resolve("lake").toString());
    CrashHarness.upsert(c, "sink.lake.");
    c.put("sink.ice.type", "iceberg");
    c.put("sink.ice.iceberg.table", "crash.sales.orders");
    c.put("sink.ice.iceberg.warehouse", dir.resolve("iceberg").toString());
    CrashHarness.upsert(c, "sink.ice.");
    c.put("sink.raw.type", "files");
    c.put("sink.raw.mode", "append");
    c.put("sink.raw.files.path", dir.resolve("raw").toString());
    CrashHarness.filesQuarantine(c, dir);
    return c;
  }

  static Stream<Arguments> faults() {
    return CrashMatrix.cases(
        new Object[] {"after-commit", "orders_lake"},
        new Object[] {"before-commit", "orders_ice"},
        new Object[] {"between-commits", "orders_ice"},
        new Object[] {"after-commit", "orders_ice"},
        new Object[] {"before-commit", "orders_raw"},
        new Object[] {"after-commit", "orders_raw"});
  }

  @ParameterizedTest(name = "{0} of sink {1} at batch {2}")
  @MethodSource("faults")
  void killedBetweenOrInsideSinksThenRestartedEverySinkEqualsItsOracle(String point, String sink, int batch) {
    String fault = point + "@" + batch + "/" + sink;
    Path dir = TestSpark.newDir("fanout-crash-" + fault.replaceAll("[^a-z0-9]", "-"));
    ChildPipeline child = harness.crashThenRestart(dir, config(dir, "available-now"), fault);
    if (fault.startsWith("after-commit")) {
      assertThat(child.log()).contains("already committed by this writer, skipped");
    }
    assertEveryOracle(dir);
  }

  @Test
  void randomKill9ThenRestartEverySinkEqualsItsOracle() throws Exception {
    Path dir = TestSpark.newDir("fanout-kill9");
    harness.killRandomlyThenDrain(dir, trigger -> config(dir, trigger), 3);
    assertEveryOracle(dir);
  }

  private void assertEveryOracle(Path dir) {
    assertThat(latest(spark.read().format("delta").load(dir.resolve("lake").toString()))).as("delta").isEqualTo(harness.expectedLatest());
    String catalog = "check" + CATALOGS.incrementAndGet(); // a catalog instance is cached per name: one per test
    dev.eventproc.sink.iceberg.IcebergSink.registerCatalog(spark, catalog, dir.resolve("iceberg").toString());
    assertThat(latest(spark.table(catalog + ".sales.orders"))).as("iceberg").isEqualTo(harness.expectedLatest());
    Map<String, Long> appended = new TreeMap<>();
    for (Row r : spark.read().parquet(dir.resolve("raw").toString()).selectExpr("payment_id", "version", "amount").collectAsList()) {
      appended.merge(r.getString(0) + ":" + r.getLong(1) + ":" + r.getDecimal(2).toPlainString(), 1L, Long::sum);
    }
    assertThat(appended).as("parquet").isEqualTo(harness.expectedAppended());
  }

  private static Map<String, String> latest(Dataset<Row> table) {
    Map<String, String> out = new TreeMap<>();
    for (Row r : table.selectExpr("payment_id", "version", "amount").collectAsList()) {
      assertThat(out.put(r.getString(0), r.getLong(1) + ":" + r.getDecimal(2).toPlainString())).as("key %s once", r.getString(0)).isNull();
    }
    return out;
  }
}
