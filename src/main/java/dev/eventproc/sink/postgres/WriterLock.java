package dev.eventproc.sink.postgres;

import dev.eventproc.sink.WriterId;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer lock: a session advisory lock per (target, sink name), held by one driver connection
 * from staging to commit, so that attempts of one writer (a zombie driver, a concurrent run) take
 * turns and a writer owns its staging table. A second attempt waits (it logs the holder's backend
 * pid once), then finds the batch in the ledger.
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

  /**
   * Who held the lock while this attempt waited for it: a session of another attempt of this writer.
   *
   * @param holderPid the holder's backend pid, or -1 when it let go before it could be read
   * @param waitedMillis how long this attempt waited
   */
  record Wait(int holderPid, long waitedMillis) {
    String holder() {
      return holderPid < 0 ? "another session" : "backend pid " + holderPid;
    }
  }

  /**
   * Takes the lock on {@code c}, waiting (with backoff) up to the lock timeout while another attempt
   * holds it. Returns the wait, if there was one: the other attempt may have committed the batch meanwhile.
   */
  Optional<Wait> lock(Connection c, WriterId writer) throws SQLException {
    long key = key(tables, writer.sinkName());
    long start = System.nanoTime();
    long deadline = start + options.lockTimeout().toNanos();
    long waitMs = 20;
    Wait wait = null;
    while (true) {
      try (PreparedStatement lock = c.prepareStatement(PgSql.TRY_LOCK)) {
        lock.setLong(1, key);
        try (ResultSet rs = lock.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            c.commit();
            return wait == null ? Optional.empty() : Optional.of(new Wait(wait.holderPid(), (System.nanoTime() - start) / 1_000_000));
          }
        }
      }
      if (wait == null) {
        wait = new Wait(holder(c, key), 0);
        LOG.info("sink={}: the writer lock on {} is held by {} (another attempt of writer {}: a zombie driver or a second run "
            + "of the pipeline); waiting up to {}", sinkName, tables.describe(), wait.holder(), writer.sinkName(), options.lockTimeout());
      }
      c.rollback();
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("sink " + sinkName + ": another writer named " + writer.sinkName() + " has held the lock on "
            + tables.describe() + " for over " + options.lockTimeout() + " (" + wait.holder() + "; a second pipeline "
            + "with the same sink name?). Stop it, or raise " + options.key(PostgresOptions.LOCK_TIMEOUT) + ".");
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

  /** The backend pid holding the lock {@code key}, or -1 when no session holds it any more. */
  private static int holder(Connection c, long key) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(PgSql.LOCK_HOLDER)) {
      q.setLong(1, key >>> 32);
      q.setLong(2, key & 0xffffffffL);
      try (ResultSet rs = q.executeQuery()) {
        return rs.next() ? rs.getInt(1) : -1;
      }
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
