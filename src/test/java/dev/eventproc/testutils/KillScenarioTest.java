package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The evidence {@link KillScenario} reads from a child's log, and the seed in its failures. No child JVM. */
class KillScenarioTest {
  private static final String LOG = """
      14:50:01 INFO  AbstractBatchSink: sink=orders_quarantine target=/t/q batch=0: committed, rows in=2 written=2 ignored=0 in 80 ms
      14:50:02 INFO  AbstractBatchSink: sink=orders target=/t/table batch=0: already committed by this writer, skipped (a replay after restart), rows in=210
      14:50:03 INFO  AbstractBatchSink: sink=orders target=/t/table batch=1: committed, rows in=205 written=190 ignored=15 in 900 ms
      14:50:04 WARN  FaultInjection: injected fault after-commit@2/orders:pause at after-commit of sink orders batch 2: pausing until killed
      """;

  @Test
  void readsOneSinksProgressLinesAndTheHeldCommit() {
    ChildLog orders = ChildLog.of(LOG, "orders");
    assertThat(orders.skipped()).containsExactly(0L);
    assertThat(orders.committed()).containsExactly(1L);
    assertThat(orders.heldAfterCommit()).containsExactly(2L);
    assertThat(orders.lastBatch()).isEqualTo(2);
    ChildLog quarantine = ChildLog.of(LOG, "orders_quarantine");
    assertThat(quarantine.committed()).containsExactly(0L);
    assertThat(quarantine.heldAfterCommit()).isEmpty();
    assertThat(ChildLog.of(LOG, "order").hadWork()).as("a prefix of a sink's name is another sink").isFalse();
  }

  /** What a kill before the first commit looks like: the run only replayed, or did nothing at all. */
  @Test
  void aKillBeforeTheRunCommittedFailsWithTheSeed() {
    String replayOnly = LOG.lines().filter(l -> l.contains("skipped")).findFirst().orElseThrow();
    for (String log : List.of("", replayOnly)) {
      assertThatThrownBy(() -> KillScenario.withSeed(42, List.of("run 1"),
          () -> KillScenario.assertCommittedBeforeKill(1, "orders", ChildLog.of(log, "orders"), log)))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("crash seed 42 (repeat with -Dcrash.seed=42)")
          .hasMessageContaining("run 1 committed a batch of sink orders before its kill -9");
    }
  }

  @Test
  void anyFailureOfTheScenarioOrItsOracleNamesTheSeed() {
    assertThatThrownBy(() -> KillScenario.withSeed(7, List.of(), () -> assertThat(1).as("oracle").isEqualTo(2)))
        .hasMessageStartingWith("crash seed 7 (repeat with -Dcrash.seed=7): [oracle]");
    assertThatThrownBy(() -> KillScenario.withSeed(7, List.of(), () -> {
      throw new SQLException("connection refused");
    })).isInstanceOf(AssertionError.class).hasMessageContaining("crash seed 7").hasMessageContaining("connection refused");
  }
}
