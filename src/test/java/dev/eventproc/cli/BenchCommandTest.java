package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** Option parsing of {@code eventproc bench} (no benchmark runs here). */
class BenchCommandTest {
  private static BenchCommand parse(String... args) {
    BenchCommand c = new BenchCommand();
    new CommandLine(c).parseArgs(args);
    return c;
  }

  @Test
  void warmUpIsOnByDefaultAndNoWarmupTurnsItOff() {
    assertThat(parse().warmup).isTrue();
    assertThat(parse("--no-warmup").warmup).isFalse();
    assertThat(parse("--warmup").warmup).isTrue();
  }

  @Test
  void defaultsRunEveryCaseIncludingEndToEnd() {
    BenchCommand c = parse();
    assertThat(c.cases).containsExactly("postgres", "delta", "iceberg", "kafka", "stage", "e2e");
    assertThat(c.e2eRate).isEqualTo(20_000);
    assertThat(parse("--cases", "e2e", "--e2e-seconds", "0").cases).isEqualTo(List.of("e2e"));
  }

  @Test
  void theScaleCaseRunsOnlyWhenAskedAndRefusesTinySizesNamingTheOption() {
    assertThat(parse().scaleEvents).containsExactly(1_000_000L, 5_000_000L, 20_000_000L);
    assertThat(parse("--cases", "scale", "--scale-events", "20000,60000").scaleEvents).containsExactly(20_000L, 60_000L);
    assertThat(BenchCases.refuseScaleSizes(List.of(20_000L, 60_000L))).isNull();
    assertThat(BenchCases.refuseScaleSizes(List.of(20_000L, 500L)))
        .isEqualTo("scale: --scale-events must list sizes of at least 10000 events, got [20000, 500]");
  }

  @Test
  void theEndToEndCaseRunsBothSinksByDefaultOrTheNamedOnes() {
    assertThat(parse().e2eSinks).containsExactly("postgres", "delta");
    assertThat(parse("--e2e-sinks", "postgres").e2eSinks).containsExactly("postgres");
    assertThat(BenchCases.refuseEndToEndSinks(List.of("delta", "postgres"))).isNull();
    assertThat(BenchCases.refuseEndToEndSinks(List.of("postgres", "iceberg")))
        .isEqualTo("e2e: --e2e-sinks must list postgres and/or delta, got [postgres, iceberg]");
  }

  @Test
  void theDeltaCurveRunsOnlyWhenAskedWithTheIssuesSizesByDefault() {
    BenchCommand c = parse("--cases", "delta-curve");
    assertThat(c.cases).containsExactly("delta-curve");
    assertThat(c.curveSizes).containsExactly(1_000_000L, 5_000_000L, 10_000_000L);
    assertThat(c.curveBatchKeys).isEqualTo(100_000);
    assertThat(c.curveRounds).isEqualTo(2);
    assertThat(c.curveDeletionVectors).isTrue();
    assertThat(parse("--no-curve-deletion-vectors").curveDeletionVectors).isFalse();
    assertThat(parse("--curve-sizes", "1000000,2000000", "--curve-deletion-vectors").curveSizes).containsExactly(1_000_000L, 2_000_000L);
  }
}
