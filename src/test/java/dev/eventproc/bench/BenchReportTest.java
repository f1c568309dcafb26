package dev.eventproc.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Absolute targets in a bench report: verdicts, medians over runs, table and JSON. */
class BenchReportTest {
  @TempDir
  Path tmp;

  private static BenchReport run(double eventsPerSecond, double p99Millis) {
    BenchReport r = new BenchReport();
    r.target(new BenchTarget("e2e", "postgres: sustained rate", eventsPerSecond, 100_000, false, "events/s"));
    r.target(new BenchTarget("e2e", "postgres: p99 latency", p99Millis, 5000, true, "ms"));
    return r;
  }

  @Test
  void targetsAreJudgedInTheirDirection() {
    assertThat(new BenchTarget("e2e", "rate", 120_000, 100_000, false, "events/s").met()).isTrue();
    assertThat(new BenchTarget("e2e", "rate", 70_000, 100_000, false, "events/s").met()).isFalse();
    assertThat(new BenchTarget("e2e", "p99", 1_300, 5000, true, "ms").met()).isTrue();
    assertThat(new BenchTarget("e2e", "p99", 6_000, 5000, true, "ms").met()).isFalse();
    assertThat(new BenchTarget("e2e", "p99", Double.NaN, 5000, true, "ms").met()).isFalse();
  }

  @Test
  void theMedianOfRunsIsReportedWithVerdictsInTableAndJson() throws Exception {
    BenchReport median = BenchReport.median(List.of(run(60_000, 1_000), run(110_000, 7_000), run(120_000, 2_000)));
    assertThat(median.targets()).extracting(BenchTarget::measured).containsExactly(110_000.0, 2_000.0);
    String table = median.table();
    assertThat(table).contains("targets (absolute):")
        .containsPattern("postgres: sustained rate\\s+110,000 events/s\\s+goal >= 100,000\\s+meets")
        .containsPattern("postgres: p99 latency\\s+2,000 ms\\s+goal <= 5,000\\s+meets");
    Path json = tmp.resolve("results.json");
    median.writeJson(json, "test machine");
    assertThat(Files.readString(json)).contains("\"what\": \"postgres: p99 latency\", \"measured\": 2000.0, \"unit\": \"ms\", "
        + "\"bound\": 5000.0, \"at_most\": true, \"met\": true");
  }
}
