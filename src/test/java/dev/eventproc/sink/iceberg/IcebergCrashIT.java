package dev.eventproc.sink.iceberg;

import static org.assertj.core.api.Assertions.assertThat;

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
 * Iceberg in append mode (the validated append) on its own: a real pipeline JVM (files -> Iceberg
 * append, every valid message appended) killed at the fault points of the commit and with SIGKILL,
 * restarted on the same checkpoint; the table holds every message exactly as often as it was sent,
 * every column. Iceberg upserts are crashed in {@code FanOutCrashIT} and soaked in {@code SoakRun}.
 */
class IcebergCrashIT {
  private static final AtomicInteger CATALOGS = new AtomicInteger();
  private static CrashHarness harness;
  private final SparkSession spark = TestSpark.session();

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("iceberg-crash", 3, 200);
  }

  static Map<String, String> config(Path dir, String trigger) {
    Map<String, String> c = CrashHarness.filesQuarantine(harness.config(dir, trigger), dir);
    c.put("sink.type", "iceberg");
    c.put("sink.mode", "append");
    c.put("sink.iceberg.table", "crash.sales.orders");
    c.put("sink.iceberg.warehouse", dir.resolve("iceberg").toString());
    return c;
  }

  static Stream<Arguments> faults() {
    return CrashMatrix.cases(new Object[] {"before-commit", "orders"}, new Object[] {"after-commit", "orders"});
  }

  @ParameterizedTest(name = "{0} of sink {1} at batch {2}")
  @MethodSource("faults")
  void crashAtAFaultPointThenRestartEqualsTheOracle(String point, String sink, int batch) {
    Path dir = TestSpark.newDir("iceberg-crash-" + point + "-" + batch);
    ChildPipeline child = harness.crashThenRestart(dir, config(dir, "available-now"), point + "@" + batch + "/" + sink);
    if (point.equals("after-commit")) {
      assertThat(child.log()).contains("already committed by this writer, skipped");
    }
    assertEqualsOracle(dir);
  }

  @Test
  void randomKill9ThenRestartEqualsTheOracle() {
    Path dir = TestSpark.newDir("iceberg-kill9");
    harness.killRandomlyThenDrain(dir, trigger -> config(dir, trigger), List.of("orders"), () -> assertEqualsOracle(dir));
  }

  private void assertEqualsOracle(Path dir) {
    String catalog = "icecrash" + CATALOGS.incrementAndGet(); // a catalog instance is cached per name: one per test
    IcebergSink.registerCatalog(spark, catalog, dir.resolve("iceberg").toString());
    assertThat(CrashHarness.counted(EventRows.of(spark.table(catalog + ".sales.orders")))).isEqualTo(harness.expectedAppendedRows());
  }
}
