package dev.eventproc.testutils;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The PostgreSQL server of the tests, found in this order: {@code EVENTPROC_TEST_PG_URL} (with
 * {@code EVENTPROC_TEST_PG_USER} / {@code EVENTPROC_TEST_PG_PASSWORD}); a server answering on
 * 127.0.0.1:5432 (database {@code test}, user {@code postgres}); Testcontainers when Docker is
 * available. Otherwise the test fails with a message saying how to start one; it never skips.
 * Each test class gets its own schema.
 */
public final class TestPostgres {
  private static final String LOCAL_URL = "jdbc:postgresql://127.0.0.1:5432/test";
  private static final AtomicInteger SCHEMAS = new AtomicInteger();
  private static String url;
  private static String user;
  private static String password;
  private static Object container;

  private TestPostgres() {}

  public static synchronized String url() {
    if (url == null) {
      locate();
    }
    return url;
  }

  public static String user() {
    url();
    return user;
  }

  /** The password, or null (trust auth). */
  public static String password() {
    url();
    return password;
  }

  public static Connection connect() throws SQLException {
    Properties p = new Properties();
    if (user() != null) {
      p.setProperty("user", user());
    }
    if (password() != null) {
      p.setProperty("password", password());
    }
    return DriverManager.getConnection(url(), p);
  }

  /** Backends holding the session advisory lock {@code key} (PostgreSQL shows a bigint key as two 32-bit halves). */
  public static List<Integer> advisoryLockHolders(long key) throws SQLException {
    List<Integer> pids = new ArrayList<>();
    try (Connection c = connect(); PreparedStatement q = c.prepareStatement("SELECT pid FROM pg_locks "
        + "WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
        + "AND classid::bigint = ? AND objid::bigint = ? AND objsubid = 1")) {
      q.setLong(1, key >>> 32);
      q.setLong(2, key & 0xffffffffL);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          pids.add(rs.getInt(1));
        }
      }
    }
    return pids;
  }

  /** Creates a fresh, empty schema and returns its name. */
  public static String newSchema(String prefix) {
    String name = (prefix + "_" + ProcessHandle.current().pid() + "_" + SCHEMAS.incrementAndGet()).toLowerCase();
    try (Connection c = connect(); Statement st = c.createStatement()) {
      st.execute("DROP SCHEMA IF EXISTS " + name + " CASCADE");
      st.execute("CREATE SCHEMA " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("cannot create schema " + name + ": " + e.getMessage(), e);
    }
    return name;
  }

  private static void locate() {
    String envUrl = System.getenv("EVENTPROC_TEST_PG_URL");
    if (envUrl != null && !envUrl.isBlank()) {
      url = envUrl;
      user = System.getenv("EVENTPROC_TEST_PG_USER");
      password = System.getenv("EVENTPROC_TEST_PG_PASSWORD");
      check("EVENTPROC_TEST_PG_URL=" + envUrl);
      return;
    }
    url = LOCAL_URL;
    user = "postgres";
    password = null;
    if (answers()) {
      return;
    }
    if (dockerAvailable()) {
      startContainer();
      return;
    }
    throw new AssertionError("No PostgreSQL for the tests: nothing answers on 127.0.0.1:5432 and Docker is not available.\n"
        + "Start the local server:  pg_ctlcluster --skip-systemctl-redirect 15 main start\n"
        + "or point the tests at one:  export EVENTPROC_TEST_PG_URL=jdbc:postgresql://HOST:PORT/DB "
        + "(and EVENTPROC_TEST_PG_USER, EVENTPROC_TEST_PG_PASSWORD)\n"
        + "or start Docker, and Testcontainers will run postgres:15.");
  }

  private static boolean answers() {
    Properties p = new Properties();
    p.setProperty("user", user);
    p.setProperty("connectTimeout", "3");
    try (Connection c = DriverManager.getConnection(url, p)) {
      return c.isValid(3);
    } catch (SQLException e) {
      return false;
    }
  }

  private static void check(String source) {
    try (Connection c = connect()) {
      c.isValid(5);
    } catch (SQLException e) {
      throw new AssertionError("Cannot connect to the PostgreSQL of " + source + ": " + e.getMessage());
    }
  }

  private static boolean dockerAvailable() {
    try {
      return org.testcontainers.DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  @SuppressWarnings("resource")
  private static void startContainer() {
    org.testcontainers.containers.PostgreSQLContainer<?> pg = new org.testcontainers.containers.PostgreSQLContainer<>("postgres:15");
    pg.start();
    container = pg;
    url = pg.getJdbcUrl();
    user = pg.getUsername();
    password = pg.getPassword();
  }
}
