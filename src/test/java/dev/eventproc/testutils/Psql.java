package dev.eventproc.testutils;

import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs the real {@code psql} against the test server, as README tells users to: {@code psql -v k=v -f file}. */
public final class Psql {
  private Psql() {}

  /**
   * Points a libpq client's environment at the server {@link TestPostgres} found (host, port, database,
   * user, password), whatever PG* variables the environment held.
   */
  public static void useTestServer(Map<String, String> env) {
    URI u = URI.create(TestPostgres.url().substring("jdbc:".length()));
    env.put("PGHOST", u.getHost());
    env.put("PGPORT", String.valueOf(u.getPort() < 0 ? 5432 : u.getPort()));
    env.put("PGDATABASE", u.getPath().substring(1));
    if (TestPostgres.user() != null) {
      env.put("PGUSER", TestPostgres.user());
    }
    if (TestPostgres.password() != null) {
      env.put("PGPASSWORD", TestPostgres.password());
    }
  }

  /** Runs a file with variables; returns stdout; fails the test (with psql's output) on a non-zero exit. */
  public static String run(Path file, Map<String, String> vars) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1"));
    URI u = URI.create(TestPostgres.url().substring("jdbc:".length()));
    cmd.addAll(List.of("-h", u.getHost(), "-p", String.valueOf(u.getPort() < 0 ? 5432 : u.getPort()), "-d", u.getPath().substring(1)));
    if (TestPostgres.user() != null) {
      cmd.addAll(List.of("-U", TestPostgres.user()));
    }
    vars.forEach((k, v) -> cmd.addAll(List.of("-v", k + "=" + v)));
    cmd.addAll(List.of("-f", file.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    if (TestPostgres.password() != null) {
      pb.environment().put("PGPASSWORD", TestPostgres.password());
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      throw new AssertionError("psql is not installed (the SQL files are meant to run with it): install the PostgreSQL "
          + "client, e.g. apt-get install postgresql-client. " + e.getMessage());
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("psql -f " + file + " failed:\n" + out);
    }
    return out;
  }
}
