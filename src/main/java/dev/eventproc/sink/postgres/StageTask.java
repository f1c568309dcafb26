package dev.eventproc.sink.postgres;

import dev.eventproc.config.Durations;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.postgres.NulRule.NulInKeyException;
import dev.eventproc.sink.postgres.PgConnections.PostgresSinkException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;

/**
 * Executor side of staging: COPYs one Spark task partition into the writer's staging table on a
 * connection of its own, in one transaction with its task marker. A retried or speculative run of
 * the same task first takes a transaction lock of (attempt, task partition), then deletes what an
 * earlier run committed, so the partition is staged once. Lock waits are bounded
 * ({@code postgres.task.lock.timeout}): a task that waits too long for a lost earlier attempt's
 * session fails with an error naming the key, and Spark retries it.
 */
final class StageTask implements FlatMapFunction<Iterator<InternalRow>, Long> {
  private static final long serialVersionUID = 1L;
  /** SQLState of a lock wait that ran out of {@code lock_timeout}. */
  private static final String LOCK_NOT_AVAILABLE = "55P03";

  private final PostgresOptions options;
  private final PgSql sql;
  private final String sinkName;
  private final long batchId;
  private final long attempt;
  private final StructType schema;
  private final boolean[] json;
  private final boolean[] keys;
  private final int slices;

  /**
   * @param schema the rows' schema: target columns, delete flag, slice (last)
   * @param json which columns hold JSON text for a jsonb column
   * @param keys which columns are key columns
   */
  StageTask(PostgresOptions options, PgSql sql, String sinkName, long batchId, long attempt, StructType schema, boolean[] json,
      boolean[] keys, int slices) {
    this.options = options;
    this.sql = sql;
    this.sinkName = sinkName;
    this.batchId = batchId;
    this.attempt = attempt;
    this.schema = schema;
    this.json = json;
    this.keys = keys;
    this.slices = slices;
  }

  /** Yields the rows this task staged in each slice, in slice order. */
  @Override
  public Iterator<Long> call(Iterator<InternalRow> rows) {
    int partition = TaskContext.getPartitionId();
    String action = "stage partition " + partition;
    try {
      return PgWork.run(() -> PgConnections.open(options, sinkName), options, sinkName, action, c -> stage(c, rows, partition));
    } catch (PostgresSinkException e) {
      throw e;
    } catch (NulInKeyException e) {
      throw e.of(sinkName, batchId);
    } catch (RuntimeException e) {
      throw PgConnections.explain(options, sinkName, e, action);
    }
  }

  private Iterator<Long> stage(Connection c, Iterator<InternalRow> rows, int partition) throws SQLException {
    try {
      return stageBounded(c, rows, partition);
    } catch (SQLException e) {
      if (!LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
        throw e;
      }
      throw new PostgresSinkException("sink " + sinkName + ": the staging task of partition " + partition + " waited longer than "
          + options.key(PostgresOptions.TASK_LOCK_TIMEOUT) + " (" + Durations.human(options.taskLockTimeout()) + ") for a lock "
          + "held by another session, most likely an earlier attempt of this task whose executor was lost while its PostgreSQL "
          + "session stayed open. Spark retries the task; PostgreSQL ends such a session within about a minute (TCP keepalive). "
          + "If this repeats, look for the holder in pg_locks and pg_stat_activity (application_name eventproc-" + sinkName
          + "-task), or raise " + options.key(PostgresOptions.TASK_LOCK_TIMEOUT) + ".", e.getSQLState(), e);
    }
  }

  private Iterator<Long> stageBounded(Connection c, Iterator<InternalRow> rows, int partition) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(PgSql.taskSession(options.taskLockTimeout())); // bounded lock waits, lost clients found
    }
    try (PreparedStatement lock = c.prepareStatement(PgSql.XACT_LOCK)) {
      lock.setLong(1, PgConnections.lockKey("eventproc-task:" + attempt + ":" + partition));
      lock.execute();
    }
    replaceEarlierRun(c, partition);
    long[] perSlice = new long[slices];
    int sliceColumn = schema.fields().length - 1;
    long n = CopyStream.copy(c, sql.copyIntoStage(), new PgBinaryEncoder(schema, json, keys, true), rows, attempt, partition, r -> {
      perSlice[r.getInt(sliceColumn)]++;
      return true;
    });
    try (PreparedStatement marker = c.prepareStatement(sql.insertTaskMarker())) {
      marker.setString(1, sinkName);
      marker.setLong(2, attempt);
      marker.setInt(3, partition);
      marker.setLong(4, n);
      marker.executeUpdate();
    }
    FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, sinkName, batchId);
    c.commit();
    List<Long> out = new ArrayList<>(slices);
    for (long k : perSlice) {
      out.add(k);
    }
    return out.iterator();
  }

  /** A marker for (attempt, task partition) means an earlier run of this task staged rows: delete them first. */
  private void replaceEarlierRun(Connection c, int partition) throws SQLException {
    try (PreparedStatement marker = c.prepareStatement(sql.takeTaskMarker())) {
      marker.setLong(1, attempt);
      marker.setInt(2, partition);
      try (ResultSet rs = marker.executeQuery()) {
        if (!rs.next()) {
          return;
        }
      }
    }
    try (PreparedStatement del = c.prepareStatement(sql.deleteTaskRows())) {
      del.setLong(1, attempt);
      del.setInt(2, partition);
      del.executeUpdate();
    }
  }
}
