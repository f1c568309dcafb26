package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.FaultInjection.Point;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The operations users run around the commit protocol (issue 13): a lost lock session, a changed
 * commit shape or target on a used checkpoint, a Spark job failing inside the direct COPY. Each test
 * ends by comparing the table with what the input says it must hold.
 */
class PostgresLifecycleTest {
  private static final StructType SCHEMA = StructType.fromDDL("id STRING, version BIGINT, amount INT");
  private static final Duration WAIT = Duration.ofMinutes(3);
  private final SparkSession spark = TestSpark.session();
  private final String schema = TestPostgres.newSchema("pglife");

  @AfterEach
  void noFaults() {
    FaultInjection.setTestHook(null);
    System.clearProperty(FaultInjection.PROPERTY);
  }

  /** {@code n} rows {@code id = k<from..from+n-1>} with the given version, amount = key number. */
  private Dataset<Row> rows(int from, int n, long version) {
    List<Row> list = new ArrayList<>();
    for (int i = from; i < from + n; i++) {
      list.add(RowFactory.create("k" + i, version, i));
    }
    return spark.createDataFrame(list, SCHEMA).repartition(2);
  }

  private PostgresOptionsBuilder options(String table) {
    return PostgresOptions.builder().url(TestPostgres.url()).user(TestPostgres.user()).password(TestPostgres.password())
        .schema(schema).table(table);
  }

  /** Upsert by id, newest version wins; slices (partition shape) are applied one after another (pool of 2). */
  private PostgresSink sliced(String table, WriteMode mode) {
    return PostgresSink.create(spec(table + "_w", mode), options(table).commit(CommitShape.PARTITION).slices(3).poolSize(2).build());
  }

  private static SinkSpec spec(String name, WriteMode mode) {
    SinkSpec.Builder s = SinkSpec.builder().name(name).mode(mode).keyColumns("id");
    return (mode == WriteMode.UPSERT ? s.versionColumn("version") : s).build();
  }

  private Map<String, String> table(String table) throws SQLException {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id, version, amount FROM " + schema + "." + table)) {
      while (rs.next()) {
        assertThat(out.put(rs.getString(1), rs.getLong(2) + "/" + rs.getInt(3))).as("key %s once", rs.getString(1)).isNull();
      }
    }
    return out;
  }

  private static Map<String, String> expected(int n, long version) {
    Map<String, String> out = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      out.put("k" + i, version + "/" + i);
    }
    return out;
  }

  private long count(String sql) throws SQLException {
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private long ledgerRows(String writer, long batchId) throws SQLException {
    return count("SELECT count(*) FROM " + schema + ".eventproc_ledger WHERE writer = '" + writer + "' AND batch_id = " + batchId);
  }

  /** The writer lock's key, as the sink computes it. */
  private long writerLockKey(String table, String sinkName) {
    return WriterLock.key(new PostgresTables(options(table).build(), sinkName), sinkName);
  }

  private static void await(CountDownLatch latch, String what) {
    try {
      assertThat(latch.await(WAIT.toMillis(), TimeUnit.MILLISECONDS)).as(what).isTrue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /**
   * Issue 13 item 2: writer A of the partition shape holds the lock on one session and applies slices
   * on others. A is held at {@code point} (after staging; or after its first slice committed); its
   * lock session is terminated; writer B (same identity) takes the lock, empties staging, stages its
   * own rows and stops. A then goes on. Whatever A does, no ledger row may stand for rows that were
   * not applied: after a restart the table equals the input.
   */
  @ParameterizedTest
  @EnumSource(value = Point.class, names = {"AFTER_STAGING", "BETWEEN_COMMITS"})
  void losingTheLockSessionMidBatchNeverRecordsASliceWithoutItsRows(Point point) throws Exception {
    String table = "lostlock_" + point.name().toLowerCase();
    PostgresSink a = sliced(table, WriteMode.UPSERT);
    PostgresSink b = sliced(table, WriteMode.UPSERT);
    assertThat(a.write(rows(0, 30, 1), 0, "q").status()).isEqualTo(Status.COMMITTED);

    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch resume = new CountDownLatch(1);
    AtomicBoolean holding = new AtomicBoolean();
    AtomicBoolean bStopped = new AtomicBoolean();
    FaultInjection.setTestHook((p, sink, batchId) -> {
      if (batchId != 1) {
        return;
      }
      if (p == point && holding.compareAndSet(false, true)) {
        held.countDown();
        await(resume, "the test resumes writer A");
      } else if (p == Point.AFTER_STAGING && holding.get() && bStopped.compareAndSet(false, true)) {
        throw new IllegalStateException("test: writer B stops after staging");
      }
    });
    // Batch 1: a newer version of k0..k29 and new keys k30..k59, over all three slices.
    Dataset<Row> batch1 = rows(0, 60, 2);
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try {
      Future<?> first = pool.submit(() -> a.write(batch1, 1, "q"));
      await(held, "writer A reaches " + point.spec());
      List<Integer> holders = TestPostgres.advisoryLockHolders(writerLockKey(table, table + "_w"));
      assertThat(holders).as("writer A's lock session").hasSize(1);
      try (Connection c = TestPostgres.connect(); Statement st = c.createStatement()) {
        st.execute("SELECT pg_terminate_backend(" + holders.get(0) + ")");
      }
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!TestPostgres.advisoryLockHolders(writerLockKey(table, table + "_w")).isEmpty()) {
        assertThat(System.nanoTime()).as("the terminated session releases the lock").isLessThan(deadline);
        Thread.sleep(50);
      }
      assertThatThrownBy(() -> b.write(batch1, 1, "q")).hasStackTraceContaining("writer B stops after staging");
      resume.countDown();
      // A's next slice transaction finds its staged rows gone, and records nothing.
      assertThatThrownBy(() -> first.get(WAIT.toMillis(), TimeUnit.MILLISECONDS)).isInstanceOf(ExecutionException.class)
          .hasStackTraceContaining("staging holds 0 rows of slice");
    } finally {
      resume.countDown();
      pool.shutdownNow();
      a.close();
      b.close();
    }
    FaultInjection.setTestHook(null);
    assertThat(ledgerRows(table + "_w", 1)).as("slices of batch 1 in the ledger once A gave up: only those it applied")
        .isEqualTo(point == Point.BETWEEN_COMMITS ? 1 : 0);
    // A restart of the query (a new driver) replays batch 1.
    try (PostgresSink restarted = sliced(table, WriteMode.UPSERT)) {
      restarted.write(batch1, 1, "q");
      assertThat(restarted.write(batch1, 1, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    }
    assertThat(table(table)).isEqualTo(expected(60, 2));
    assertThat(ledgerRows(table + "_w", 1)).isEqualTo(3);
  }

  /**
   * Issue 13 item 3: batch 0 is partly committed in the partition shape (one of three slices), then
   * the config changes to the batch shape, or to five slices. The replay finishes the batch in the
   * shape its ledger rows record: an append does not write the committed slice again.
   */
  @Test
  void aReplayFinishesAPartlyCommittedBatchInTheShapeItsLedgerRecords() throws Exception {
    String table = "reshape";
    String writer = table + "_w";
    Dataset<Row> batch0 = rows(0, 90, 1);
    Dataset<Row> batch1 = rows(90, 90, 1);
    try (PostgresSink sink = sliced(table, WriteMode.APPEND)) {
      for (long batchId : new long[] {0, 1}) {
        System.setProperty(FaultInjection.PROPERTY, Point.BETWEEN_COMMITS.spec() + "@" + batchId + "/" + writer + ":throw");
        assertThatThrownBy(() -> sink.write(batchId == 0 ? batch0 : batch1, batchId, "q")).hasMessageContaining("injected fault");
        System.clearProperty(FaultInjection.PROPERTY);
        // The first slice committed; the next may have started on the same thread before the failure was seen.
        assertThat(ledgerRows(writer, batchId)).as("slices of batch %d committed before the fault", batchId).isBetween(1L, 2L);
      }
    }
    // Now configured as one transaction per batch (the default shape): the replay still applies the two missing slices.
    try (PostgresSink whole = PostgresSink.create(spec(writer, WriteMode.APPEND), options(table).build())) {
      assertThat(whole.write(batch0, 0, "q").status()).isEqualTo(Status.COMMITTED);
      assertThat(whole.write(batch0, 0, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    }
    // Now configured with five slices: the replay keeps the three the batch was first written with.
    try (PostgresSink five = PostgresSink.create(spec(writer, WriteMode.APPEND),
        options(table).commit(CommitShape.PARTITION).slices(5).build())) {
      assertThat(five.write(batch1, 1, "q").status()).isEqualTo(Status.COMMITTED);
    }
    assertThat(count("SELECT count(*) FROM " + schema + "." + table)).as("every row once").isEqualTo(180);
    assertThat(count("SELECT count(DISTINCT id) FROM " + schema + "." + table)).isEqualTo(180);
    assertThat(count("SELECT count(*) FROM " + schema + ".eventproc_ledger WHERE writer = '" + writer + "' AND partitions = 3"))
        .isEqualTo(6);
    assertThat(ledgerRows(writer, 0) + ledgerRows(writer, 1)).isEqualTo(6);
  }

  /**
   * Issue 13 item 3: a checkpoint copied and pointed at another table (same sink name, same query id,
   * same ledger) must not find the other table's ledger row and skip the batch.
   */
  @Test
  void aLedgerRowOfAnotherTargetIsNotTakenForThisTargetsCommit() throws Exception {
    try (PostgresSink first = PostgresSink.create(spec("moved_w", WriteMode.UPSERT), options("first_target").build())) {
      assertThat(first.write(rows(0, 10, 1), 0, "q").status()).isEqualTo(Status.COMMITTED);
    }
    try (PostgresSink second = PostgresSink.create(spec("moved_w", WriteMode.UPSERT), options("second_target").build())) {
      assertThatThrownBy(() -> second.write(rows(0, 10, 1), 0, "q"))
          .hasMessageContaining(schema + ".first_target")
          .hasMessageContaining(schema + ".second_target")
          .hasMessageContaining("checkpoint");
      assertThat(second.metrics().replaysSkipped()).isZero();
    }
  }

  /**
   * Issue 13 item 5: the Spark job behind the direct COPY fails (a task throws). The writer lock must
   * not stay behind on a pooled connection: no advisory lock is left, and another driver of the same
   * writer commits the next batch at once.
   */
  @Test
  void aSparkJobFailingInsideTheDirectCopyLeavesNoWriterLockBehind() throws Exception {
    String table = "direct_fail";
    String writer = table + "_w";
    long key = writerLockKey(table, writer);
    try (PostgresSink sink = PostgresSink.create(spec(writer, WriteMode.UPSERT), options(table).build())) {
      assertThat(sink.write(rows(0, 10, 1), 0, "q").status()).isEqualTo(Status.COMMITTED);
      assertThat(sink.directCommits()).isEqualTo(1);
      System.setProperty(FaultInjection.PROPERTY, Point.TASK_WRITTEN.spec() + "@1/" + writer + ":throw");
      assertThatThrownBy(() -> sink.write(rows(10, 10, 1), 1, "q")).hasStackTraceContaining("injected fault");
      System.clearProperty(FaultInjection.PROPERTY);
      assertThat(TestPostgres.advisoryLockHolders(key)).as("advisory locks of the writer left after the failed batch").isEmpty();

      try (PostgresSink other = PostgresSink.create(spec(writer, WriteMode.UPSERT),
          options(table).lockTimeout(Duration.ofSeconds(30)).build())) {
        assertThat(other.write(rows(10, 10, 1), 1, "q").status()).isEqualTo(Status.COMMITTED);
      }
      assertThat(sink.write(rows(20, 10, 1), 2, "q").status()).isEqualTo(Status.COMMITTED);
      assertThat(TestPostgres.advisoryLockHolders(key)).isEmpty();
    }
    assertThat(table(table)).isEqualTo(expected(30, 1));
  }
}
