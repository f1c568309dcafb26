package dev.eventproc.sink;

import java.util.List;
import java.util.function.Supplier;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * A lakehouse table that Spark SQL can MERGE into and whose commits can carry this writer's record
 * "batch N is committed" (Delta: a transaction id; Iceberg: snapshot summary properties). What
 * {@link SparkTableSink} needs of a format.
 */
public interface SparkTable {
  /** How Spark SQL names it in a statement (quoted). */
  String sqlRef();

  /** How {@code ALTER TABLE} names it (the table, not a branch of it). */
  default String ddlRef() {
    return sqlRef();
  }

  /** For people: a path or a table name. */
  String describe();

  boolean exists(SparkSession session);

  /** This writer's last batch as the table's commits record it (the batch only, unless the format says more). */
  default CommitRecord lastCommit(SparkSession session, WriterId writer) {
    return CommitRecord.batch(committedBatch(session, writer));
  }

  /** Creates the table from a schema when it does not exist (idempotent). */
  void create(SparkSession session, StructType schema, List<String> partitionColumns);

  /** The highest batch this writer has committed to this table, or -1 (read fresh, never from a cache). */
  long committedBatch(SparkSession session, WriterId writer);

  /** Runs one write whose commit records batch {@code batchId} of {@code writer}. */
  <T> T withCommitRecord(SparkSession session, WriterId writer, long batchId, Supplier<T> write);

  /**
   * Appends rows in a commit that records the batch, in one pass over them, and returns how many rows
   * that commit added (from the commit's own metadata: the rows are not counted separately), or
   * {@link CommitResult#skipped()} when the format found the batch committed by this writer already
   * (a racing attempt of the same writer won).
   */
  CommitResult append(Dataset<Row> rows, WriterId writer, long batchId);

  /** Whether {@link #append} creates the table when it does not exist (else it must be created first). */
  default boolean appendCreates() {
    return false;
  }

  /**
   * Whether {@code ALTER TABLE ... ALTER COLUMN ... TYPE} widens a column from {@code from} to {@code to}
   * in place (an accepted widening, see {@link SchemaChange}); false (the default) when the format cannot.
   */
  default boolean canWiden(DataType from, DataType to) {
    return false;
  }

  /** Which widenings the format makes in place, for messages. */
  default String widening() {
    return "this format widens no type in place";
  }

  /** The current rows. */
  Dataset<Row> read(SparkSession session);

  /** A table beside this one, named with a suffix (for tombstones). */
  SparkTable sibling(String suffix);

  /**
   * Rows a MERGE changed, from its result row when the format reports it; -1 when it does not
   * (then the sink reports the batch's rows as written).
   */
  default long changedRows(Row mergeResult) {
    return -1;
  }

  /**
   * Whether a MERGE's result (null when it returned no row) says the format skipped it because the
   * batch was recorded already: a racing attempt of the same writer committed it after the sink looked.
   */
  default boolean mergeSkipped(Row mergeResult) {
    return false;
  }
}
