package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.reconcile.Reconciler;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.EventRows;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestKafka;
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
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The kill -9 soak (not part of {@code mvn verify}; run with {@code mvn test -Psoak}, sinks chosen with
 * {@code -Dsoak.sinks=DELTA,POSTGRES}): over 200k+ generated events (70,000 payments x 3 versions,
 * duplicates, deletes, malformed), the pipeline JVM is killed with SIGKILL at random moments at least
 * 20 times, then drained; the sink must equal the oracle row by row (nothing lost, nothing doubled) and
 * reconciliation must pass. Keyed sinks (Delta, PostgreSQL, Iceberg) run latest-version dedupe into
 * an upsert and must hold each key's newest version; append sinks (Kafka, files) run first-seen dedupe
 * on (payment_id, version) and must hold every version of every key exactly once. Prints one {@code SOAK} line
 * per sink for README's results table.
 */
class SoakRun {
  private static final int KEYS = Integer.getInteger("soak.keys", 70_000);
  private static final int KILLS = Integer.getInteger("soak.kills", 20);
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  private final SparkSession spark = TestSpark.session();

  /** The sinks of {@code -Dsoak.sinks} (default all five). */
  static java.util.stream.Stream<SinkType> sinks() {
    return java.util.Arrays.stream(System.getProperty("soak.sinks", "DELTA,POSTGRES,ICEBERG,KAFKA,FILES").split(","))
        .map(String::trim).map(SinkType::valueOf);
  }

  @ParameterizedTest
  @MethodSource("sinks")
  void killedAtRandomManyTimesEndsEqualToTheOracle(SinkType type) throws Exception {
    CrashHarness harness = new CrashHarness("soak-" + type.name().toLowerCase(), 60, KEYS);
    Path dir = TestSpark.newDir("soak-" + type.name().toLowerCase());
    Map<String, String> target = SinkConfigs.target(type, new TreeMap<>(), dir, "soak", "orders");
    long start = System.nanoTime();
    harness.killRandomlyThenDrain(dir, trigger -> config(harness, type, dir, target, trigger), KILLS, 6_000, 16_000,
        Duration.ofMinutes(30));
    // Every column of every row, against the oracle computed from the input (EventRows).
    List<String> held = rows(type, dir, target);
    long rows = held.size();
    Map<String, Long> actual = CrashHarness.counted(held);
    Map<String, Long> expected = new TreeMap<>();
    // Appends get each distinct event once (the stage drops redelivered copies); keyed sinks the newest version per key.
    (appends(type) ? harness.expectedAppendedRows().keySet() : harness.expectedLatestRows().values())
        .forEach(row -> expected.put(row, 1L));
    // lost: expected rows missing (or too few copies); doubled: copies beyond the expected; extra: rows not expected at all
    long lost = expected.entrySet().stream().mapToLong(e -> Math.max(0, e.getValue() - actual.getOrDefault(e.getKey(), 0L))).sum();
    long doubled = actual.entrySet().stream().filter(e -> expected.containsKey(e.getKey()))
        .mapToLong(e -> Math.max(0, e.getValue() - expected.get(e.getKey()))).sum();
    long extra = actual.entrySet().stream().filter(e -> !expected.containsKey(e.getKey())).mapToLong(Map.Entry::getValue).sum();
    PipelineConfig soaked = PipelineConfig.from(EventprocConfig.of(config(harness, type, dir, target, "available-now")));
    List<Reconciler.Result> checks = Reconciler.run(spark, soaked.sink(), soaked.reconcile());
    long failed = checks.stream().filter(Reconciler.Result::failed).count();
    System.out.printf("SOAK sink=%s events=%d kills=%d keys=%d rows=%d lost=%d doubled=%d extra=%d reconcile=%d/%d passed minutes=%.1f%n",
        type.name().toLowerCase(), harness.messages(), KILLS, harness.expectedLatestRows().size(), rows, lost, doubled, extra,
        checks.size() - failed,
        checks.size(), (System.nanoTime() - start) / 6e10);
    assertThat(lost).isZero();
    assertThat(doubled).isZero();
    assertThat(extra).isZero();
    assertThat(failed).as("reconciliation: %s", checks).isZero();
  }

  private static Map<String, String> config(CrashHarness harness, SinkType type, Path dir, Map<String, String> target,
      String trigger) {
    Map<String, String> c = CrashHarness.filesQuarantine(harness.config(dir, trigger), dir);
    if (appends(type)) {
      // Redelivered copies are dropped by (payment_id, version); every version is appended once.
      c.put("source.key.columns", "payment_id,version");
      c.put("stage.type", "dedupe-first-seen");
      c.put("stage.watermark.delay", "10 minutes");
      c.put("sink.mode", "append");
      if (type == SinkType.KAFKA) {
        c.put("sink.key.columns", "payment_id"); // the message key
      }
    } else {
      CrashHarness.upsert(c, "sink.");
      c.put("stage.type", "dedupe-latest");
      c.put("stage.version.column", "version");
    }
    c.put("sink.type", type.name().toLowerCase());
    c.putAll(target);
    return c;
  }

  private static boolean appends(SinkType type) {
    return type == SinkType.KAFKA || type == SinkType.FILES;
  }

  /** The sink's rows with every column ({@link EventRows}); the files sink's {@code batch_id} besides. */
  private List<String> rows(SinkType type, Path dir, Map<String, String> target) throws Exception {
    List<String> out = new java.util.ArrayList<>();
    switch (type) {
      case POSTGRES -> {
        try (Connection c = TestPostgres.connect(); Statement s = c.createStatement();
            ResultSet rs = s.executeQuery("SELECT * FROM " + target.get("sink.postgres.schema") + ".orders")) {
          while (rs.next()) {
            out.add(EventRows.of(rs));
          }
        }
      }
      case KAFKA -> {
        for (ConsumerRecord<String, String> r : TestKafka.read(target.get("sink.kafka.topic"), true)) {
          out.add(EventRows.of(JSON.readTree(r.value())));
        }
      }
      case DELTA -> out.addAll(EventRows.of(spark.read().format("delta").load(dir.resolve("table").toString())));
      case FILES -> out.addAll(EventRows.of(spark.read().parquet(dir.resolve("files").toString()), "batch_id"));
      default -> {
        dev.eventproc.sink.iceberg.IcebergSink.registerCatalog(spark, "soak", dir.resolve("iceberg").toString());
        out.addAll(EventRows.of(spark.table("soak.db.orders")));
      }
    }
    return out;
  }
}
