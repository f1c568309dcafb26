package dev.eventproc.sink.postgres;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Iterator;
import org.apache.spark.sql.catalyst.InternalRow;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The binary COPY loop shared by the staging tasks (executors) and the direct path (driver): rows
 * are encoded in chunks and streamed while they come, so neither side holds a partition in memory.
 */
final class CopyStream {
  /** Bytes encoded before they are handed to the COPY. */
  static final int CHUNK = 1 << 17;

  /** Looks at each row before it is sent: false stops the COPY (it is cancelled, nothing is written). */
  @FunctionalInterface
  interface RowCheck {
    boolean send(InternalRow row);
  }

  private CopyStream() {}

  /**
   * Streams {@code rows} through {@code copySql} on {@code c}, each row followed by the encoder's
   * trailing integers ({@code int8}, {@code int4}) when it has them.
   *
   * @return the rows written, or -1 when {@code check} stopped the COPY
   */
  static long copy(Connection c, String copySql, PgBinaryEncoder encoder, Iterator<InternalRow> rows, long int8, int int4,
      RowCheck check) throws SQLException {
    CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(copySql);
    long n = 0;
    try {
      while (rows.hasNext()) {
        InternalRow r = rows.next();
        if (!check.send(r)) {
          return -1; // the finally block cancels the COPY
        }
        encoder.append(r, int8, int4);
        n++;
        if (encoder.size() >= CHUNK) {
          encoder.drainTo((b, len) -> in.writeToCopy(b, 0, len), false);
        }
      }
      encoder.drainTo((b, len) -> in.writeToCopy(b, 0, len), true); // header (if no row came) and trailer
      in.endCopy();
      return n;
    } finally {
      if (in.isActive()) {
        in.cancelCopy();
      }
    }
  }
}
