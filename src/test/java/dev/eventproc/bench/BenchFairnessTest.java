package dev.eventproc.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The bench's own honesty: failures are failures, verdicts match the printed figure, variants alternate order. */
class BenchFairnessTest {
  @Test
  void aCaseThatFailedMakesTheReportFailedAndSaysWhichInTheMedian() {
    BenchReport ok = new BenchReport();
    BenchReport broken = new BenchReport();
    broken.fail("postgres: failed: connection refused");
    assertThat(ok.failed()).isFalse();
    assertThat(broken.failed()).isTrue();
    BenchReport median = BenchReport.median(List.of(ok, broken));
    assertThat(median.failed()).isTrue();
    assertThat(median.table()).contains("postgres: failed: connection refused");
  }

  @Test
  void aRatioJustBelowItsGoalIsPrintedSoThatTheVerdictCanBeReadOffIt() {
    BenchReport r = new BenchReport();
    r.add(new BenchResult("stage", "ours", 699, 1.0, ""));
    r.add(new BenchResult("stage", "theirs", 1000, 1.0, ""));
    r.goal(new BenchGoal("stage", "ours", "theirs", 0.7, "ours >= 0.7x theirs"));
    assertThat(r.table()).contains("0.699x").contains("goal >= 0.700x").contains("MISSES").doesNotContain("0.70x");
  }

  @Test
  void repeatsRunTheVariantsInAbbaOrder() throws Exception {
    List<String> seen = new ArrayList<>();
    for (int run = 0; run < 4; run++) {
      Variants v = Variants.forRun(run);
      v.add("A", () -> seen.add("A"));
      v.add("B", () -> seen.add("B"));
      v.add("C", () -> seen.add("C"));
      v.runAll();
    }
    assertThat(String.join("", seen)).isEqualTo("ABC" + "CBA" + "CBA" + "ABC");
    assertThat(Variants.describe(3)).contains("ABBA");
  }
}
