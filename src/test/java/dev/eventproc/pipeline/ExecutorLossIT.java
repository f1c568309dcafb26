package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.LocalClusterExecutors;
import dev.eventproc.testutils.EventRows;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Executor loss: the pipeline runs on Spark's {@code local-cluster} master, so its executors are
 * JVMs of their own under a standalone worker, as on a cluster. One task of the sink's executor-side
 * write of batch 1 stops at the {@code task-written} fault point ({@code pause-once}: the first task of
 * the application to reach it, on whichever executor): a PostgreSQL staging task that COPYed its slice,
 * a Kafka writer whose records are in an open transaction, a Delta task writing a data file of the MERGE's
 * commit. The test kills that executor with SIGKILL: Spark reports the running task lost, the worker
 * starts a new executor, Spark retries, and the pipeline drains. Each sink must then hold every column of
 * the oracle's rows, the batch committed once.
 *
 * <p>{@code local-cluster} starts executors through Spark's launcher, which needs a Spark home
 * whose {@code jars/} holds Spark's classpath: the test builds one from Maven's dependency list.
 */
class ExecutorLossIT {
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);
  /** Input files, one per batch: batch 0 before the kill, batch 1 killed inside, two batches after it. */
  private static final int FILES = 4;
  private static final int KEYS = 1000;
  /** The first task of the application that reaches the sink's write of batch 1 waits there to be killed. */
  private static final String FAULT = FaultInjection.Point.TASK_WRITTEN.spec() + "@1/" + CrashHarness.PIPELINE + ":pause-once";
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  private static CrashHarness harness;
  private static Path sparkHome;

  @BeforeAll
  static void prepare() throws IOException {
    harness = new CrashHarness("executor-loss", FILES, KEYS);
    sparkHome = LocalClusterExecutors.sparkHome();
  }

  private static Map<String, String> config(SinkType type, Path dir, LocalClusterExecutors executors) {
    Map<String, String> c = harness.config(dir, "available-now");
    // Two workers with one core each: two executor JVMs; a killed one is replaced by its worker.
    c.put("spark.master", "local-cluster[2,1,768]");
    c.put("spark.executor.memory", "768m");
    c.put("spark.executor.extraClassPath", ChildPipeline.classesDir().toString());
    c.put("spark.executor.extraJavaOptions", System.getProperty("eventproc.test.jvmFlags", "").trim() + " "
        + executors.markerFlag() + " -D" + FaultInjection.PROPERTY + "=" + FAULT);
    CrashHarness.filesQuarantine(c, dir);
    c.put("sink.type", type.name().toLowerCase());
    switch (type) {
      case POSTGRES -> {
        CrashHarness.upsert(c, "sink.");
        c.put("sink.postgres.url", TestPostgres.url());
        c.put("sink.postgres.user", TestPostgres.user());
        c.put("sink.postgres.schema", TestPostgres.newSchema("exloss"));
        c.put("sink.postgres.table", "orders");
        c.put("sink.postgres.direct.max.rows", "0"); // stage from the executors, the path executor loss can cut
      }
      case KAFKA -> {
        c.put("sink.mode", "append");
        c.put("sink.key.columns", "payment_id");
        c.put("sink.kafka.bootstrap.servers", TestKafka.servers());
        c.put("sink.kafka.topic", "exloss-" + Long.toHexString(System.nanoTime()));
        c.put("sink.kafka.writers", "partitioned"); // producers in the executors
        c.put("sink.kafka.partitions", "3");
      }
      case DELTA -> {
        CrashHarness.upsert(c, "sink.");
        c.put("sink.delta.path", dir.resolve("table").toString());
      }
      default -> throw new IllegalArgumentException(type.name());
    }
    return c;
  }

  /**
   * PostgreSQL's staging COPY, Kafka's transactional produce and Delta's data-file writes run in executor
   * tasks: the executor is killed while one of them holds its uncommitted share of batch 1.
   */
  @ParameterizedTest
  @EnumSource(value = SinkType.class, names = {"POSTGRES", "KAFKA", "DELTA"})
  void killingTheExecutorInsideTheSinksWriteTaskCommitsTheBatchOnce(SinkType type) throws Exception {
    Path dir = TestSpark.newDir("executor-loss-" + type.name().toLowerCase());
    LocalClusterExecutors executors = new LocalClusterExecutors(sparkHome, dir.getFileName().toString());
    Map<String, String> c = config(type, dir, executors);
    ChildPipeline child = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("job.properties"), c))
        .environment(executors.driverEnvironment());
    // The driver has the fault too: it arms the point (Delta's MERGE calls it only then); executors pass it.
    Process driver = child.start(FAULT);
    List<String> pausedLogs = new ArrayList<>();
    try {
      long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
      // Kills every executor seen holding a task at the point until the pipeline ends: pause-once must make it one.
      while (driver.isAlive() && System.nanoTime() < deadline) {
        for (ProcessHandle executor : executors.logging(LocalClusterExecutors.PAUSED)) {
          pausedLogs.add(executors.stderr(executor));
          executor.destroyForcibly();
          executor.onExit().get(30, TimeUnit.SECONDS);
        }
        Thread.sleep(200);
      }
      assertThat(driver.waitFor(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS))
          .as("the pipeline ends; log:\n%s", child.tail()).isTrue();
    } finally {
      if (driver.isAlive()) {
        ChildPipeline.kill9(driver);
      }
    }
    assertThat(pausedLogs).as("executors killed while holding a task at %s inside the sink's write; log:\n%s", FAULT, child.tail())
        .singleElement().asString().contains("at task-written of sink " + CrashHarness.PIPELINE + " batch 1: " + LocalClusterExecutors.PAUSED);
    assertThat(driver.exitValue()).as("exit status; log:\n%s", child.tail()).isZero();
    assertThat(child.log()).as("Spark lost the killed executor's running task; log:\n%s", child.tail()).contains("ExecutorLostFailure");
    System.out.printf("EXECUTOR-LOSS sink=%s messages=%d executors-killed=1 running-tasks-lost=%d%n", type.name().toLowerCase(),
        harness.messages(), child.log().lines().filter(l -> l.contains("ExecutorLostFailure")).count());
    switch (type) {
      case POSTGRES -> assertPostgresEqualsOracle(c.get("sink.postgres.schema"));
      case KAFKA -> assertKafkaReadOnce(c.get("sink.kafka.topic"));
      case DELTA -> assertDeltaEqualsOracle(dir.resolve("table"));
      default -> throw new IllegalArgumentException(type.name());
    }
  }

  private static void assertPostgresEqualsOracle(String schema) throws Exception {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT * FROM " + schema + ".orders")) {
        while (rs.next()) {
          rows.add(EventRows.of(rs));
        }
      }
      assertThat(CrashHarness.byKey(rows)).isEqualTo(EventRows.latest(harness.oracle()));
      try (ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT batch_id) FROM " + schema + ".eventproc_ledger")) {
        rs.next();
        assertThat(rs.getLong(1)).as("ledger rows: one per batch").isEqualTo(rs.getLong(2));
      }
    }
  }

  private static void assertKafkaReadOnce(String topic) throws Exception {
    List<String> rows = new ArrayList<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      rows.add(EventRows.of(JSON.readTree(r.value())));
    }
    assertThat(CrashHarness.counted(rows)).isEqualTo(EventRows.appended(harness.sent()));
  }

  /**
   * Every column of the oracle's rows; batch 1 in one commit of the log; and a data file that no commit
   * references, the one the killed task was writing (written straight into the table's directory).
   */
  private static void assertDeltaEqualsOracle(Path table) throws IOException {
    // byKey fails on a key held twice
    assertThat(CrashHarness.byKey(EventRows.of(TestSpark.session().read().format("delta").load(table.toString()))))
        .isEqualTo(EventRows.latest(harness.oracle()));

    Set<String> added = new HashSet<>();
    int commitsOfBatch1 = 0;
    try (Stream<Path> log = Files.list(table.resolve("_delta_log"))) {
      for (Path commit : log.filter(p -> p.toString().endsWith(".json")).toList()) {
        for (String line : Files.readAllLines(commit)) {
          JsonNode action = JSON.readTree(line);
          if (action.has("add")) {
            added.add(action.get("add").get("path").asText());
          }
          if (action.has("txn") && action.get("txn").get("version").asLong() == 1) {
            commitsOfBatch1++;
          }
        }
      }
    }
    assertThat(commitsOfBatch1).as("commits recording batch 1").isEqualTo(1);
    List<String> uncommitted;
    try (Stream<Path> files = Files.list(table)) {
      uncommitted = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet") && !added.contains(n)).toList();
    }
    assertThat(uncommitted).as("a data file that the killed task was writing, referenced by no commit").isNotEmpty();
  }
}
