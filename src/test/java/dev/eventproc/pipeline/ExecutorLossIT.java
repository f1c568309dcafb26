package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
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
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Executor loss: the pipeline runs on Spark's {@code local-cluster} master, so its executors are
 * JVMs of their own under a standalone worker, as on a cluster. The test kills executors with
 * SIGKILL mid-batch: for PostgreSQL and Kafka right after one of the sink's tasks wrote its share of a
 * batch and before it committed it (the {@code task-written} fault point, paused), for Delta at a
 * moment an executor is busy in a task. Spark reports the running task lost, the worker starts a new
 * executor, Spark retries the task, and the pipeline drains.
 * Each sink must then equal the oracle: the executor-side work that was cut off (PostgreSQL COPY
 * into staging, Kafka transactional produce, Delta file writes) must count exactly once.
 *
 * <p>{@code local-cluster} starts executors through Spark's launcher, which needs a Spark home
 * whose {@code jars/} holds Spark's classpath: the test builds one from Maven's dependency list.
 */
class ExecutorLossIT {
  private static final int MAX_KILLS = 4;
  /**
   * Kills allowed when the target is picked by CPU use alone (Delta): a busy executor may have just
   * finished its task, so more tries are needed before one lands inside a running task.
   */
  private static final int MAX_BUSY_KILLS = 10;
  private static final Duration RUN_TIMEOUT = Duration.ofMinutes(6);
  private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
  private static CrashHarness harness;
  private static Path sparkHome;

  @BeforeAll
  static void prepare() throws IOException {
    harness = new CrashHarness("executor-loss", 8, 2500);
    sparkHome = sparkHomeFromDependencies(TestSpark.newDir("spark-home"));
  }

  /** A Spark home as Spark's launcher reads it: {@code jars/} with every dependency jar (links). */
  static Path sparkHomeFromDependencies(Path home) throws IOException {
    Path jars = Files.createDirectories(home.resolve("jars"));
    Set<String> names = new HashSet<>();
    for (Path jar : ChildPipeline.dependencyJars()) {
      if (Files.isRegularFile(jar) && jar.toString().endsWith(".jar")) {
        String name = jar.getFileName().toString();
        Files.createSymbolicLink(jars.resolve(names.add(name) ? name : names.size() + "-" + name), jar);
      }
    }
    Files.writeString(home.resolve("RELEASE"), "Spark 3.5 home for eventproc's executor-loss test (jars/ links Maven's dependency list)\n");
    return home;
  }

  private static Map<String, String> config(SinkType type, Path dir, String marker, String executorFlags) {
    Map<String, String> c = harness.config(dir, "available-now");
    // Two workers with one core each: two executor JVMs; a killed one is replaced by its worker.
    c.put("spark.master", "local-cluster[2,1,768]");
    c.put("spark.executor.memory", "768m");
    c.put("spark.executor.extraClassPath", ChildPipeline.classesDir().toString());
    c.put("spark.executor.extraJavaOptions", System.getProperty("eventproc.test.jvmFlags", "").trim() + " -Deventproc.test.run=" + marker + " "
        + executorFlags);
    // A task may be on the killed executor more than once (up to MAX_BUSY_KILLS); Spark's default of 4 could end the job.
    c.put("spark.task.maxFailures", String.valueOf(2 * MAX_BUSY_KILLS));
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

  /** PostgreSQL staging COPY and Kafka's transactional produce run in executor tasks: kill executors right inside them. */
  @ParameterizedTest
  @EnumSource(value = SinkType.class, names = {"POSTGRES", "KAFKA"})
  void killingExecutorsInsideTheSinksTaskWritesCommitsEachBatchOnce(SinkType type) throws Exception {
    Path dir = TestSpark.newDir("executor-loss-" + type.name().toLowerCase());
    String marker = dir.getFileName().toString();
    // Every first attempt of the sink's tasks of batch 1 stops after writing its share, before committing it.
    String fault = FaultInjection.Point.TASK_WRITTEN.spec() + "@1/" + CrashHarness.PIPELINE + ":pause";
    Map<String, String> c = config(type, dir, marker, "-D" + FaultInjection.PROPERTY + "=" + fault);
    int kills = runKilling(type, c, dir, () -> pausedExecutors(marker), MAX_KILLS, false);
    assertThat(kills).as("executors killed while holding an uncommitted share of batch 1").isPositive();
  }

  /** Delta's executor tasks (its file writes) have no fault point: kill executors while they are busy in any task. */
  @ParameterizedTest
  @EnumSource(value = SinkType.class, names = {"DELTA"})
  void killingBusyExecutorsMidBatchCommitsEachBatchOnce(SinkType type) throws Exception {
    Path dir = TestSpark.newDir("executor-loss-" + type.name().toLowerCase());
    String marker = dir.getFileName().toString();
    Map<Long, Long> cpu = new HashMap<>();
    runKilling(type, config(type, dir, marker, ""), dir, () -> busyExecutor(marker, cpu), MAX_BUSY_KILLS, true);
  }

  /**
   * Runs the pipeline on local-cluster, killing (SIGKILL) the executors {@code pick} returns, at most
   * {@code maxKills}; with {@code untilLost}, stops killing once Spark reported a lost running task.
   * Then checks that the pipeline ended well, lost a running task, and that the sink equals the oracle.
   */
  private static int runKilling(SinkType type, Map<String, String> c, Path dir, java.util.function.Supplier<List<ProcessHandle>> pick,
      int maxKills, boolean untilLost) throws Exception {
    ChildPipeline child = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("job.properties"), c))
        .environment(Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13"));
    Process driver = child.start(null);
    int kills = 0;
    try {
      long deadline = System.nanoTime() + RUN_TIMEOUT.toNanos();
      while (driver.isAlive() && kills < maxKills && !(untilLost && lostRunningTask(child)) && System.nanoTime() < deadline) {
        for (ProcessHandle executor : pick.get()) {
          executor.destroyForcibly();
          executor.onExit().get(30, TimeUnit.SECONDS);
          kills++;
        }
        Thread.sleep(100);
      }
      assertThat(driver.waitFor(Math.max(1, (deadline - System.nanoTime()) / 1_000_000), TimeUnit.MILLISECONDS))
          .as("the pipeline ends after %d executor kills; log:\n%s", kills, child.tail()).isTrue();
    } finally {
      if (driver.isAlive()) {
        ChildPipeline.kill9(driver);
      }
    }
    assertThat(driver.exitValue()).as("exit status after %d executor kills; log:\n%s", kills, child.tail()).isZero();
    assertThat(lostRunningTask(child)).as("Spark lost a running task to a killed executor (%d kills); log:\n%s", kills, child.tail())
        .isTrue();
    long lostTasks = child.log().lines().filter(l -> l.contains("ExecutorLostFailure")).count();
    System.out.printf("EXECUTOR-LOSS sink=%s messages=%d executors-killed=%d running-tasks-lost=%d%n", type.name().toLowerCase(),
        harness.messages(), kills, lostTasks);
    switch (type) {
      case POSTGRES -> assertPostgresEqualsOracle(c.get("sink.postgres.schema"));
      case KAFKA -> assertKafkaReadOnce(c.get("sink.kafka.topic"));
      case DELTA -> assertDeltaEqualsOracle(dir);
      default -> throw new IllegalArgumentException(type.name());
    }
    return kills;
  }

  /** Spark's scheduler logs a task that was running on an executor which died as lost with ExecutorLostFailure. */
  private static boolean lostRunningTask(ChildPipeline child) {
    return child.log().contains("ExecutorLostFailure");
  }

  /** The live executor JVMs of the test's pipeline (their command line carries its marker). */
  private static List<ProcessHandle> executors(String marker) {
    return ProcessHandle.allProcesses().filter(p -> {
      String cmd = p.info().commandLine().orElse("");
      return cmd.contains("CoarseGrainedExecutorBackend") && cmd.contains("-Deventproc.test.run=" + marker);
    }).toList();
  }

  /** Executors whose log (the worker keeps it at work/APP/EXECUTOR/stderr) says a task is paused at the fault point. */
  private static List<ProcessHandle> pausedExecutors(String marker) {
    List<ProcessHandle> out = new java.util.ArrayList<>();
    for (ProcessHandle p : executors(marker)) {
      List<String> args = List.of(p.info().arguments().orElse(new String[0]));
      int app = args.indexOf("--app-id");
      int id = args.indexOf("--executor-id");
      if (app < 0 || id < 0) {
        continue;
      }
      Path stderr = sparkHome.resolve("work").resolve(args.get(app + 1)).resolve(args.get(id + 1)).resolve("stderr");
      try {
        if (Files.exists(stderr) && Files.readString(stderr).contains("pausing until killed")) {
          out.add(p);
        }
      } catch (IOException e) {
        // being written; read it next time
      }
    }
    return out;
  }

  /**
   * An executor of this test's pipeline that is past its start-up and used over 40 ms of CPU in the
   * last ~100 ms (so it is running a task), or none. {@code cpu} keeps each executor's last CPU time.
   */
  private static List<ProcessHandle> busyExecutor(String marker, Map<Long, Long> cpu) {
    for (ProcessHandle p : executors(marker)) {
      long now = p.info().totalCpuDuration().map(Duration::toMillis).orElse(0L);
      Long before = cpu.put(p.pid(), now);
      boolean started = p.info().startInstant().map(t -> t.isBefore(Instant.now().minusSeconds(8))).orElse(false);
      if (before != null && started && now - before > 40) {
        return List.of(p);
      }
    }
    return List.of();
  }

  private static void assertPostgresEqualsOracle(String schema) throws Exception {
    Map<String, String> actual = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT payment_id, version, amount FROM " + schema + ".orders")) {
        while (rs.next()) {
          assertThat(actual.put(rs.getString(1), rs.getLong(2) + ":" + rs.getBigDecimal(3).toPlainString()))
              .as("key %s once", rs.getString(1)).isNull();
        }
      }
      assertThat(actual).isEqualTo(harness.expectedLatest());
      try (ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT batch_id) FROM " + schema + ".eventproc_ledger")) {
        rs.next();
        assertThat(rs.getLong(1)).as("ledger rows: one per batch").isEqualTo(rs.getLong(2));
      }
    }
  }

  private static void assertKafkaReadOnce(String topic) throws Exception {
    Map<String, Long> seen = new TreeMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      JsonNode v = JSON.readTree(r.value());
      seen.merge(v.get("payment_id").asText() + ":" + v.get("version").asLong() + ":"
          + v.get("amount").decimalValue().setScale(2).toPlainString(), 1L, Long::sum);
    }
    assertThat(seen).isEqualTo(harness.expectedAppended());
  }

  private static void assertDeltaEqualsOracle(Path dir) {
    Map<String, String> actual = new TreeMap<>();
    long rows = 0;
    for (Row r : TestSpark.session().read().format("delta").load(dir.resolve("table").toString())
        .select("payment_id", "version", "amount").collectAsList()) {
      actual.put(r.getString(0), r.getLong(1) + ":" + r.getDecimal(2).toPlainString());
      rows++;
    }
    assertThat(rows).as("rows (a doubled key would make this exceed the distinct keys)").isEqualTo(actual.size());
    assertThat(actual).isEqualTo(harness.expectedLatest());
  }
}
