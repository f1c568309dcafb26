package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.CommitRecord;
import org.junit.jupiter.api.Test;

/** The verdicts of {@code eventproc status} that a test pipeline does not reach cheaply. */
class SinkStatusTest {
  private static final CheckpointState CP = new CheckpointState("q", 5, 4);

  @Test
  void aSinkAheadOfWhatTheCheckpointPlannedIsAFailNamingTheBatchesARestartWouldSkip() {
    SinkStatus s = SinkStatus.of("pg", "t", CommitRecord.batch(7), CP, true);
    assertThat(s.state()).isEqualTo(SinkStatus.State.AHEAD_OF_CHECKPOINT);
    assertThat(s.level().exitStatus()).isEqualTo(4);
    assertThat(s.verdict()).contains("batch 7 is committed in the sink, but the checkpoint planned batches only up to 5")
        .contains("A restart would plan batches 6..7 again");
  }

  @Test
  void aLedgerBehindTheCheckpointIsAFailAndAnotherSinkBehindIsEmptyBatches() {
    SinkStatus lost = SinkStatus.of("pg", "t", CommitRecord.batch(1), CP, true);
    assertThat(lost.state()).isEqualTo(SinkStatus.State.BEHIND_LOST);
    assertThat(lost.verdict()).startsWith("the sink is 3 batches behind: the checkpoint records batches 2..4 as done");
    SinkStatus empty = SinkStatus.of("delta", "t", CommitRecord.batch(3), CP, false);
    assertThat(empty.state()).isEqualTo(SinkStatus.State.BEHIND_EMPTY);
    assertThat(empty.level()).isEqualTo(SinkStatus.Level.OK);
  }

  @Test
  void aBatchCommittedInPartIsNamedAndAPlannedBatchIsWrittenByTheNextRun() {
    SinkStatus s = SinkStatus.of("pg", "t", new CommitRecord(4, null, 10, "batch 5 is committed in part: 2 of its 4 slices"), CP, true);
    assertThat(s.state()).isEqualTo(SinkStatus.State.IN_STEP);
    assertThat(s.verdict()).contains("Batch 5 is planned and not committed anywhere yet")
        .contains("In part: batch 5 is committed in part: 2 of its 4 slices (the next run finishes it).");
  }
}
