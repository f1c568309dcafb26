package dev.eventproc.sink;

import java.io.Serializable;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * A micro-batch writer that applies each batch exactly once. Pass it straight to
 * {@code writeStream().foreachBatch(sink)}.
 *
 * <h2>The contract</h2>
 * {@link #write} leaves the target as if batch {@code batchId} of this query had been applied exactly
 * once, whatever happened before:
 * <ul>
 *   <li>Spark calls a batch again after a crash between the sink's commit and its own checkpoint
 *       commit. The sink recognises the batch as committed by this writer and skips it
 *       ({@link BatchOutcome.Status#SKIPPED_REPLAY}), because the record "batch N of writer W is
 *       committed" is written in the same atomic commit as the data (Delta transaction id, Iceberg
 *       snapshot summary, Postgres ledger row, Kafka transaction).
 *   <li>The writer is the configured sink name plus Spark's query id ({@link WriterId}). Two queries
 *       (or a reset checkpoint) are different writers.
 *   <li>Keyed modes reduce a batch to one row per key before writing, so duplicates inside a batch
 *       never fail a commit and a replayed batch picks the same row.
 * </ul>
 *
 * <h2>What it does not promise</h2>
 * <ul>
 *   <li>A batch that is <em>different</em> on replay (a non-deterministic upstream, e.g. a source whose
 *       data was deleted, or {@code rand()} in the query) is still skipped: the first version wins.
 *   <li>Resetting the checkpoint starts a new writer: batches are written again. Keyed modes keep the
 *       target free of duplicate keys; {@link WriteMode#APPEND} does not.
 *   <li>Rows with a null key are refused with an error (route them to quarantine upstream).
 * </ul>
 */
public interface BatchSink extends VoidFunction2<Dataset<Row>, Long>, Serializable {

  /**
   * Called by Spark's {@code foreachBatch}: writes the batch as the running query (its
   * {@code sql.streaming.queryId}).
   */
  @Override
  void call(Dataset<Row> batch, Long batchId);

  /** Writes a batch for an explicit query id (tests, or a caller that manages identity itself). */
  BatchOutcome write(Dataset<Row> batch, long batchId, String queryId);

  /**
   * {@link #write(Dataset, long, String)} of a batch the caller has counted already (with other counts,
   * in one Spark job): the sink runs no count job of its own, and refuses the batch as {@code write}
   * does when {@code count} has rows with a null key. The caller's count must have read the batch
   * itself (running its plan, stateful operators included, as the sink's own count would), and a batch
   * read more than once should be cached. By default the same as {@code write}.
   */
  default BatchOutcome writeCounted(Dataset<Row> batch, long batchId, String queryId, BatchCount count) {
    return write(batch, batchId, queryId);
  }

  /** The columns that identify a row in this sink (empty for append), for a caller's {@link BatchCount}. */
  default List<String> keyColumns() {
    return List.of();
  }

  /** The configured sink name (the first half of the writer identity). */
  String name();

  /** Running totals of this sink object. */
  SinkMetrics metrics();

  /**
   * What the target's own commit records say about {@code writer} (read fresh, never from a cache):
   * its last batch committed in full, and what is committed in part. Read-only; for
   * {@code eventproc status}.
   *
   * @throws UnsupportedOperationException for a sink that keeps no commit records
   */
  default CommitRecord lastCommit(SparkSession session, WriterId writer) {
    throw new UnsupportedOperationException("sink " + name() + " keeps no commit records to report");
  }

  /**
   * Whether every batch, empty ones too, leaves a commit record (then a batch missing from the records
   * but done in the checkpoint was never written); false when empty batches record nothing.
   */
  default boolean recordsEveryBatch() {
    return false;
  }

  /**
   * What finding this sink's commit records depends on, for the checkpoint guard: its name, type,
   * target and commit shape, each under its config key ({@code sink.name}, {@code sink.type},
   * {@code sink.delta.path}, {@code sink.kafka.writers}, ...), with normalised values. A restart on a
   * used checkpoint with another value would look a replayed batch up in the wrong place or shape and
   * write it again, so the guard refuses it. Empty when the sink records nothing.
   */
  default Map<String, String> identity() {
    return Map.of();
  }

  /**
   * Checks this sink's config against what the stage before it promises, reporting each problem as
   * (full config key, message). Called once when a pipeline validates its config; sinks that keep
   * every promise on their own report nothing (the default).
   */
  default void checkStage(StageGuarantee stage, BiConsumer<String, String> problem) {}

  /**
   * Why this sink cannot take a schema change the checkpoint guard accepts (a type its format cannot
   * widen in place), one sentence per column naming the fix; empty (the default) when it evolves its
   * target to any accepted change. Asked before the new schema is stored with the checkpoint.
   */
  default List<String> schemaChangeRefusals(SchemaChange change) {
    return List.of();
  }
}
