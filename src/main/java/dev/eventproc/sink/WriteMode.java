package dev.eventproc.sink;

/**
 * How a sink applies a batch to its target. Written in config as {@code upsert}, {@code insert-if-absent},
 * {@code append}, {@code history}.
 */
public enum WriteMode {
  /**
   * One row per key; a row replaces the stored one only when its version is greater (equal or older
   * versions are ignored). Rows matching the delete condition remove the key and leave a tombstone,
   * so an older update that arrives later cannot bring the key back.
   */
  UPSERT,
  /** One row per key; the first row stored for a key wins forever, later ones are ignored. */
  INSERT_IF_ABSENT,
  /** Every row is appended, once per batch (for aggregates that are emitted once). */
  APPEND,
  /**
   * One row per stored version of a key (SCD type 2): the event's columns plus {@code __start_at} and
   * {@code __end_at}, the versions that open and close the row ({@code __end_at} null while current).
   * Rows are ordered by (version, tie-break) whatever their arrival order; a delete closes the row
   * before it and opens none. The current rows equal what {@link #UPSERT} would hold. See
   * {@link HistoryMode}.
   */
  HISTORY;

  /** Whether the mode identifies rows by key columns. */
  public boolean isKeyed() {
    return this != APPEND;
  }
}
