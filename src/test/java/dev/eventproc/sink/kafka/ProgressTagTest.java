package dev.eventproc.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ProgressTagTest {
  @Test
  void roundTripsAndReadsTheOlderPartitionsOnlyFormat() {
    ProgressTag whole = new ProgressTag(3, "a-1", 42, 66, -1);
    assertThat(ProgressTag.parse(whole.encode())).isEqualTo(whole);
    assertThat(whole.partial()).isFalse();
    ProgressTag part = new ProgressTag(3, "a-1", 42, 66, 17);
    assertThat(ProgressTag.parse(part.encode())).isEqualTo(part);
    assertThat(part.partial()).isTrue();
    assertThat(ProgressTag.parse("partitions=2;attempt=x;rows=5")).isEqualTo(new ProgressTag(2, "x", 5, -1, -1));
    assertThat(ProgressTag.parse("partitions=2")).isEqualTo(new ProgressTag(2, "", 0, -1, -1));
    assertThat(ProgressTag.parse(null)).isEqualTo(new ProgressTag(-1, "", 0, -1, -1));
  }

  @Test
  void unreadableNumbersNameTheField() {
    assertThatThrownBy(() -> ProgressTag.parse("partitions=x;rows=1")).hasMessageContaining("partitions=x");
  }
}
