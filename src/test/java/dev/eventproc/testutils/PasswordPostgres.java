package dev.eventproc.testutils;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * A PostgreSQL server that checks passwords (scram-sha-256), for tests of wrong credentials: the
 * shared test server may use trust auth, which accepts any password.
 *
 * <p>Uses {@code EVENTPROC_TEST_PG_PASSWORD_URL} + {@code _USER} + {@code _PASSWORD} when set. Otherwise
 * it makes a private cluster with the machine's PostgreSQL binaries ({@code initdb}, {@code pg_ctl}),
 * run as the {@code postgres} user when the tests run as root, on a free loopback port (another one when
 * that port is taken before the server binds it); stopped by {@link #close()}. When neither is possible
 * the test fails with a message saying what to provide.
 */
public final class PasswordPostgres implements AutoCloseable {
  private final String url;
  private final String user;
  private final String password;
  private final Path dataDir;
  private final String pgCtl;
  /** Starts tried when the port was taken between its probe and the server's bind. */
  private static final int START_ATTEMPTS = 5;

  private PasswordPostgres(String url, String user, String password, Path dataDir, String pgCtl) {
    this.url = url;
    this.user = user;
    this.password = password;
    this.dataDir = dataDir;
    this.pgCtl = pgCtl;
  }

  public static PasswordPostgres start() throws Exception {
    String envUrl = System.getenv("EVENTPROC_TEST_PG_PASSWORD_URL");
    if (envUrl != null && !envUrl.isBlank()) {
      return new PasswordPostgres(envUrl, System.getenv("EVENTPROC_TEST_PG_PASSWORD_USER"),
          System.getenv("EVENTPROC_TEST_PG_PASSWORD_PASSWORD"), null, null);
    }
    return startCluster(PasswordPostgres::freePort);
  }

  /**
   * A private cluster on ports from {@code ports}: a port probed free can be bound by another process
   * before the server binds it, so a start that finds its port taken tries the next one.
   */
  static PasswordPostgres startCluster(IntSupplier ports) throws Exception {
    Path bin = binDir();
    if (bin == null) {
      throw new AssertionError("No PostgreSQL binaries (initdb, pg_ctl) under /usr/lib/postgresql/*/bin to start a server "
          + "that checks passwords. Install them, or set EVENTPROC_TEST_PG_PASSWORD_URL, _USER and _PASSWORD to a "
          + "server with password authentication.");
    }
    boolean root = "root".equals(System.getProperty("user.name"));
    Path dir = Files.createTempDirectory("eventproc-pgpw-");
    Path data = dir.resolve("data");
    Path pwfile = dir.resolve("pw");
    String password = "right-" + Long.toHexString(System.nanoTime());
    Files.writeString(pwfile, password + "\n", StandardCharsets.UTF_8);
    if (root) {
      run(List.of("chown", "-R", "postgres:postgres", dir.toString()));
    }
    run(asUser(root, bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "eventproc", "-A", "scram-sha-256",
        "--pwfile=" + pwfile, "-E", "UTF8"));
    String pgCtl = bin.resolve("pg_ctl").toString();
    for (int attempt = 1; ; attempt++) {
      int port = ports.getAsInt();
      Path log = dir.resolve("log-" + attempt);
      String out = exec(asUser(root, pgCtl, "-D", data.toString(), "-w", "-t", "60", "-l", log.toString(), "-o",
          "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "start"));
      if (out == null) {
        return new PasswordPostgres("jdbc:postgresql://127.0.0.1:" + port + "/postgres", "eventproc", password, data, pgCtl);
      }
      String serverLog = Files.exists(log) ? Files.readString(log, StandardCharsets.UTF_8) : "";
      // The server's own words are all there is to tell a taken port from other failures.
      if (attempt >= START_ATTEMPTS || !serverLog.contains("Address already in use")) {
        throw new AssertionError("pg_ctl start on port " + port + " failed:\n" + out + "\n" + serverLog);
      }
    }
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String url() {
    return url;
  }

  public String user() {
    return user;
  }

  public String password() {
    return password;
  }

  @Override
  public void close() throws Exception {
    if (dataDir != null) {
      boolean root = "root".equals(System.getProperty("user.name"));
      run(asUser(root, pgCtl, "-D", dataDir.toString(), "-m", "immediate", "stop"));
    }
  }

  private static Path binDir() {
    Path base = Path.of("/usr/lib/postgresql");
    if (!Files.isDirectory(base)) {
      return null;
    }
    try (var versions = Files.list(base)) {
      return versions.map(v -> v.resolve("bin")).filter(b -> Files.isExecutable(b.resolve("initdb")))
          .sorted().reduce((a, b) -> b).orElse(null);
    } catch (IOException e) {
      return null;
    }
  }

  private static List<String> asUser(boolean root, String... cmd) {
    List<String> out = new ArrayList<>();
    if (root) {
      out.addAll(List.of("runuser", "-u", "postgres", "--"));
    }
    out.addAll(List.of(cmd));
    return out;
  }

  private static void run(List<String> cmd) throws Exception {
    String out = exec(cmd);
    if (out != null) {
      throw new AssertionError("command failed: " + String.join(" ", cmd) + "\n" + out);
    }
  }

  /** Runs a command; null when it succeeded, else its output. */
  private static String exec(List<String> cmd) throws Exception {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0 ? null : out;
  }
}
