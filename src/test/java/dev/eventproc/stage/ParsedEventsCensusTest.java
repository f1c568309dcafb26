package dev.eventproc.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.TestSpark;
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
        + "('b', NULL, NULL, NULL, NULL), ('c', NULL, NULL, NULL, NULL), "
        + "(NULL, 'malformed-json', NULL, '{x', 'f@1'), "
        + "(NULL, NULL, 2L, NULL, NULL), (NULL, NULL, 3L, NULL, NULL) "
        + "AS t(id, " + EventStream.REASON + ", " + ParsedEvents.DROPPED + ", " + EventStream.RAW + ", " + EventStream.POSITION + ")");
    ParsedEvents.Census census = ParsedEvents.census(batch);
    assertThat(census).isEqualTo(new ParsedEvents.Census(1, 3, 5));
    assertThat(census.main()).isEqualTo(ParsedEvents.mainRows(batch).count());
    assertThat(census.quarantined()).isEqualTo(ParsedEvents.quarantineRows(batch).count());
    assertThat(census.dropped()).isEqualTo(ParsedEvents.droppedCount(batch));

    // A stage without accounting rows: every unquarantined row goes to the sinks, nothing dropped.
    Dataset<Row> plain = batch.drop(ParsedEvents.DROPPED).filter("id IS NOT NULL OR " + EventStream.REASON + " IS NOT NULL");
    assertThat(ParsedEvents.census(plain)).isEqualTo(new ParsedEvents.Census(1, 3, 0));
  }
}
