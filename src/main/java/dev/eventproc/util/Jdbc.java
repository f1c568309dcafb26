package dev.eventproc.util;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/** A plain JDBC connection for tools (benches, the demo): user and password only when given. */
public final class Jdbc {
  private Jdbc() {}

  public static Connection connect(String url, String user, String password) throws SQLException {
    return DriverManager.getConnection(url, properties(user, password));
  }

  /** The login as JDBC properties (for {@code DriverManager} or Spark's JDBC writer). */
  public static Properties properties(String user, String password) {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    return p;
  }
}
