package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import dev.eventproc.testutils.CrashMatrix;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Kills a real pipeline JVM (files -> Postgres upsert with deletes, quarantine to Postgres too) at
 * every fault point of both commit shapes and at random moments; after a restart the table equals
 * the oracle and the ledger holds each batch once.
 */
class PostgresCrashIT {
  private static CrashHarness harness;

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("pg-crash", 3);
  }

  static Map<String, String> config(Path dir, String schema, String shape, String trigger) {
    Map<String, String> c = CrashHarness.upsert(harness.config(dir, trigger), "sink.");
    c.put("sink.type", "postgres");
    c.put("sink.postgres.url", TestPostgres.url());
    if (TestPostgres.user() != null) {
      c.put("sink.postgres.user", TestPostgres.user());
    }
    c.put("sink.postgres.schema", schema);
    c.put("sink.postgres.table", "orders");
    c.put("sink.postgres.commit", shape);
    if (shape.equals("partition")) {
      c.put("sink.postgres.partitions", "3");
    }
    c.put("quarantine.type", "postgres");
    c.put("quarantine.postgres.url", TestPostgres.url());
    if (TestPostgres.user() != null) {
      c.put("quarantine.postgres.user", TestPostgres.user());
    }
    c.put("quarantine.postgres.schema", schema);
    c.put("quarantine.postgres.table", "orders_quarantine");
    return c;
  }

  static Stream<Arguments> faults() {
    return CrashMatrix.cases(
        new Object[] {"batch", "before-commit", "orders"},
        new Object[] {"batch", "after-staging", "orders"},
        new Object[] {"batch", "after-commit", "orders"},
        new Object[] {"batch", "after-commit", "orders_quarantine"},
        new Object[] {"partition", "after-staging", "orders"},
        new Object[] {"partition", "between-commits", "orders"},
        new Object[] {"partition", "after-commit", "orders"});
  }

  @ParameterizedTest(name = "{1} of sink {2} at batch {3}, commit={0}")
  @MethodSource("faults")
  void crashAtAFaultPointThenRestartEqualsTheOracle(String shape, String point, String sink, int batch) throws Exception {
    Path dir = TestSpark.newDir("pg-crash-" + shape + "-" + point + "-" + batch);
    String schema = TestPostgres.newSchema("crash");
    ChildPipeline child = harness.crashThenRestart(dir, config(dir, schema, shape, "available-now"), point + "@" + batch + "/" + sink);
    if (point.equals("after-commit")) {
      assertThat(child.log()).contains("already committed by this writer, skipped");
    }
    assertEqualsOracle(schema);
  }

  @Test
  void randomKill9ThenRestartEqualsTheOracle() throws Exception {
    Path dir = TestSpark.newDir("pg-kill9");
    String schema = TestPostgres.newSchema("kill");
    harness.killRandomlyThenDrain(dir, trigger -> config(dir, schema, "batch", trigger), 3);
    assertEqualsOracle(schema);
  }

  private void assertEqualsOracle(String schema) throws Exception {
    Map<String, String> actual = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT payment_id, version, amount FROM " + schema + ".orders")) {
        while (rs.next()) {
          assertThat(actual.put(rs.getString(1), rs.getLong(2) + ":" + rs.getBigDecimal(3).toPlainString()))
              .as("key %s once", rs.getString(1)).isNull();
        }
      }
      assertThat(actual).isEqualTo(harness.expectedLatest());
      try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + schema + ".orders_quarantine")) {
        rs.next();
        assertThat(rs.getLong(1)).isEqualTo(harness.oracle().malformed());
      }
      // Ledger: every batch of each writer once (batch shape: one row; partition shape: one per partition).
      try (ResultSet rs = st.executeQuery("SELECT writer, batch_id, count(*), max(partitions) FROM " + schema
          + ".eventproc_ledger GROUP BY writer, batch_id HAVING count(*) <> max(partitions)")) {
        assertThat(rs.next()).as("a batch with missing or extra ledger rows").isFalse();
      }
    }
  }
}
