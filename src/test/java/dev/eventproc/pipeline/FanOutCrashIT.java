package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.CrashMatrix;
import dev.eventproc.testutils.EventRows;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One pipeline writing each batch to Delta (upsert), Iceberg (upsert) and Parquet files (append),
 * killed between two sinks, at the fault points of Iceberg upserts and files, and with {@code kill -9}
 * (Delta, Iceberg and files at once): after a restart every sink equals its own oracle, every column.
 * Delta's own fault points are in {@code DeltaCrashIT}, Iceberg's before-commit in {@code IcebergCrashIT}
 * (the same point for both write modes): no case runs twice.
 */
class FanOutCrashIT {
  private static final AtomicInteger CATALOGS = new AtomicInteger();
  private static CrashHarness harness;
  private final SparkSession spark = TestSpark.session();

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("fanout-crash", 3, 200);
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

  /** Between sinks: Iceberg's two commits (Delta's done), before files (Delta's and Iceberg's done). */
  static Stream<Arguments> faults() {
    return CrashMatrix.cases(
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

  /** Held after the files sink's commit, the last of the three: the drain must skip the batch in every sink. */
  @Test
  void randomKill9ThenRestartEverySinkEqualsItsOracle() {
    Path dir = TestSpark.newDir("fanout-kill9");
    harness.killRandomlyThenDrain(dir, trigger -> config(dir, trigger), List.of("orders_lake", "orders_ice", "orders_raw"),
        () -> assertEveryOracle(dir));
  }

  private void assertEveryOracle(Path dir) {
    assertThat(CrashHarness.byKey(EventRows.of(spark.read().format("delta").load(dir.resolve("lake").toString()))))
        .as("delta").isEqualTo(harness.expectedLatestRows());
    String catalog = "check" + CATALOGS.incrementAndGet(); // a catalog instance is cached per name: one per test
    IcebergSink.registerCatalog(spark, catalog, dir.resolve("iceberg").toString());
    assertThat(CrashHarness.byKey(EventRows.of(spark.table(catalog + ".sales.orders"))))
        .as("iceberg").isEqualTo(harness.expectedLatestRows());
    assertThat(CrashHarness.counted(EventRows.of(spark.read().parquet(dir.resolve("raw").toString()), "batch_id")))
        .as("parquet").isEqualTo(harness.expectedAppendedRows());
  }
}
