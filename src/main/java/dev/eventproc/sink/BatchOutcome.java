package dev.eventproc.sink;

/**
 * What one call of a sink did with one batch.
 *
 * @param batchId Spark's batch id
 * @param status committed, skipped as a replay, or empty
 * @param rowsIn rows in the batch as Spark handed it over
 * @param rowsWritten rows inserted, updated or deleted in the target
 * @param rowsIgnored rows that changed nothing: duplicates of a key within the batch, versions not
 *     newer than the stored one, keys already present (insert-if-absent)
 * @param commitMillis wall time of the sink's work for this batch
 */
public record BatchOutcome(long batchId, Status status, long rowsIn, long rowsWritten, long rowsIgnored, long commitMillis) {

  /** The three ways a batch can end. */
  public enum Status {
    /** The batch was applied and its commit record written in the same atomic commit. */
    COMMITTED,
    /** This writer had already committed the batch (Spark replayed it after a crash): nothing written. */
    SKIPPED_REPLAY,
    /** The batch had no rows: nothing to write. */
    EMPTY
  }
}
