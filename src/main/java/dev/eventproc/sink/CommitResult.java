package dev.eventproc.sink;

/**
 * What an adapter reports after committing a batch.
 *
 * @param rowsWritten rows inserted, updated or deleted in the target
 * @param alreadyCommitted true when the target turned out to hold this batch already (the
 *     adapter's own atomic check saw it, e.g. a concurrent writer won the race)
 */
public record CommitResult(long rowsWritten, boolean alreadyCommitted) {
  public static CommitResult written(long rows) {
    return new CommitResult(rows, false);
  }

  public static CommitResult skipped() {
    return new CommitResult(0, true);
  }
}
