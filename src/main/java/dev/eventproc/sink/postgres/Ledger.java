package dev.eventproc.sink.postgres;

import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.WriterId;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.HashSet;
import java.util.OptionalInt;
import java.util.Set;

/**
 * The commit record of a PostgreSQL sink: one ledger row per batch committed whole, or one per
 * key-hash slice of a batch committed in slices, each inserted in the transaction that applied it.
 * The ledger's column names ({@code partition_id}, {@code partitions}) predate the word slice and
 * stay as they are: users' queries read them.
 */
final class Ledger implements Serializable {
  private static final long serialVersionUID = 1L;
  /** The {@code partition_id} of a batch committed whole. */
  private static final int WHOLE_BATCH = -1;

  private final PgSql sql;
  private final PostgresOptions options;
  private final PostgresTables tables;
  private final String sinkName;

  Ledger(PgSql sql, PostgresOptions options, PostgresTables tables, String sinkName) {
    this.sql = sql;
    this.options = options;
    this.tables = tables;
    this.sinkName = sinkName;
  }

  /** One ledger row: a batch committed whole (no slice), or one of {@code slices} slices. */
  record Entry(WriterId writer, long batchId, OptionalInt slice, int slices, long rowsIn, long rowsWritten) {
    static Entry wholeBatch(WriterId writer, long batchId, long rowsIn, long rowsWritten) {
      return new Entry(writer, batchId, OptionalInt.empty(), 1, rowsIn, rowsWritten);
    }

    static Entry slice(WriterId writer, long batchId, int slice, int slices, long rowsIn, long rowsWritten) {
      return new Entry(writer, batchId, OptionalInt.of(slice), slices, rowsIn, rowsWritten);
    }
  }

  /**
   * What the ledger holds for one batch of one writer: a row for the whole batch, or the slices
   * committed so far and the slice count they were written with.
   */
  record BatchRecord(boolean whole, int slices, Set<Integer> committed) {
    static final BatchRecord NONE = new BatchRecord(false, 0, Set.of());

    boolean complete() {
      return whole || (slices > 0 && committed.size() >= slices);
    }

    boolean has(int slice) {
      return committed.contains(slice);
    }

    /** Whether some slices are committed: the batch must be finished in slices, whatever the config says now. */
    boolean inSlices() {
      return !committed.isEmpty();
    }

    /** The slice count the batch was first written with, or {@code defaultCount} when no slice is committed yet. */
    int slicesOr(int defaultCount) {
      return committed.isEmpty() ? defaultCount : slices;
    }
  }

  /**
   * What the ledger holds for a batch of this writer and target. A row of the same writer, query id and
   * batch for another target means the checkpoint was used with another table: refused, since taking
   * it for this target's commit would skip the batch here.
   */
  BatchRecord read(Connection c, WriterId writer, long batchId) throws SQLException {
    boolean whole = false;
    int slices = 0;
    Set<Integer> committed = new HashSet<>();
    try (PreparedStatement q = c.prepareStatement(sql.ledgerOfBatch())) {
      q.setString(1, writer.sinkName());
      q.setString(2, writer.queryId());
      q.setLong(3, batchId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          if (!tables.describe().equals(rs.getString(3))) {
            throw otherTarget(writer, batchId, rs.getString(3));
          }
          if (rs.getInt(1) == WHOLE_BATCH) {
            whole = true;
          } else {
            committed.add(rs.getInt(1));
            slices = rs.getInt(2);
          }
        }
      }
    }
    return whole || !committed.isEmpty() ? new BatchRecord(whole, slices, Set.copyOf(committed)) : BatchRecord.NONE;
  }

  /** The writer's last batch committed in full, and the slices of a newer one committed so far. */
  CommitRecord last(Connection c, WriterId writer) throws SQLException {
    String partly = "";
    try (PreparedStatement q = c.prepareStatement(sql.newestLedgerBatches())) {
      q.setString(1, writer.sinkName());
      q.setString(2, writer.queryId());
      q.setString(3, tables.describe());
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          long batch = rs.getLong(1);
          long committed = rs.getLong(3);
          int slices = rs.getInt(4);
          if (rs.getBoolean(2) || committed >= slices) {
            Timestamp at = rs.getTimestamp(5);
            return new CommitRecord(batch, at == null ? null : at.toInstant(), rs.getLong(6), partly);
          }
          partly = "batch " + batch + " is committed in part: " + committed + " of its " + slices + " slices";
        }
      }
    }
    return new CommitRecord(-1, null, -1, partly);
  }

  private IllegalStateException otherTarget(WriterId writer, long batchId, String recorded) {
    return new IllegalStateException("sink " + sinkName + ": the ledger " + tables.schema + "." + tables.ledger + " records batch " + batchId
        + " of writer " + writer.sinkName() + " (query id " + writer.queryId() + ") as written to " + recorded + ", but this sink "
        + "writes to " + tables.describe() + ": the checkpoint was used with another table (" + options.key(PostgresOptions.TABLE)
        + " or " + options.key(PostgresOptions.SCHEMA) + " changed, or a checkpoint was copied). Give this target a checkpoint "
        + "of its own (a new checkpoint location, or --reset-checkpoint); if the table was only renamed, set target_table to '"
        + tables.describe() + "' in this writer's ledger rows.");
  }

  void insert(Connection c, Entry e) throws SQLException {
    try (PreparedStatement ins = c.prepareStatement(sql.insertLedger())) {
      ins.setString(1, e.writer().sinkName());
      ins.setString(2, e.writer().queryId());
      ins.setLong(3, e.batchId());
      ins.setInt(4, e.slice().orElse(WHOLE_BATCH));
      ins.setInt(5, e.slices());
      ins.setString(6, tables.describe());
      ins.setLong(7, e.rowsIn());
      ins.setLong(8, e.rowsWritten());
      ins.setLong(9, Math.max(0, e.rowsIn() - e.rowsWritten()));
      ins.executeUpdate();
    }
  }
}
