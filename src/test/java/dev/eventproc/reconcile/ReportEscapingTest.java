package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.reconcile.Reconciler.Result;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Key values and messages that reach a report come from data and from other systems (issue 22): ANSI
 * escapes and other control characters must not reach the terminal, Markdown and HTML must not reach
 * reconcile.md as markup, and a URL's password must reach no report. The psql self-test quotes the
 * database name it creates and drops.
 */
class ReportEscapingTest {
  @TempDir
  Path tmp;

  private static final String ANSI = "\u001b[2J\u001b[31mFAKE PASS\u001b[0m\r";
  private static final String MARKUP = "a | b <img src=x onerror=alert(1)> [click](http://evil.example) **bold** `code` _em_ snake_case";
  private static final String URL = "could not run the checks: Unable to parse URL jdbc:postgresql://db?user=a&password=p/q@r s";

  private static ReconcileReport report() {
    return new ReconcileReport("payments", Instant.parse("2026-01-01T00:00:00Z"), List.of(
        new Result("pg", "public.t", "duplicate_keys", "FAIL", "key-" + ANSI, "2 keys " + MARKUP),
        new Result("pg", "public.t", "run", "ERROR", "", URL)));
  }

  @Test
  void theTerminalTableShowsControlCharactersEscaped() {
    String table = report().table();
    assertThat(table.chars().anyMatch(c -> Character.isISOControl(c) && c != '\n'))
        .as("no control character but line ends: %s", table).isFalse();
    assertThat(table).contains("\\u001b[31mFAKE PASS").doesNotContain("p/q@r s").contains("password=******");
  }

  @Test
  void theMarkdownReportShowsMarkupAsText() throws Exception {
    Path md = tmp.resolve("reconcile.md");
    report().writeMarkdown(md);
    String text = Files.readString(md);
    String rows = text.substring(text.indexOf("|---|"));
    assertThat(rows).doesNotContain("<img").doesNotContain("\u001b").doesNotContain("](http").doesNotContain("**bold**")
        .doesNotContain("p/q@r s").contains("&lt;img").contains("\\_em\\_ snake_case");
    for (String line : rows.split("\n")) {
      assertThat(line.replace("\\|", "").chars().filter(c -> c == '|').count()).as(line).isEqualTo(7);
    }
  }

  @Test
  void theJsonReportHoldsNoUrlPassword() throws Exception {
    Path json = tmp.resolve("reconcile.json");
    report().writeJson(json);
    assertThat(Files.readString(json)).doesNotContain("p/q@r s").contains("password=******");
  }

  @Test
  void theSelfTestRefusesADatabaseNameItWouldHaveToQuote() throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", "sql/postgres/reconcile/selftest.sh").redirectErrorStream(true);
    pb.environment().put("RECONCILE_DB", "scratch; DROP DATABASE postgres; --");
    pb.environment().put("PGHOST", "127.0.0.1");
    pb.environment().put("PGPORT", "1"); // nothing listens: the name must be refused before any connection
    File log = File.createTempFile("selftest-name", ".log");
    pb.redirectOutput(log);
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String out = Files.readString(log.toPath(), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(out).isNotZero();
    assertThat(out).contains("RECONCILE_DB").contains("not a plain database name");
  }
}
