package dev.eventproc.sink;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * One batch as an adapter sees it: already persisted and counted, checked against the sink's
 * columns, not yet committed by this writer.
 *
 * @param rows the batch (persisted: read it as often as needed)
 * @param batchId Spark's batch id
 * @param writer who writes
 * @param rowsIn how many rows the batch holds, or {@link #UNKNOWN} for a one-pass write
 *     ({@link AbstractBatchSink#writesInOnePass()}), where the batch is neither persisted nor counted
 */
public record BatchContext(Dataset<Row> rows, long batchId, WriterId writer, long rowsIn) {
  /** {@link #rowsIn} of a batch that was not counted before its commit. */
  public static final long UNKNOWN = -1;

  /** The session of the batch (the streaming query's own clone): run every statement on it. */
  public SparkSession session() {
    return rows.sparkSession();
  }
}
