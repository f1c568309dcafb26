package dev.eventproc.sink;

import java.time.Instant;

/**
 * What a sink's own commit records say about one writer, read fresh from the target: the last batch
 * it committed in full, when and with how many rows where the target records that, and what is
 * committed only in part (a PostgreSQL batch of which some slices are committed, a Kafka writer part
 * ahead of the others). For {@code eventproc status}.
 *
 * @param lastBatch the highest batch committed in full, or -1 when there is none
 * @param committedAt when that batch was committed, or null when the target does not record it
 * @param rows rows that batch wrote (or added), or -1 when the target does not record it
 * @param partly what is committed in part beyond {@code lastBatch}, for people; empty when nothing is
 */
public record CommitRecord(long lastBatch, Instant committedAt, long rows, String partly) {
  /** No batch of this writer is recorded. */
  public static final CommitRecord NONE = new CommitRecord(-1, null, -1, "");

  public CommitRecord {
    partly = partly == null ? "" : partly;
  }

  /** The last batch only (time and rows not recorded by the target). */
  public static CommitRecord batch(long lastBatch) {
    return lastBatch < 0 ? NONE : new CommitRecord(lastBatch, null, -1, "");
  }
}
