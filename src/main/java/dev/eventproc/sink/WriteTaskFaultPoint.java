package dev.eventproc.sink;

import dev.eventproc.sink.FaultInjection.Point;
import java.util.Iterator;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF0;
import org.apache.spark.sql.types.DataTypes;

/**
 * Test hook (fault injection only, never active in production): the {@code task-written} fault point
 * inside the Spark tasks that write the data files of a lakehouse commit. A task reaches it when it
 * computes the second row it writes: the first one is in the data file that the task's file writer opened
 * in the table's directory, and the driver has not committed. (Spark's writer may ask for the first row
 * before it opens the file; a task that writes one row never reaches the point.)
 *
 * <p>A MERGE writes its files in tasks of the format's own (Delta's, Iceberg's) job, where no
 * {@code mapPartitions} of the sink's source runs (a source stage, or Delta's materialized source, is
 * computed before): the point is a SQL function that the MERGE's written values call
 * ({@link SparkMergeSql}). An append writes the sink's rows as they are, so a {@code mapPartitions} over
 * them runs in the writing task. Both are added only when {@link FaultInjection#armed} says the point
 * may fire; otherwise the statement and the rows are the sink's own, at no cost.
 *
 * <p>Shown for unpartitioned Delta tables ({@code DeltaWriteFaultPointTest}, {@code ExecutorLossIT}).
 * Where the format shuffles the MERGE's output before writing it (Delta: a partitioned table; Iceberg:
 * a write distribution), the point is in the MERGE's job but may run in the task before the shuffle.
 */
final class WriteTaskFaultPoint implements UDF0<Boolean>, MapPartitionsFunction<Row, Row> {
  private static final long serialVersionUID = 1L;
  /** The SQL function a MERGE's written values call when the point is armed. */
  static final String FUNCTION = "eventproc_task_written";

  private final String sinkName;
  private final long batchId;
  /** Rows computed so far (counted up to two) by each task attempt of this JVM. */
  private transient Map<Long, Integer> rowsPerTask;

  private WriteTaskFaultPoint(String sinkName, long batchId) {
    this.sinkName = sinkName;
    this.batchId = batchId;
  }

  /**
   * When the point is armed, registers {@link #FUNCTION} for this batch on the session and returns its
   * name, for the MERGE to call; else null (the MERGE stays as it is).
   */
  static String register(SparkSession session, String sinkName, long batchId) {
    if (!FaultInjection.armed(Point.TASK_WRITTEN)) {
      return null;
    }
    session.udf().register(FUNCTION, (UDF0<Boolean>) new WriteTaskFaultPoint(sinkName, batchId), DataTypes.BooleanType);
    return FUNCTION;
  }

  /** The rows of an append, passing the point in each writing task when it is armed; else {@code rows} itself. */
  static Dataset<Row> around(Dataset<Row> rows, String sinkName, long batchId) {
    if (!FaultInjection.armed(Point.TASK_WRITTEN)) {
      return rows;
    }
    return rows.mapPartitions((MapPartitionsFunction<Row, Row>) new WriteTaskFaultPoint(sinkName, batchId),
        Encoders.row(rows.schema()));
  }

  /** Counts a row of the task; passes the point at its second row; always true. */
  @Override
  public Boolean call() {
    TaskContext task = TaskContext.get();
    if (task != null && secondRow(task.taskAttemptId())) {
      FaultInjection.at(Point.TASK_WRITTEN, sinkName, batchId);
    }
    return true;
  }

  @Override
  public Iterator<Row> call(Iterator<Row> rows) {
    return new Iterator<>() {
      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public Row next() {
        Row row = rows.next();
        WriteTaskFaultPoint.this.call();
        return row;
      }
    };
  }

  private synchronized boolean secondRow(long taskAttemptId) {
    if (rowsPerTask == null) {
      rowsPerTask = new HashMap<>();
    }
    int seen = rowsPerTask.getOrDefault(taskAttemptId, 0);
    if (seen < 2) {
      rowsPerTask.put(taskAttemptId, seen + 1);
    }
    return seen == 1;
  }
}
