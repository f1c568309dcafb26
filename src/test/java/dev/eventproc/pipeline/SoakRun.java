package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.reconcile.Reconciler;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kill -9 soak (not part of {@code mvn verify}; run with {@code mvn test -Psoak}, sinks chosen with
 * {@code -Dsoak.sinks=DELTA,POSTGRES}): over 200k+ generated events (70,000 payments x 3 versions,
 * duplicates, deletes, malformed), the pipeline JVM is killed with SIGKILL at random moments at least
 * 20 times, then drained; the sink must equal the oracle row by row (nothing lost, nothing doubled) and
 * reconciliation must pass. Prints one {@code SOAK} line per sink for README's results table.
 */
class SoakRun {
  private static final int KEYS = Integer.getInteger("soak.keys", 70_000);
  private static final int KILLS = Integer.getInteger("soak.kills", 20);
  private final SparkSession spark = TestSpark.session();

  /** The sinks of {@code -Dsoak.sinks} (default DELTA,POSTGRES,ICEBERG). */
  static java.util.stream.Stream<SinkType> sinks() {
    return java.util.Arrays.stream(System.getProperty("soak.sinks", "DELTA,POSTGRES,ICEBERG").split(","))
        .map(String::trim).map(SinkType::valueOf);
  }

  @ParameterizedTest
  @MethodSource("sinks")
  void killedAtRandomManyTimesEndsEqualToTheOracle(SinkType type) throws Exception {
    CrashHarness harness = new CrashHarness("soak-" + type.name().toLowerCase(), 60, KEYS);
    Path dir = TestSpark.newDir("soak-" + type.name().toLowerCase());
    Map<String, String> target = SinkConfigs.target(type, new TreeMap<>(), dir, "soak", "orders");
    String schema = target.get("sink.postgres.schema");
    long start = System.nanoTime();
    harness.killRandomlyThenDrain(dir, trigger -> config(harness, type, dir, target, trigger), KILLS, 6_000, 16_000,
        Duration.ofMinutes(30));
    Map<String, String> actual = new TreeMap<>();
    long rows = 0;
    for (String[] r : rows(type, dir, schema)) {
      actual.put(r[0], r[1]);
      rows++;
    }
    Map<String, String> expected = harness.expectedLatest();
    long lost = expected.entrySet().stream().filter(e -> !e.getValue().equals(actual.get(e.getKey()))).count();
    long doubled = rows - actual.size();
    long extra = actual.keySet().stream().filter(k -> !expected.containsKey(k)).count();
    List<Reconciler.Result> checks = Reconciler.run(spark, PipelineConfig.from(EventprocConfig.of(
        config(harness, type, dir, target, "available-now"))));
    long failed = checks.stream().filter(Reconciler.Result::failed).count();
    System.out.printf("SOAK sink=%s events=%d kills=%d keys=%d rows=%d lost=%d doubled=%d extra=%d reconcile=%d/%d passed minutes=%.1f%n",
        type.name().toLowerCase(), harness.messages(), KILLS, expected.size(), rows, lost, doubled, extra, checks.size() - failed,
        checks.size(), (System.nanoTime() - start) / 6e10);
    assertThat(lost).isZero();
    assertThat(doubled).isZero();
    assertThat(extra).isZero();
    assertThat(failed).as("reconciliation: %s", checks).isZero();
  }

  private static Map<String, String> config(CrashHarness harness, SinkType type, Path dir, Map<String, String> target,
      String trigger) {
    Map<String, String> c = CrashHarness.filesQuarantine(CrashHarness.upsert(harness.config(dir, trigger), "sink."), dir);
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("sink.type", type.name().toLowerCase());
    c.putAll(target);
    return c;
  }

  private List<String[]> rows(SinkType type, Path dir, String schema) throws Exception {
    if (type == SinkType.POSTGRES) {
      List<String[]> out = new java.util.ArrayList<>();
      try (Connection c = TestPostgres.connect(); Statement s = c.createStatement();
          ResultSet rs = s.executeQuery("SELECT payment_id, version, amount FROM " + schema + ".orders")) {
        while (rs.next()) {
          out.add(new String[] {rs.getString(1), rs.getLong(2) + ":" + rs.getBigDecimal(3).toPlainString()});
        }
      }
      return out;
    }
    List<Row> rows = type == SinkType.DELTA
        ? spark.read().format("delta").load(dir.resolve("table").toString()).select("payment_id", "version", "amount").collectAsList()
        : icebergRows(dir);
    return rows.stream().map(r -> new String[] {r.getString(0), r.getLong(1) + ":" + r.getDecimal(2).toPlainString()}).toList();
  }

  private List<Row> icebergRows(Path dir) {
    dev.eventproc.sink.iceberg.IcebergSink.registerCatalog(spark, "soak", dir.resolve("iceberg").toString());
    return spark.table("soak.db.orders").select("payment_id", "version", "amount").collectAsList();
  }
}
