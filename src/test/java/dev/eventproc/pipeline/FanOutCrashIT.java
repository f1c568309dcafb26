package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
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
 * One pipeline writing each batch to Delta (upsert), Iceberg (upsert), Parquet files (append) and
 * PostgreSQL history (in key-hash slices), killed between two sinks and at the fault points of Iceberg,
 * files and history: after a restart every sink equals its own oracle (history: every version row and
 * its interval, from {@code HistoryOracle}).
 */
class FanOutCrashIT {
  private static final java.util.concurrent.atomic.AtomicInteger CATALOGS = new java.util.concurrent.atomic.AtomicInteger();
  private static CrashHarness harness;
  private static String historySchema;
  private final SparkSession spark = TestSpark.session();

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("fanout-crash", 3);
    historySchema = TestPostgres.newSchema("fanout_hist");
  }

  static Map<String, String> config(Path dir, String trigger) {
    Map<String, String> c = harness.config(dir, trigger);
    c.put("sinks", "lake,ice,raw,hist");
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
    c.put("sink.hist.type", "postgres");
    c.put("sink.hist.mode", "history");
    c.put("sink.hist.key.columns", "payment_id");
    c.put("sink.hist.version.column", "version");
    c.put("sink.hist.delete.condition", "op = 'd'");
    c.put("sink.hist.postgres.url", TestPostgres.url());
    c.put("sink.hist.postgres.user", TestPostgres.user());
    c.put("sink.hist.postgres.schema", historySchema);
    c.put("sink.hist.postgres.table", historyTable(dir));
    c.put("sink.hist.postgres.commit", "partition");
    c.put("sink.hist.postgres.partitions", "3");
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
        new Object[] {"after-commit", "orders_raw"},
        new Object[] {"between-commits", "orders_hist"});
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
    Properties p = new Properties();
    p.setProperty("user", TestPostgres.user());
    List<String> history = new ArrayList<>();
    for (Row r : spark.read().jdbc(TestPostgres.url(), historySchema + "." + historyTable(dir), p)
        .selectExpr("payment_id", "__start_at", "__end_at", "amount").collectAsList()) {
      history.add(r.getString(0) + ":" + r.getLong(1) + ":" + r.get(2) + ":" + r.getDecimal(3).toPlainString());
    }
    Collections.sort(history);
    assertThat(history).as("postgres history").isEqualTo(harness.expectedHistory());
  }

  /** One history table per test directory, in the class's schema. */
  private static String historyTable(Path dir) {
    return "h_" + Integer.toHexString(dir.getFileName().toString().hashCode() & 0x7fffffff);
  }

  private static Map<String, String> latest(Dataset<Row> table) {
    Map<String, String> out = new TreeMap<>();
    for (Row r : table.selectExpr("payment_id", "version", "amount").collectAsList()) {
      assertThat(out.put(r.getString(0), r.getLong(1) + ":" + r.getDecimal(2).toPlainString())).as("key %s once", r.getString(0)).isNull();
    }
    return out;
  }
}
