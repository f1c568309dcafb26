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
    r.target(new BenchTarget("e2e", "postgres: sustained rate", eventsPerSecond,
        EndToEndBench.minEventsPerSecond(EndToEndBench.Target.POSTGRES), false, "events/s"));
    r.target(new BenchTarget("e2e", "postgres: p99 latency", p99Millis, EndToEndBench.P99_BELOW_MS, true, true, "ms"));
    return r;
  }

  @Test
  void targetsAreJudgedInTheirDirection() {
    assertThat(new BenchTarget("e2e", "rate", 120_000, 100_000, false, "events/s").met()).isTrue();
    assertThat(new BenchTarget("e2e", "rate", 70_000, 100_000, false, "events/s").met()).isFalse();
    assertThat(new BenchTarget("e2e", "p99", 1_300, 5000, true, "ms").met()).isTrue();
    assertThat(new BenchTarget("e2e", "p99", 6_000, 5000, true, "ms").met()).isFalse();
    assertThat(new BenchTarget("e2e", "p99", Double.NaN, 5000, true, "ms").met()).isFalse();
    assertThat(new BenchTarget("e2e", "p99", 2_000, 2_000, true, "ms").met()).isTrue();
    assertThat(new BenchTarget("e2e", "p99", 2_000, 2_000, true, true, "ms").met()).isFalse();
    assertThat(new BenchTarget("e2e", "p99", 1_999, 2_000, true, true, "ms").met()).isTrue();
  }

  @Test
  void theMedianOfRunsIsReportedWithVerdictsInTableAndJson() throws Exception {
    BenchReport median = BenchReport.median(List.of(run(60_000, 1_000), run(125_000, 7_000), run(120_000, 1_500)));
    assertThat(median.targets()).extracting(BenchTarget::measured).containsExactly(120_000.0, 1_500.0);
    String table = median.table();
    assertThat(table).contains("targets (absolute):")
        .containsPattern("postgres: sustained rate\\s+120,000 events/s\\s+goal >= 120,000\\s+meets")
        .containsPattern("postgres: p99 latency\\s+1,500 ms\\s+goal < 2,000\\s+meets");
    assertThat(BenchReport.median(List.of(run(110_000, 2_000))).table())
        .containsPattern("postgres: sustained rate\\s+110,000 events/s\\s+goal >= 120,000\\s+MISSES")
        .containsPattern("postgres: p99 latency\\s+2,000 ms\\s+goal < 2,000\\s+MISSES");
    Path json = tmp.resolve("results.json");
    median.writeJson(json, "test machine");
    assertThat(Files.readString(json)).contains("\"what\": \"postgres: p99 latency\", \"measured\": 1500.0, \"unit\": \"ms\", "
        + "\"bound\": 2000.0, \"at_most\": true, \"strict\": true, \"met\": true");
  }
}
