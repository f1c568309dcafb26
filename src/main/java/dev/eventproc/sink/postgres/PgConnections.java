package dev.eventproc.sink.postgres;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.MaskedThrowable;
import dev.eventproc.util.Errors;
import dev.eventproc.util.Sha256;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * Connections to PostgreSQL: a HikariCP pool on the driver, plain connections on executors (one per
 * task), and errors a person can act on. No message ever holds the password: pgjdbc's own texts do
 * not, and URLs are masked.
 */
final class PgConnections {
  private PgConnections() {}

  /** The driver-side pool of a sink. */
  static HikariDataSource pool(PostgresOptions o, String sinkName) {
    HikariConfig c = new HikariConfig();
    c.setJdbcUrl(o.url());
    Properties props = o.connectionProperties("eventproc-" + sinkName);
    c.setDataSourceProperties(props);
    if (o.user() != null) {
      c.setUsername(o.user());
    }
    if (o.hasPassword()) {
      c.setPassword(o.password());
    }
    c.setPoolName("eventproc-" + sinkName);
    c.setMaximumPoolSize(o.poolSize());
    c.setMinimumIdle(1);
    c.setAutoCommit(false);
    c.setConnectionTimeout(Math.max(250, o.connectTimeout().toMillis()));
    c.setInitializationFailTimeout(Math.max(1, o.connectTimeout().toMillis()));
    try {
      return new HikariDataSource(c);
    } catch (RuntimeException e) {
      throw explain(o, sinkName, e, "connect");
    }
  }

  /** A connection for one executor task (autocommit off); the caller closes it. */
  static Connection open(PostgresOptions o, String sinkName) {
    try {
      Connection c = DriverManager.getConnection(o.url(), o.connectionProperties("eventproc-" + sinkName + "-task"));
      c.setAutoCommit(false);
      return c;
    } catch (SQLException e) {
      throw explain(o, sinkName, e, "connect");
    }
  }

  /**
   * Turns a failure into an error that says what happened and what to check. Authentication,
   * unreachable server and missing database get their own words; anything else keeps PostgreSQL's
   * message and SQLState.
   */
  static RuntimeException explain(PostgresOptions o, String sinkName, Throwable e, String action) {
    SQLException sql = find(e);
    String state = sql == null ? null : sql.getSQLState();
    String where = o.describe();
    String text;
    if (state != null && (state.equals("28P01") || state.equals("28000"))) {
      text = "PostgreSQL refused the login (" + Errors.firstLine(sql.getMessage()) + ") at " + where + ". Check "
          + o.key(PostgresOptions.USER) + " and the secret behind " + o.key(PostgresOptions.PASSWORD) + ".";
    } else if (state != null && state.equals("3D000")) {
      text = "the database in " + o.key(PostgresOptions.URL) + " does not exist (" + Errors.firstLine(sql.getMessage()) + ") at " + where + ".";
    } else if (state != null && state.startsWith("08")) {
      text = "cannot reach PostgreSQL at " + where + ": " + Errors.firstLine(sql.getMessage())
          + ". Is the server running, and does " + o.key(PostgresOptions.URL) + " name the right host and port?";
    } else if (sql != null) {
      text = "PostgreSQL failed to " + action + " (SQLState " + state + "): " + Errors.firstLine(sql.getMessage()) + " at " + where + ".";
    } else {
      text = "failed to " + action + " at " + where + ": " + Errors.firstLine(String.valueOf(e.getMessage()));
    }
    // pgjdbc quotes whole URLs in some errors (a URL it cannot parse): mask the text and the causes.
    return new PostgresSinkException("sink " + sinkName + ": " + EventprocConfig.maskUrlPassword(text), state,
        MaskedThrowable.chain(e, EventprocConfig::maskUrlPassword));
  }

  static SQLException find(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof SQLException s) {
        return s;
      }
    }
    return null;
  }

  /** A stable 64-bit advisory lock key for a name. */
  static long lockKey(String name) {
    byte[] h = Sha256.digest(name);
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (h[i] & 0xff);
    }
    return v;
  }

  /** A Postgres failure, with PostgreSQL's SQLState when there was one. */
  public static final class PostgresSinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String sqlState;

    PostgresSinkException(String message, String sqlState, Throwable cause) {
      super(message, cause);
      this.sqlState = sqlState;
    }

    /** PostgreSQL's SQLState, or null. */
    public String sqlState() {
      return sqlState;
    }
  }
}
