package dev.eventproc.sink.kafka;

/**
 * What a writer partition records with its progress offset (the offset's metadata string): the
 * number of writer partitions the batch was split into, the commit attempt that wrote it and the
 * records it sent. The attempt tells the driver whether its own tasks committed a batch or another
 * attempt (a zombie, a retried task) did, so the outcome it reports is the truth, not a guess.
 * Format {@code partitions=<n>;attempt=<id>;rows=<n>}; fields other than {@code partitions} may be
 * absent in progress written by older versions.
 */
record ProgressTag(int partitions, String attempt, long rows) {
  private static final String PARTITIONS = "partitions=";
  private static final String ATTEMPT = "attempt=";
  private static final String ROWS = "rows=";

  String encode() {
    return PARTITIONS + partitions + ";" + ATTEMPT + attempt + ";" + ROWS + rows;
  }

  /** The tag of committed progress; {@code partitions} is -1 and {@code attempt} empty when not recorded. */
  static ProgressTag parse(String metadata) {
    int partitions = -1;
    String attempt = "";
    long rows = 0;
    for (String field : (metadata == null ? "" : metadata).split(";")) {
      try {
        if (field.startsWith(PARTITIONS)) {
          partitions = Integer.parseInt(field.substring(PARTITIONS.length()));
        } else if (field.startsWith(ATTEMPT)) {
          attempt = field.substring(ATTEMPT.length());
        } else if (field.startsWith(ROWS)) {
          rows = Long.parseLong(field.substring(ROWS.length()));
        }
      } catch (NumberFormatException e) {
        throw new IllegalStateException("unreadable progress metadata '" + metadata + "' (field " + field + ")", e);
      }
    }
    return new ProgressTag(partitions, attempt, rows);
  }
}
