package dev.eventproc.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BenchChartTest {
  @TempDir
  Path tmp;

  @Test
  void drawsThePngOfTheGoalRatios() throws Exception {
    BenchReport r = new BenchReport();
    r.add(new BenchResult("kafka", "spark sink", 1000, 2.0, "baseline"));
    r.add(new BenchResult("kafka", "eventproc", 1000, 1.0, "ours"));
    r.goal(new BenchGoal("kafka", "eventproc", "spark sink", 1.0, "at least as fast"));
    Path png = tmp.resolve("out/ratios.png");
    assertThat(BenchChart.write(r, png, "test")).isTrue();
    byte[] bytes = Files.readAllBytes(png);
    assertThat(bytes.length).isGreaterThan(2000);
    assertThat(new String(bytes, 1, 3, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("PNG");
    assertThat(r.ratio(r.goals().get(0))).isEqualTo(2.0);
  }

  @Test
  void writesNothingWithoutAMeasuredGoal() throws Exception {
    BenchReport r = new BenchReport();
    r.goal(new BenchGoal("kafka", "eventproc", "spark sink", 1.0, "not run"));
    assertThat(BenchChart.write(r, tmp.resolve("none.png"), "test")).isFalse();
    assertThat(tmp.resolve("none.png")).doesNotExist();
  }
}
