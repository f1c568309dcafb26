package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

class DemoOptionsTest {
  @Test
  void tooFewEventsForThePlannedCrashAreRefusedUpFront() {
    picocli.CommandLine cl = Main.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    assertThat(cl.execute("demo", "--events", "3000", "--batch-size", "4000")).isNotZero();
    assertThat(err.toString()).contains("--events 3000 with --batch-size 4000 gives fewer than 3 batches")
        .contains("Raise --events above 8000");
  }
}
