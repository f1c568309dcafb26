package dev.eventproc.sink.postgres;

import dev.eventproc.sink.WriteMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.time.Duration;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the staged rows of one attempt (the whole batch, or one key-hash slice of it) to the
 * target inside the caller's transaction: checks that staging holds them all, records tombstones,
 * runs the MERGE (or INSERT for append), and purges old tombstones now and then.
 */
final class MergeApplier {
  private static final Logger LOG = LoggerFactory.getLogger(MergeApplier.class);
  static final int PURGE_EVERY_BATCHES = 100;

  private final PgSql sql;
  private final String sinkName;
  private final Duration tombstoneRetention;

  MergeApplier(PgSql sql, String sinkName, Duration tombstoneRetention) {
    this.sql = sql;
    this.sinkName = sinkName;
    this.tombstoneRetention = tombstoneRetention;
  }

  /**
   * Staging must hold exactly what Spark staged for the attempt (and slice): nothing lost in between,
   * nothing left from another attempt. Run in the applying transaction: its read lock on staging keeps
   * a TRUNCATE by another attempt out until the transaction ends.
   */
  void checkStaged(Connection c, long batchId, long attempt, OptionalInt slice, long staged) throws SQLException {
    long inStaging;
    try (PreparedStatement st = c.prepareStatement(sql.countStaged())) {
      bind(st, attempt, slice);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        inStaging = rs.getLong(1);
      }
    }
    if (inStaging != staged) {
      String rows = slice.isPresent() ? "rows of slice " + slice.getAsInt() + " of this attempt" : "rows of this attempt";
      throw new IllegalStateException("sink " + sinkName + " batch " + batchId + ": staging holds " + inStaging + " " + rows
          + " but Spark staged " + staged + " (another attempt of this writer emptied staging after the writer lock's "
          + "session was lost?). " + (slice.isPresent() ? "The slice is" : "The batch is") + " not committed; Spark will "
          + "retry the batch.");
    }
  }

  /**
   * Tombstones, then one MERGE (or INSERT for append); returns the rows written. A keyed MERGE first
   * runs without sorting the source; if a key repeats in the batch PostgreSQL refuses it (21000: a row
   * affected twice; 23505: a new key inserted twice) and it runs again over one row per key after a
   * rollback to a savepoint. Insert-if-absent with a version sorts always (the oldest must win).
   */
  long apply(Connection c, long attempt, OptionalInt slice) throws SQLException {
    if (sql.mode() == WriteMode.HISTORY) {
      return applyHistory(c, attempt, slice);
    }
    if (sql.hasDeletes()) {
      execute(c, sql.merge().upsertTombstones(), attempt, slice);
    }
    if (sql.mode() == WriteMode.APPEND || (sql.mode() == WriteMode.INSERT_IF_ABSENT && sql.ordered())) {
      return execute(c, sql.merge().apply(sql.mode() != WriteMode.APPEND), attempt, slice);
    }
    Savepoint savepoint = c.setSavepoint();
    try {
      long n = execute(c, sql.merge().apply(false), attempt, slice);
      c.releaseSavepoint(savepoint);
      return n;
    } catch (SQLException e) {
      if (!"21000".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) {
        throw e;
      }
      c.rollback(savepoint);
      try (Statement st = c.createStatement()) {
        st.execute(PgSql.SORT_MEMORY);
      }
      return execute(c, sql.merge().apply(true), attempt, slice);
    }
  }

  /**
   * History: the staged deletes are recorded, then one MERGE recomputes the intervals of the keys the
   * rows touch ({@link PgHistorySql}); a key never repeats in its source, so no retry is needed.
   */
  private long applyHistory(Connection c, long attempt, OptionalInt slice) throws SQLException {
    PgHistorySql history = sql.history();
    if (sql.hasDeletes()) {
      execute(c, history.recordDeletes(), attempt, slice);
    }
    try (Statement st = c.createStatement()) {
      st.execute(PgSql.SORT_MEMORY);
    }
    return execute(c, history.apply(), attempt, slice);
  }

  /**
   * Every {@value #PURGE_EVERY_BATCHES} batches, drops tombstones older than the retention. Never in
   * history mode: there a delete is part of the history (it closes the row before it, however late).
   */
  void purgeTombstones(Connection c, long batchId) throws SQLException {
    if (!sql.hasDeletes() || sql.mode() == WriteMode.HISTORY || batchId == 0 || batchId % PURGE_EVERY_BATCHES != 0) {
      return;
    }
    try (PreparedStatement purge = c.prepareStatement(sql.purgeTombstones())) {
      purge.setDouble(1, tombstoneRetention.toSeconds());
      int n = purge.executeUpdate();
      LOG.info("sink={} batch={}: purged {} tombstones older than {}", sinkName, batchId, n, tombstoneRetention);
    }
  }

  private int execute(Connection c, String statement, long attempt, OptionalInt slice) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(statement)) {
      bind(st, attempt, slice);
      return st.executeUpdate();
    }
  }

  /** Binds the attempt, and the slice when the statements select one. */
  private void bind(PreparedStatement st, long attempt, OptionalInt slice) throws SQLException {
    st.setLong(1, attempt);
    if (sql.sliced()) {
      st.setInt(2, slice.orElseThrow());
    }
  }
}
