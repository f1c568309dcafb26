package dev.eventproc.sink.postgres;

import dev.eventproc.config.Durations;
import dev.eventproc.sink.postgres.PgConnections.PostgresSinkException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Empties the writer's staging table on the driver. TRUNCATE waits for every other session's lock on
 * the table (a forgotten {@code BEGIN} in psql, a report reading it, the session of a lost earlier
 * attempt), so the wait is bounded by {@code postgres.lock.timeout}, and running out of it fails the
 * batch with the holders named: a visible error instead of a stream stalled without a word.
 */
final class StagingTruncate {
  /** SQLState of a lock wait that ran out of {@code lock_timeout}. */
  private static final String LOCK_NOT_AVAILABLE = "55P03";
  private static final String HOLDERS = "SELECT DISTINCT l.pid, a.application_name, a.state FROM pg_locks l "
      + "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.relation = to_regclass(?) AND l.granted AND l.pid <> pg_backend_pid() "
      + "ORDER BY l.pid";

  private StagingTruncate() {}

  /**
   * TRUNCATEs staging in {@code c}'s transaction (autocommit off: {@code SET LOCAL} lasts until its end);
   * the lock wait's bound applies to that statement only. Called in the committing transaction, a
   * timeout rolls back all of it (rows and ledger entry): nothing of the batch is committed, and it is
   * written again when replayed.
   *
   * @throws PostgresSinkException when another session held the table longer than the lock timeout
   *     (the transaction is then rolled back)
   */
  static void run(Connection c, PgSql sql, PostgresOptions options, String sinkName) throws SQLException {
    if (c.getAutoCommit()) {
      throw new IllegalStateException("sink " + sinkName + ": staging is emptied inside a transaction (autocommit off)");
    }
    String previous;
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT current_setting('lock_timeout')")) {
      rs.next();
      previous = rs.getString(1);
    }
    try (Statement st = c.createStatement()) {
      st.execute("SET LOCAL lock_timeout = " + Math.max(1, options.lockTimeout().toMillis()));
      st.execute(sql.truncateStaging());
    } catch (SQLException e) {
      if (!LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
        throw e;
      }
      c.rollback();
      throw new PostgresSinkException("sink " + sinkName + ": emptying the staging table " + sql.stageRef() + " waited longer than "
          + options.key(PostgresOptions.LOCK_TIMEOUT) + " (" + Durations.human(options.lockTimeout()) + ") for a lock held by "
          + holders(c, sql) + ". The batch fails and is replayed at restart. End that session's transaction (or the session: "
          + "SELECT pg_terminate_backend(pid)), or raise " + options.key(PostgresOptions.LOCK_TIMEOUT) + ".", e.getSQLState(), e);
    }
    try (PreparedStatement restore = c.prepareStatement("SELECT set_config('lock_timeout', ?, true)")) {
      restore.setString(1, previous);
      restore.execute();
    }
  }

  /** The sessions holding a lock on staging, as "pid N (application_name 'x', state 'y')", or a hint where they are none left. */
  private static String holders(Connection c, PgSql sql) {
    List<String> out = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement(HOLDERS)) {
      ps.setString(1, sql.stageRef());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add("pid " + rs.getInt(1) + " (application_name '" + rs.getString(2) + "', state '" + rs.getString(3) + "')");
        }
      }
      c.rollback();
    } catch (SQLException e) {
      try {
        c.rollback();
      } catch (SQLException ignored) {
        // the caller fails the batch anyway; the pool discards a broken connection
      }
      return "another session (its pid could not be read: " + e.getMessage() + "; see pg_locks)";
    }
    return out.isEmpty() ? "another session (gone since; see pg_locks if this repeats)" : "another session: " + String.join(", ", out);
  }
}
