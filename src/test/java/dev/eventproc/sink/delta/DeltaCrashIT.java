package dev.eventproc.sink.delta;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.CrashMatrix;
import dev.eventproc.testutils.EventRows;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kills a real pipeline JVM (files -> Delta upsert with deletes, quarantine to Delta) at every fault
 * point of the Delta commit protocol, on the first and on a middle batch; restarts it on the same
 * checkpoint and compares the table with the oracle, row by row and column by column. Delta upserts
 * under random {@code kill -9} are in {@code FanOutCrashIT} (the same sink, first of the fan-out).
 */
class DeltaCrashIT {
  private static CrashHarness harness;
  private final SparkSession spark = TestSpark.session();

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("delta-crash", 3, 200);
  }

  static Map<String, String> config(Path dir, String trigger) {
    Map<String, String> c = CrashHarness.upsert(harness.config(dir, trigger), "sink.");
    c.put("sink.type", "delta");
    c.put("sink.delta.path", dir.resolve("table").toString());
    return c;
  }

  static Stream<Arguments> faults() {
    return CrashMatrix.cases(
        new Object[] {"before-commit", "orders"},
        new Object[] {"between-commits", "orders"},
        new Object[] {"after-commit", "orders"},
        new Object[] {"after-commit", "orders_quarantine"});
  }

  @ParameterizedTest(name = "{0} of sink {1} at batch {2}")
  @MethodSource("faults")
  void crashAtAFaultPointThenRestartEqualsTheOracle(String point, String sink, int batch) {
    Path dir = TestSpark.newDir("delta-crash-" + point + "-" + batch);
    ChildPipeline child = harness.crashThenRestart(dir, config(dir, "available-now"), point + "@" + batch + "/" + sink);
    if (!point.equals("before-commit")) {
      assertThat(child.log()).contains("already committed by this writer, skipped");
    }
    assertEqualsOracle(dir);
  }

  private void assertEqualsOracle(Path dir) {
    assertThat(CrashHarness.byKey(EventRows.of(spark.read().format("delta").load(dir.resolve("table").toString()))))
        .isEqualTo(harness.expectedLatestRows());
    Path quarantine = dir.resolve("checkpoint-quarantine");
    assertThat(Files.exists(quarantine)).isTrue();
    assertThat(spark.read().format("delta").load(quarantine.toString()).count()).isEqualTo(harness.oracle().malformed());
  }
}
