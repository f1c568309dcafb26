package dev.eventproc.sink.postgres;

import com.zaxxer.hikari.HikariDataSource;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The driver's HikariCP pool of one sink, made on first use (never serialized with the sink): the
 * writer lock's connection, plus one per slice applied in parallel in the partition shape.
 */
final class DriverPool implements Serializable, AutoCloseable {
  private static final long serialVersionUID = 1L;

  private final PostgresOptions options;
  private final String sinkName;
  private transient volatile HikariDataSource pool;

  DriverPool(PostgresOptions options, String sinkName) {
    this.options = options;
    this.sinkName = sinkName;
  }

  /** Runs {@code work} on a pooled connection (see {@link PgWork#run}). */
  <T> T run(String action, PgWork.Work<T> work) {
    return PgWork.run(this::connection, options, sinkName, action, work);
  }

  Connection connection() throws SQLException {
    return pool().getConnection();
  }

  /** Closes a connection taken from the pool instead of returning it (its session ends, with its session locks). */
  void evict(Connection c) {
    pool().evictConnection(c);
  }

  private HikariDataSource pool() {
    HikariDataSource p = pool;
    if (p == null) {
      synchronized (this) {
        if (pool == null) {
          pool = PgConnections.pool(options, sinkName);
        }
        p = pool;
      }
    }
    return p;
  }

  @Override
  public synchronized void close() {
    if (pool != null) {
      pool.close();
      pool = null;
    }
  }
}
