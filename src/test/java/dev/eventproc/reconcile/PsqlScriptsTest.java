package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.TestPostgres;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL checks run unchanged by {@code psql -v ... -f}, as README shows: sql/postgres/reconcile/selftest.sh
 * loads clean and faulty data into a scratch database and checks every PASS and FAIL.
 */
class PsqlScriptsTest {
  @Test
  void theSelfTestPassesWithPsql() throws Exception {
    TestPostgres.url(); // fails with how to start PostgreSQL when it is down
    ProcessBuilder pb = new ProcessBuilder("bash", "sql/postgres/reconcile/selftest.sh").redirectErrorStream(true);
    pb.environment().putIfAbsent("PGHOST", "127.0.0.1");
    pb.environment().putIfAbsent("PGPORT", "5432");
    pb.environment().putIfAbsent("PGUSER", "postgres");
    File log = File.createTempFile("psql-selftest", ".log");
    pb.redirectOutput(log);
    Process p = pb.start();
    boolean ended = p.waitFor(5, TimeUnit.MINUTES);
    String out = java.nio.file.Files.readString(log.toPath(), StandardCharsets.UTF_8);
    assertThat(ended).as("selftest ended; output:\n%s", out).isTrue();
    assertThat(p.exitValue()).as("selftest exit status; output:\n%s", out).isZero();
    assertThat(out).containsPattern("== [1-9][0-9]* expectations, 0 failed");
  }
}
