package dev.eventproc.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.TestSpark;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/** A batch's counts in one job agree with the parts the sinks are given. */
class ParsedEventsCensusTest {
  private final SparkSession spark = TestSpark.session();

  @Test
  void theCensusCountsTheQuarantinedTheSinksRowsAndTheDropsAsThePartsHoldThem() {
    Dataset<Row> batch = spark.sql("SELECT * FROM VALUES "
        + "('a', CAST(NULL AS STRING), CAST(NULL AS BIGINT), CAST(NULL AS STRING), CAST(NULL AS STRING)), "
        + "('b', NULL, NULL, NULL, NULL), ('c', NULL, NULL, NULL, NULL), (NULL, NULL, NULL, NULL, NULL), "
        + "(NULL, 'malformed-json', NULL, '{x', 'f@1'), (NULL, 'malformed-json', NULL, NULL, 'f@2'), "
        + "(NULL, NULL, 2L, NULL, NULL), (NULL, NULL, 3L, NULL, NULL) "
        + "AS t(id, " + EventStream.REASON + ", " + ParsedEvents.DROPPED + ", " + EventStream.RAW + ", " + EventStream.POSITION + ")");
    // Keys the batch lacks (batch_id is added to quarantined rows later) are left out.
    ParsedEvents.Census census = ParsedEvents.census(batch, List.of("id"), List.of(EventStream.RAW, "batch_id"));
    assertThat(census).isEqualTo(new ParsedEvents.Census(2, 1, 4, 1, 5));
    assertThat(census.main()).isEqualTo(ParsedEvents.mainRows(batch).count());
    assertThat(census.mainNullKeys()).isEqualTo(ParsedEvents.mainRows(batch).filter("id IS NULL").count());
    assertThat(census.quarantined()).isEqualTo(ParsedEvents.quarantineRows(batch).count());
    assertThat(census.dropped()).isEqualTo(ParsedEvents.droppedCount(batch));

    // A stage without accounting rows and sinks without keys: every unquarantined row goes to the sinks.
    Dataset<Row> plain = batch.drop(ParsedEvents.DROPPED).filter("id IS NOT NULL OR " + EventStream.REASON + " IS NOT NULL");
    assertThat(ParsedEvents.census(plain, List.of(), List.of())).isEqualTo(new ParsedEvents.Census(2, 0, 3, 0, 0));
  }
}
