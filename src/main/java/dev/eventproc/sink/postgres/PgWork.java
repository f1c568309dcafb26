package dev.eventproc.sink.postgres;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * The sink's one way to run JDBC work, on the driver and in tasks alike: take a connection, run the
 * work, roll back what it left open when it fails, close the connection, and turn a PostgreSQL
 * failure into an error a person can act on ({@link PgConnections#explain}).
 */
final class PgWork {
  /** Work on a connection (autocommit off); it commits what it wants kept. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection c) throws SQLException;
  }

  /** Where the connection comes from: the driver's pool, or a new connection in a task. */
  @FunctionalInterface
  interface Source {
    Connection open() throws SQLException;
  }

  private PgWork() {}

  /** Runs {@code work}; {@code action} completes "failed to ..." in the error when PostgreSQL refuses. */
  static <T> T run(Source source, PostgresOptions options, String sinkName, String action, Work<T> work) {
    try (Connection c = source.open()) {
      boolean done = false;
      try {
        T result = work.run(c);
        done = true;
        return result;
      } finally {
        if (!done) {
          rollbackQuietly(c); // any failure, also a checked SparkException thrown through Scala code
        }
      }
    } catch (SQLException e) {
      throw PgConnections.explain(options, sinkName, e, action);
    }
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; closing it discards the transaction anyway
    }
  }
}
