package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.cli.HistoryOracle;
import dev.eventproc.sink.HistoryMode;
import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.CrashMatrix;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 16's crash proof for {@code sink.mode=history}: one pipeline ({@code stage.type=none}, so
 * redelivered copies reach the sinks) writes each batch to a Delta, an Iceberg and then a PostgreSQL history
 * sink; it is killed at fault points of the sinks and at random moments with {@code kill -9}, and restarted
 * on the same checkpoint. Then each table holds exactly the rows {@link HistoryOracle} computes from
 * the input: every version row once, its {@code __start_at}/{@code __end_at}, and every column.
 */
class HistoryCrashIT {
  /** Every column of a history row: the event's, then the interval. */
  private static final List<String> COLUMNS = List.of("payment_id", "account_id", "amount", "currency", "version", "op",
      "event_time", HistoryMode.START_AT, HistoryMode.END_AT);

  private static final int KEYS = 150;
  private static final AtomicInteger CATALOGS = new AtomicInteger();

  private static CrashHarness harness;
  private static List<String> expected;
  private final SparkSession spark = TestSpark.session();

  @BeforeAll
  static void writeInput() {
    harness = new CrashHarness("history-crash", 3, KEYS); // x 3 versions in any order, some deleted last, duplicates
    List<String> rows = new ArrayList<>();
    for (HistoryOracle.Row r : harness.historyRows()) {
      Event e = r.event();
      rows.add(line(e.paymentId(), e.accountId(), e.amount(), e.currency(), e.version(), e.delete() ? "d" : "u",
          e.eventTime().toString(), r.startAt(), r.endAt()));
    }
    expected = List.copyOf(rows);
    long current = harness.historyRows().stream().filter(r -> r.endAt() == null).count();
    assertThat(current).as("current rows: what upsert keeps; fewer than the keys, as some keys end deleted")
        .isEqualTo(harness.expectedLatest().size()).isLessThan(KEYS);
  }

  static Map<String, String> config(Path dir, String schema, String trigger) {
    Map<String, String> c = CrashHarness.filesQuarantine(harness.config(dir, trigger), dir);
    c.put("stage.type", "none");
    c.put("sinks", "lake,ice,pg");
    c.put("sink.lake.type", "delta");
    c.put("sink.lake.delta.path", dir.resolve("lake").toString());
    history(c, "sink.lake.");
    c.put("sink.ice.type", "iceberg");
    c.put("sink.ice.iceberg.table", "hist.db.orders");
    c.put("sink.ice.iceberg.warehouse", dir.resolve("iceberg").toString());
    history(c, "sink.ice.");
    c.put("sink.pg.type", "postgres");
    c.put("sink.pg.postgres.url", TestPostgres.url());
    if (TestPostgres.user() != null) {
      c.put("sink.pg.postgres.user", TestPostgres.user());
    }
    c.put("sink.pg.postgres.schema", schema);
    c.put("sink.pg.postgres.table", "orders");
    history(c, "sink.pg.");
    return c;
  }

  private static void history(Map<String, String> c, String scope) {
    CrashHarness.upsert(c, scope);
    c.put(scope + "mode", "history");
  }

  /**
   * (fault point, sink killed, sinks that must skip the replayed batch or "none"); Delta writes first, then
   * Iceberg, then PostgreSQL. Compact: PostgreSQL halted before its commit (Delta and Iceberg have committed
   * the batch and must skip its replay), Delta halted between its tombstones' commit and its MERGE, and
   * Iceberg the same (Delta must skip). The full matrix adds PostgreSQL after its commit.
   */
  static Stream<Arguments> faults() {
    List<Object[]> rows = new ArrayList<>(List.of(
        new Object[] {"before-commit", "orders_pg", "orders_lake,orders_ice"},
        new Object[] {"between-commits", "orders_lake", "none"},
        new Object[] {"between-commits", "orders_ice", "orders_lake"}));
    if (CrashMatrix.full()) {
      rows.add(new Object[] {"after-commit", "orders_pg", "orders_pg"});
    }
    return CrashMatrix.cases(rows.toArray(Object[][]::new));
  }

  @ParameterizedTest(name = "{0} of sink {1} at batch {3}")
  @MethodSource("faults")
  void killedAtAFaultPointThenRestartedEachHistoryEqualsTheOracle(String point, String sink, String skips, int batch)
      throws Exception {
    String fault = point + "@" + batch + "/" + sink;
    Path dir = TestSpark.newDir("history-crash-" + fault.replaceAll("[^a-z0-9]", "-"));
    String schema = TestPostgres.newSchema("hcrash");
    ChildPipeline child = harness.crashThenRestart(dir, config(dir, schema, "available-now"), fault);
    for (String skipping : skips.equals("none") ? new String[0] : skips.split(",")) {
      assertThat(child.log()).containsPattern("sink=" + skipping + " target=.* batch=" + batch
          + ": already committed by this writer, skipped");
    }
    assertEachHistoryEqualsTheOracle(dir, schema);
  }

  @Test
  void randomKill9ThenDrainEachHistoryEqualsTheOracle() throws Exception {
    Path dir = TestSpark.newDir("history-kill9");
    String schema = TestPostgres.newSchema("hkill");
    harness.killRandomlyThenDrain(dir, trigger -> config(dir, schema, trigger), List.of("orders_lake", "orders_ice", "orders_pg"),
        () -> assertEachHistoryEqualsTheOracle(dir, schema));
  }

  private void assertEachHistoryEqualsTheOracle(Path dir, String schema) throws Exception {
    assertSameRows("delta", delta(dir));
    assertSameRows("iceberg", iceberg(dir));
    assertSameRows("postgres", postgres(schema));
  }

  /** Equal as multisets of rows; a failure lists only the differing rows. */
  private static void assertSameRows(String table, List<String> actual) {
    List<String> missing = new ArrayList<>(expected);
    actual.forEach(missing::remove);
    List<String> unexpected = new ArrayList<>(actual);
    expected.forEach(unexpected::remove);
    assertThat(missing).as("%s history: oracle rows (%s) missing from the table", table, COLUMNS).isEmpty();
    assertThat(unexpected).as("%s history: table rows not in the oracle (a doubled row shows here)", table).isEmpty();
  }

  private List<String> delta(Path dir) {
    return sparkRows("delta", spark.read().format("delta").load(dir.resolve("lake").toString()));
  }

  private List<String> iceberg(Path dir) {
    String catalog = "hcrash" + CATALOGS.incrementAndGet(); // a catalog instance is cached per name: one per test
    IcebergSink.registerCatalog(spark, catalog, dir.resolve("iceberg").toString());
    return sparkRows("iceberg", spark.table(catalog + ".db.orders"));
  }

  private static List<String> sparkRows(String name, Dataset<Row> table) {
    assertThat(table.columns()).as(name + " columns").containsExactlyInAnyOrderElementsOf(COLUMNS);
    List<String> out = new ArrayList<>();
    for (Row r : table.selectExpr(COLUMNS.toArray(String[]::new)).collectAsList()) {
      Object[] values = new Object[COLUMNS.size()];
      for (int i = 0; i < values.length; i++) {
        values[i] = r.get(i);
      }
      out.add(line(values));
    }
    return out;
  }

  private static List<String> postgres(String schema) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT * FROM " + schema + ".orders")) {
      ResultSetMetaData meta = rs.getMetaData();
      List<String> names = new ArrayList<>();
      for (int i = 1; i <= meta.getColumnCount(); i++) {
        names.add(meta.getColumnName(i));
      }
      assertThat(names).as("postgres columns").containsExactlyInAnyOrderElementsOf(COLUMNS);
      while (rs.next()) {
        Object[] values = new Object[COLUMNS.size()];
        for (int i = 0; i < values.length; i++) {
          values[i] = rs.getObject(COLUMNS.get(i));
        }
        out.add(line(values));
      }
    }
    return out;
  }

  /** One row as text, the same for the oracle, Spark and JDBC values (decimals plain, times as instants). */
  private static String line(Object... values) {
    StringBuilder sb = new StringBuilder();
    for (Object v : values) {
      Object text = v instanceof BigDecimal d ? d.toPlainString() : v instanceof Timestamp t ? t.toInstant() : v;
      sb.append(sb.length() == 0 ? "" : "|").append(text);
    }
    return sb.toString();
  }
}
