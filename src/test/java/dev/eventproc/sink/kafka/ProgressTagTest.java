package dev.eventproc.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProgressTagTest {
  @Test
  void roundTripsAndReadsTheOlderPartitionsOnlyFormat() {
    ProgressTag tag = new ProgressTag(3, "a-1", 42);
    assertThat(ProgressTag.parse(tag.encode())).isEqualTo(tag);
    assertThat(ProgressTag.parse("partitions=2")).isEqualTo(new ProgressTag(2, "", 0));
    assertThat(ProgressTag.parse(null)).isEqualTo(new ProgressTag(-1, "", 0));
  }

  @Test
  void unreadableNumbersNameTheField() {
    assertThatThrownBy(() -> ProgressTag.parse("partitions=x;rows=1")).hasMessageContaining("partitions=x");
  }
}
