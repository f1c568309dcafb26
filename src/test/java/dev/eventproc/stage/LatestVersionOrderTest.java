package dev.eventproc.stage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.testutils.TestSpark;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * {@link LatestVersion#apply} orders by integers, timestamps, dates and (for library callers, as
 * always) strings. A fractional version was compared as a whole number: 1.2 and 1.5 tied, so the newer
 * row could lose to the older one on the whole-row tie-break, and a later 1.9 was dropped as a duplicate of
 * a state holding 1. Such columns are refused before the query starts, naming the column and its type.
 */
class LatestVersionOrderTest {
  private static final Duration DELAY = Duration.ofHours(1);

  private static Dataset<Row> input() {
    return TestSpark.session().sql("SELECT 'a' AS id, CAST(1.5 AS DOUBLE) AS fraction, CAST(2.25 AS DECIMAL(10,2)) AS amount, "
        + "7L AS number, '10' AS text, TIMESTAMP'2026-01-01 00:00:00' AS event_time");
  }

  @Test
  void aFractionalVersionOrTiebreakIsRefusedNotTruncated() {
    assertThatThrownBy(() -> LatestVersion.apply(input(), List.of("id"), "fraction", null, "event_time", DELAY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fraction").hasMessageContaining("double");
    assertThatThrownBy(() -> LatestVersion.apply(input(), List.of("id"), "number", "amount", "event_time", DELAY))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("amount").hasMessageContaining("decimal(10,2)");
  }

  @Test
  void integralAndStringOrdersAreTaken() {
    assertThat(LatestVersion.apply(input(), List.of("id"), "number", "text", "event_time", DELAY).columns())
        .containsExactly("id", "fraction", "amount", "number", "text", "event_time");
  }
}
