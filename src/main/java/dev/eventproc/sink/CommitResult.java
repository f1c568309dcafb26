package dev.eventproc.sink;

/**
 * What an adapter reports after committing a batch.
 *
 * @param rowsWritten rows inserted, updated or deleted in the target
 * @param alreadyCommitted true when the target turned out to hold this batch already (the
 *     adapter's own atomic check saw it, e.g. a concurrent writer won the race)
 * @param lostTo when another attempt of this writer committed the batch after this attempt found it
 *     uncommitted: what showed it (a fencing, the lock the other attempt held); null otherwise
 */
public record CommitResult(long rowsWritten, boolean alreadyCommitted, Throwable lostTo) {
  public static CommitResult written(long rows) {
    return new CommitResult(rows, false, null);
  }

  public static CommitResult skipped() {
    return new CommitResult(0, true, null);
  }

  /**
   * Skipped: another attempt of this writer (a zombie driver, a second run) committed the batch
   * after this attempt's check, and {@code conflict} is how this attempt found out; counted as a lost race.
   */
  public static CommitResult lostRace(Throwable conflict) {
    return new CommitResult(0, true, conflict);
  }
}
