package dev.eventproc.stage;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.testutils.TestSpark;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The event-time-in-future check against the time a row was received, and against the batch's time
 * when a row has none (the fallback is written so that codegen does not inline the batch time).
 */
class ReceivedTimeTest {
  private final SparkSession spark = TestSpark.session();

  @Test
  void aRowWithoutReceiveTimeIsCheckedAgainstTheBatchTimeAndOneWithItAgainstThat() {
    SourceOptions o = RawRows.filesSource("received", Map.of("source.max.future.skew", "1 minute"));
    Instant now = Instant.now();
    Timestamp longAgo = Timestamp.from(now.minus(Duration.ofDays(365)));
    StructType raw = RawRows.schema();
    List<Row> rows = new ArrayList<>();
    rows.add(RowFactory.create(json("now-no-received", now), "p", null));
    rows.add(RowFactory.create(json("ahead-no-received", now.plus(Duration.ofHours(1))), "p", null));
    rows.add(RowFactory.create(json("now-received-long-ago", now), "p", longAgo));
    rows.add(RowFactory.create(json("long-ago-received-long-ago", longAgo.toInstant()), "p", longAgo));

    Dataset<Row> parsed = EventStream.parse(spark.createDataFrame(rows, raw), o, InputRules.NONE).all();

    assertThat(reasons(parsed)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "now-no-received", "valid",
        "ahead-no-received", "event-time-in-future",
        "now-received-long-ago", "event-time-in-future",
        "long-ago-received-long-ago", "valid"));
  }

  private static byte[] json(String id, Instant ts) {
    return ("{\"id\":\"" + id + "\",\"ts\":\"" + ts + "\"}").getBytes(StandardCharsets.UTF_8);
  }

  /**
   * A Kafka record without a timestamp (-1, message format v0) reaches Spark as 1969-12-31T23:59:59.999Z,
   * not null: compared with that, every event would be "in the future" and the whole topic quarantined.
   * It counts as no receive time (the batch's time is used).
   */
  @Test
  void aKafkaRecordWithoutTimestampIsCheckedAgainstTheBatchTime() {
    SourceOptions o = SourceOptions.read(new ConfigReader(EventprocConfig.of(Map.of(
        "source.type", "kafka", "source.kafka.bootstrap.servers", "127.0.0.1:9", "source.kafka.topic", "t",
        "source.schema", "id STRING, ts TIMESTAMP", "source.key.columns", "id",
        "source.event.time.column", "ts", "source.max.future.skew", "1 minute"))));
    Instant now = Instant.now();
    StructType kafka = new StructType().add("value", DataTypes.BinaryType).add("topic", DataTypes.StringType)
        .add("partition", DataTypes.IntegerType).add("offset", DataTypes.LongType).add("timestamp", DataTypes.TimestampType);
    List<Row> rows = List.of(
        RowFactory.create(json("no-timestamp", now), "t", 0, 1L, new Timestamp(-1)),
        RowFactory.create(json("no-timestamp-ahead", now.plus(Duration.ofHours(1))), "t", 0, 2L, new Timestamp(-1)),
        RowFactory.create(json("stamped", now), "t", 0, 3L, Timestamp.from(now)));

    Dataset<Row> parsed = EventStream.parse(EventStream.kafkaRows(spark.createDataFrame(rows, kafka)), o, InputRules.NONE).all();

    assertThat(reasons(parsed)).containsExactlyInAnyOrderEntriesOf(Map.of(
        "no-timestamp", "valid", "no-timestamp-ahead", "event-time-in-future", "stamped", "valid"));
  }

  /** Each row's id and its quarantine reason, or "valid". */
  private static Map<String, String> reasons(Dataset<Row> parsed) {
    Map<String, String> reasons = new TreeMap<>();
    for (Row r : parsed.select("id", EventStream.REASON).collectAsList()) {
      reasons.put(r.getString(0), r.isNullAt(1) ? "valid" : r.getString(1));
    }
    return reasons;
  }
}
