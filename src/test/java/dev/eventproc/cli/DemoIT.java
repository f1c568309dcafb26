package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.TestSpark;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** README's first command, as a newcomer runs it: the demo in its own JVM ends with PASS. */
class DemoIT {
  @Test
  void demoEndsWithPassAfterItsCrashAndRestart() throws Exception {
    Path dir = TestSpark.newDir("demo");
    Path root = Path.of("").toAbsolutePath();
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(Arrays.asList(System.getProperty("eventproc.test.jvmFlags", "").trim().split("\\s+")));
    cmd.addAll(List.of("-Xmx1g", "-XX:+UseParallelGC", "-XX:TieredStopAtLevel=1",
        "-Dlog4j2.configurationFile=" + root.resolve("bin/log4j2.properties"),
        "-cp", root.resolve("target/classes") + File.pathSeparator + Files.readString(root.resolve("target/eventproc.classpath")).trim(),
        "dev.eventproc.cli.Main", "demo", "--events", "3000", "--batch-size", "1000", "--dir", dir.resolve("work").toString()));
    Path log = dir.resolve("demo.log");
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    Process p = pb.start();
    boolean ended = p.waitFor(5, TimeUnit.MINUTES);
    if (!ended) {
      p.destroyForcibly();
    }
    String out = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(ended).as("demo ended in time; output:\n%s", out).isTrue();
    assertThat(p.exitValue()).as("demo exit status; output:\n%s", out).isZero();
    assertThat(out).contains("crashed as planned: injected fault after-commit@2/payments:throw")
        .contains("replayed batches skipped by the sink: 1")
        .contains("PASS: every payment exactly once, totals match, reconciliation passes.")
        .containsPattern("PASS +payments +duplicate_keys").containsPattern("PASS +payments +delta_txn_duplicates")
        .doesNotContain(" x ");
  }
}
