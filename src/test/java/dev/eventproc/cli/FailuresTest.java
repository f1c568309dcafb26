package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/** The one-line failure the CLI prints never shows a password that an exception's message carries in a URL. */
class FailuresTest {
  @Test
  void urlPasswordsInAnyMessageOfTheChainAreMasked() {
    SQLException pg = new SQLException("Unable to parse URL jdbc:postgresql://db:5432?user=app&password=50%off", "99999");
    RuntimeException e = new RuntimeException("sink pg: failed to connect", new IllegalStateException("wrapped", pg));
    assertThat(Failures.describe(e)).contains("Unable to parse URL jdbc:postgresql://db:5432?user=app&password=******")
        .doesNotContain("50%off");
    assertThat(Failures.describe(new RuntimeException("s3a://AKID:se/cr@t@bucket/x not found"))).doesNotContain("se/cr");
  }
}
