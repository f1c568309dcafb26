package dev.eventproc.sink.postgres;

import dev.eventproc.sink.WriterId;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer lock: a session advisory lock per (target, sink name), held by one driver connection
 * from staging to commit, so that attempts of one writer (a zombie driver, a concurrent run) take
 * turns and a writer owns its staging table. A second attempt waits, then finds the batch in the
 * ledger.
 */
final class WriterLock implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(WriterLock.class);

  private final PostgresOptions options;
  private final PostgresTables tables;
  private final String sinkName;
  private final DriverPool pool;

  WriterLock(PostgresOptions options, PostgresTables tables, String sinkName, DriverPool pool) {
    this.options = options;
    this.tables = tables;
    this.sinkName = sinkName;
    this.pool = pool;
  }

  /** The advisory lock key of a writer of a target. */
  static long key(PostgresTables tables, String writerName) {
    return PgConnections.lockKey("eventproc-writer:" + tables.describe() + ":" + writerName);
  }

  /** Takes the lock on {@code c}, waiting (with backoff) up to the lock timeout while another attempt holds it. */
  void lock(Connection c, WriterId writer) throws SQLException {
    long key = key(tables, writer.sinkName());
    long deadline = System.nanoTime() + options.lockTimeout().toNanos();
    long waitMs = 20;
    while (true) {
      try (PreparedStatement lock = c.prepareStatement(PgSql.TRY_LOCK)) {
        lock.setLong(1, key);
        try (ResultSet rs = lock.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            c.commit();
            return;
          }
        }
      }
      c.rollback();
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("sink " + sinkName + ": another writer named " + writer.sinkName() + " has held the lock on "
            + tables.describe() + " for over " + options.lockTimeout() + " (a second pipeline with the same sink name?). "
            + "Stop it, or raise " + options.key(PostgresOptions.LOCK_TIMEOUT) + ".");
      }
      try {
        Thread.sleep(waitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("sink " + sinkName + ": interrupted while waiting for the writer lock", e);
      }
      waitMs = Math.min(1000, waitMs * 2);
    }
  }

  /**
   * Releases the lock taken on {@code c}, after any failure too: first rolls back what the batch left
   * open (in an aborted transaction the unlock itself would fail), then unlocks. If that fails, the
   * connection is evicted from the pool rather than returned to it, so its session ends and the lock
   * with it; a session lock left on a pooled connection would stall every later attempt of the writer.
   */
  void release(Connection c, WriterId writer) {
    try {
      c.rollback();
      try (PreparedStatement unlock = c.prepareStatement(PgSql.UNLOCK)) {
        unlock.setLong(1, key(tables, writer.sinkName()));
        unlock.execute();
      }
      c.commit();
    } catch (SQLException e) {
      LOG.warn("sink={}: could not release the writer lock on {} ({}); closing its connection, which releases it", sinkName,
          tables.describe(), e.toString());
      pool.evict(c);
    }
  }
}
