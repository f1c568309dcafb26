package dev.eventproc.sink.kafka;

import java.io.Serializable;

/**
 * What a writer partition records with its progress offset (the offset's metadata string): the
 * number of writer partitions the batch was split into, the commit attempt that wrote it, the records
 * that attempt sent, the number of key-hash slices of the batch, while a long batch is committed
 * in several transactions the first slice not yet written, and the batch the records named as their
 * previous one (header {@code eventproc.previous}), from which the next batch's previous follows. The attempt tells the driver whether its
 * own tasks committed a batch or another attempt (a zombie, a retried task) did, so the outcome it
 * reports is the truth, not a guess.
 *
 * <p>Format {@code partitions=<n>;attempt=<id>;rows=<n>;slices=<n>;previous=<batch>[;done=<slice>]}; fields other than
 * {@code partitions} may be absent in progress written by older versions. With {@code done}, the offset
 * is the batch in progress (whose slices below {@code done} are committed); without it, the offset is
 * the batch after the last one committed in full.
 *
 * @param partitions writer partitions, or -1 when not recorded
 * @param attempt the commit attempt, empty when not recorded
 * @param rows records the attempt sent for this writer partition and batch, over all its transactions
 * @param slices key-hash slices of the batch, or -1 when not recorded
 * @param done slices below this one are committed (a partly committed batch), or -1 for a whole batch
 * @param previous the last earlier batch in which this writer partition wrote records, as this batch's
 *     records name it; -1 for none or not recorded
 */
record ProgressTag(int partitions, String attempt, long rows, int slices, int done, long previous) implements Serializable {
  private static final String PARTITIONS = "partitions=";
  private static final String ATTEMPT = "attempt=";
  private static final String ROWS = "rows=";
  private static final String SLICES = "slices=";
  private static final String DONE = "done=";
  private static final String PREVIOUS = "previous=";

  /** Whether this is the progress of a batch committed in part (its offset is that batch). */
  boolean partial() {
    return done >= 0;
  }

  /**
   * The batch that records of batch {@code batchId} name as their previous, given this tag of the
   * progress at {@code offset}: the same as the tag's when the batch is in part committed (its first
   * transactions named it), else the last committed batch if it wrote records, else what that one named.
   */
  long previousOf(long offset, long batchId) {
    if (partial()) {
      return offset == batchId ? previous : -1;
    }
    return rows > 0 ? offset - 1 : previous;
  }

  String encode() {
    return PARTITIONS + partitions + ";" + ATTEMPT + attempt + ";" + ROWS + rows + ";" + SLICES + slices
        + ";" + PREVIOUS + previous + (done >= 0 ? ";" + DONE + done : "");
  }

  /** The tag of committed progress; numbers are -1 and {@code attempt} empty when not recorded. */
  static ProgressTag parse(String metadata) {
    int partitions = -1;
    String attempt = "";
    long rows = 0;
    int slices = -1;
    int done = -1;
    long previous = -1;
    for (String field : (metadata == null ? "" : metadata).split(";")) {
      try {
        if (field.startsWith(PARTITIONS)) {
          partitions = Integer.parseInt(field.substring(PARTITIONS.length()));
        } else if (field.startsWith(ATTEMPT)) {
          attempt = field.substring(ATTEMPT.length());
        } else if (field.startsWith(ROWS)) {
          rows = Long.parseLong(field.substring(ROWS.length()));
        } else if (field.startsWith(SLICES)) {
          slices = Integer.parseInt(field.substring(SLICES.length()));
        } else if (field.startsWith(DONE)) {
          done = Integer.parseInt(field.substring(DONE.length()));
        } else if (field.startsWith(PREVIOUS)) {
          previous = Long.parseLong(field.substring(PREVIOUS.length()));
        }
      } catch (NumberFormatException e) {
        throw new IllegalStateException("unreadable progress metadata '" + metadata + "' (field " + field + ")", e);
      }
    }
    return new ProgressTag(partitions, attempt, rows, slices, done, previous);
  }
}
