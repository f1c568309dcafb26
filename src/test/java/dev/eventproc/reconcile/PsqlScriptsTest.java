package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.Psql;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The PostgreSQL checks run unchanged by {@code psql -v ... -f}, as README shows: sql/postgres/reconcile/selftest.sh
 * loads clean and faulty data into a scratch database and checks every PASS and FAIL.
 */
class PsqlScriptsTest {
  @Test
  void theSelfTestPassesWithPsql() throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "sql/postgres/reconcile/selftest.sh").redirectErrorStream(true);
    // The server TestPostgres found (it fails with how to start PostgreSQL when there is none), not a fixed host.
    Psql.useTestServer(pb.environment());
    // A scratch database of this run's own: another test JVM on the same server must not drop it mid-run.
    pb.environment().put("RECONCILE_DB", "reconcile_scratch_" + ProcessHandle.current().pid());
    File log = File.createTempFile("psql-selftest", ".log");
    pb.redirectOutput(log);
    Process p = pb.start();
    boolean ended = p.waitFor(5, TimeUnit.MINUTES);
    String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
    assertThat(ended).as("selftest ended; output:\n%s", out).isTrue();
    assertThat(p.exitValue()).as("selftest exit status; output:\n%s", out).isZero();
    assertThat(out).containsPattern("== [1-9][0-9]* expectations, 0 failed");
  }
}
