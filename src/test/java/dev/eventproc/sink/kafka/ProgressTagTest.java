package dev.eventproc.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProgressTagTest {
  @Test
  void roundTripsAndReadsTheOlderPartitionsOnlyFormat() {
    ProgressTag whole = new ProgressTag(3, "a-1", 42, 66, -1, -1);
    assertThat(ProgressTag.parse(whole.encode())).isEqualTo(whole);
    assertThat(whole.partial()).isFalse();
    ProgressTag part = new ProgressTag(3, "a-1", 42, 66, 17, -1);
    assertThat(ProgressTag.parse(part.encode())).isEqualTo(part);
    assertThat(part.partial()).isTrue();
    assertThat(ProgressTag.parse("partitions=2;attempt=x;rows=5")).isEqualTo(new ProgressTag(2, "x", 5, -1, -1, -1));
    assertThat(ProgressTag.parse("partitions=2")).isEqualTo(new ProgressTag(2, "", 0, -1, -1, -1));
    assertThat(ProgressTag.parse(null)).isEqualTo(new ProgressTag(-1, "", 0, -1, -1, -1));
  }

  @Test
  void theNextBatchNamesTheLastBatchThatWroteRecords() {
    ProgressTag wrote = new ProgressTag(1, "a", 5, 8, -1, 3);
    assertThat(ProgressTag.parse(wrote.encode()).previous()).isEqualTo(3);
    assertThat(wrote.previousOf(7, 7)).as("batch 6 wrote records").isEqualTo(6);
    ProgressTag empty = new ProgressTag(1, "a", 0, 8, -1, 4);
    assertThat(empty.previousOf(7, 7)).as("batch 6 wrote none: what it named").isEqualTo(4);
    ProgressTag part = new ProgressTag(1, "a", 5, 8, 3, 4);
    assertThat(part.previousOf(7, 7)).as("batch 7 resumed: what its first transactions named").isEqualTo(4);
  }

  @Test
  void unreadableNumbersNameTheField() {
    assertThatThrownBy(() -> ProgressTag.parse("partitions=x;rows=1")).hasMessageContaining("partitions=x");
  }
}
