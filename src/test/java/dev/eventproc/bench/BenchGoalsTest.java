package dev.eventproc.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The bench judges by issue 18's goals, not looser ones (each figure as the issue states it). */
class BenchGoalsTest {
  @Test
  void goalsAreTheIssues() {
    assertThat(StageBench.GOAL_VS_SPARK_DEDUPE).isEqualTo(0.9);
    assertThat(PostgresBench.GOAL_VS_RAW_COPY).isEqualTo(0.9);
    assertThat(KafkaBench.GOAL_VS_RAW_PRODUCER).isEqualTo(0.8);
    assertThat(EndToEndBench.minEventsPerSecond(EndToEndBench.Target.POSTGRES)).isEqualTo(120_000);
    assertThat(EndToEndBench.minEventsPerSecond(EndToEndBench.Target.DELTA)).isEqualTo(60_000);
    assertThat(EndToEndBench.P99_BELOW_MS).isEqualTo(2000);
  }

  @Test
  void aRatioJustUnderAnIssueGoalMisses() {
    BenchReport r = new BenchReport();
    r.add(new BenchResult("stage", "eventproc dedupe-latest", 899, 1.0, ""));
    r.add(new BenchResult("stage", "dropDuplicatesWithinWatermark", 1000, 1.0, ""));
    r.goal(new BenchGoal("stage", "eventproc dedupe-latest", "dropDuplicatesWithinWatermark", StageBench.GOAL_VS_SPARK_DEDUPE, ""));
    assertThat(r.table()).contains("0.899x").contains("goal >= 0.900x").contains("MISSES");
  }
}
