package dev.eventproc.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.TestSpark;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * A quarantined row passes a dedupe stage as a group of its own, keyed by its pass-through id, so the
 * id routes it to a shuffle partition. A map task that Spark runs again (executor lost, fetch failure,
 * speculation) must give each row the same id, or the row reaches no reducer or two: lost or doubled.
 */
class PassThroughIdTest {
  private final SparkSession spark = TestSpark.session();

  @Test
  void computingTheIdsAgainGivesEachRowTheSameIdAndEveryIdIsUnique() {
    SourceOptions o = RawRows.filesSource("pass-through", Map.of());
    StructType raw = RawRows.schema();
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      rows.add(RowFactory.create(("{not json " + i).getBytes(StandardCharsets.UTF_8), "same-file", null));
    }
    ParsedEvents events = EventStream.parse(spark.createDataFrame(rows, raw).repartition(4), o, InputRules.NONE);
    // Not cached: each action computes every partition afresh, as a re-run task computes its own.
    Dataset<String> ids = Dedupe.withPassThroughIds(events).select(ParsedEvents.PASS_THROUGH_ID).as(Encoders.STRING());

    List<String> first = ids.sort(ParsedEvents.PASS_THROUGH_ID).collectAsList();
    List<String> second = ids.sort(ParsedEvents.PASS_THROUGH_ID).collectAsList();

    assertThat(first).hasSize(200).doesNotContainNull().doesNotHaveDuplicates();
    assertThat(second).isEqualTo(first);
  }
}
