package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The driver empties the writer's staging table (TRUNCATE) before each staged batch. A session that
 * holds any lock on that table (a forgotten {@code BEGIN} in psql, a reporting query, an earlier
 * attempt's lost session) made the batch wait without limit and without a word: the stream stalled.
 * The wait is now bounded by {@code sink.postgres.lock.timeout} and its error names the holder. The
 * committing transaction empties staging too, before it commits: a lock taken on staging after the rows
 * were staged fails that TRUNCATE the same way, and rolls back the whole batch, rows and ledger entry.
 */
class PostgresStagingLockTest {
  private static final StructType SCHEMA = StructType.fromDDL("id STRING, version BIGINT, amount INT");
  private final SparkSession spark = TestSpark.session();
  private final String schema = TestPostgres.newSchema("stagelock");

  private Dataset<Row> rows(Object[]... rows) {
    return spark.createDataFrame(Arrays.stream(rows).map(RowFactory::create).toList(), SCHEMA).repartition(2);
  }

  @Test
  void aSessionHoldingTheStagingTableFailsTheBatchWithinTheLockTimeoutNamingTheHolder() throws Exception {
    PostgresOptions options = PostgresOptions.builder().url(TestPostgres.url()).user(TestPostgres.user())
        .password(TestPostgres.password()).schema(schema).table("orders").directMaxRows(0).lockTimeout(Duration.ofSeconds(2)).build();
    PostgresSink sink = PostgresSink.create(SinkSpec.builder().name("orders_w").mode(WriteMode.UPSERT).keyColumns("id")
        .versionColumn("version").build(), options);
    sink.write(rows(new Object[] {"a", 1L, 10}), 0L, "q");
    String stage = new PostgresTables(options, "orders_w").stageRef();
    ExecutorService pool = Executors.newSingleThreadExecutor();
    try (Connection holder = TestPostgres.connect()) {
      holder.setAutoCommit(false);
      int holderPid;
      try (Statement st = holder.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
        rs.next();
        holderPid = rs.getInt(1);
        st.execute("LOCK TABLE " + stage + " IN ACCESS SHARE MODE");
      }
      Future<?> batch1 = pool.submit(() -> sink.write(rows(new Object[] {"a", 2L, 20}, new Object[] {"b", 1L, 30}), 1L, "q"));
      Throwable failure = null;
      try {
        batch1.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failure = e.getCause();
      } catch (TimeoutException e) {
        holder.rollback();
        batch1.cancel(true);
        throw new AssertionError("batch 1 still waited for the staging table's lock after 30 s (sink.postgres.lock.timeout is 2 s)");
      }
      assertThat(failure).as("batch 1 fails while another session holds the staging table").isNotNull();
      assertThat(failure).hasMessageContaining("postgres.lock.timeout (2.0 s)").hasMessageContaining(stage)
          .hasMessageContaining("pid " + holderPid);
      holder.rollback();
    } finally {
      pool.shutdownNow();
    }
    sink.write(rows(new Object[] {"a", 2L, 20}, new Object[] {"b", 1L, 30}), 1L, "q");
    assertThat(target("orders")).containsExactly("a:2:20", "b:1:30");
  }

  @Test
  void aLockTakenOnStagingAfterTheRowsAreStagedRollsTheWholeBatchBackAndTheReplayWritesItOnce() throws Exception {
    PostgresOptions options = PostgresOptions.builder().url(TestPostgres.url()).user(TestPostgres.user())
        .password(TestPostgres.password()).schema(schema).table("late").directMaxRows(0).lockTimeout(Duration.ofSeconds(2)).build();
    PostgresSink sink = PostgresSink.create(SinkSpec.builder().name("late_w").mode(WriteMode.UPSERT).keyColumns("id")
        .versionColumn("version").build(), options);
    sink.write(rows(new Object[] {"a", 1L, 10}), 0L, "q");
    String stage = new PostgresTables(options, "late_w").stageRef();
    try (Connection holder = TestPostgres.connect()) {
      holder.setAutoCommit(false);
      int[] holderPid = {-1};
      // Batch 1's rows are in staging when another session locks it: the commit's TRUNCATE must wait for it.
      FaultInjection.setTestHook((point, sinkName, batchId) -> {
        if (point == FaultInjection.Point.AFTER_STAGING && sinkName.equals("late_w") && batchId == 1) {
          try (Statement st = holder.createStatement(); ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            holderPid[0] = rs.getInt(1);
            st.execute("LOCK TABLE " + stage + " IN ACCESS SHARE MODE");
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
        }
      });
      ExecutorService pool = Executors.newSingleThreadExecutor();
      Throwable failure = null;
      try {
        Future<?> batch1 = pool.submit(() -> sink.write(rows(new Object[] {"a", 2L, 20}, new Object[] {"b", 1L, 30}), 1L, "q"));
        batch1.get(30, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        failure = e.getCause();
      } catch (TimeoutException e) {
        holder.rollback();
        throw new AssertionError("batch 1's commit still waited for the staging table's lock after 30 s "
            + "(sink.postgres.lock.timeout is 2 s)");
      } finally {
        FaultInjection.setTestHook(null);
        pool.shutdownNow();
      }
      assertThat(holderPid[0]).as("the lock was taken after staging").isPositive();
      assertThat(failure).as("the committing transaction's TRUNCATE of staging waits for the lock, then fails the batch")
          .isNotNull().hasMessageContaining("emptying the staging table " + stage + " waited longer than sink.postgres.lock.timeout "
              + "(2.0 s)").hasMessageContaining("pid " + holderPid[0]);
      assertThat(target("late")).as("nothing of batch 1 committed: its rows rolled back with the TRUNCATE").containsExactly("a:1:10");
      assertThat(ledgerBatches("late_w")).as("nor its ledger entry").containsExactly(0L);
      holder.rollback();
    }
    sink.write(rows(new Object[] {"a", 2L, 20}, new Object[] {"b", 1L, 30}), 1L, "q");
    assertThat(target("late")).as("the replay writes batch 1 once").containsExactly("a:2:20", "b:1:30");
    assertThat(ledgerBatches("late_w")).containsExactly(0L, 1L);
    sink.close();
  }

  private List<String> target(String table) throws SQLException {
    List<String> got = new ArrayList<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id || ':' || version || ':' || amount FROM " + schema + "." + table + " ORDER BY id")) {
      while (rs.next()) {
        got.add(rs.getString(1));
      }
    }
    return got;
  }

  private List<Long> ledgerBatches(String writer) throws SQLException {
    List<Long> got = new ArrayList<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT batch_id FROM " + schema + ".eventproc_ledger WHERE writer = '" + writer
            + "' ORDER BY batch_id")) {
      while (rs.next()) {
        got.add(rs.getLong(1));
      }
    }
    return got;
  }
}
