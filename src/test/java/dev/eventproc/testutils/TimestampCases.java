package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * Timestamps every sink must hand back exactly as written: one with microseconds, one far from now and
 * one just before 1970 (negative epoch microseconds, where a rounding towards zero shows). Each sink
 * test writes {@link #rows} through its sink, reads the table, files or records back and passes what it
 * read to {@link #assertReadBack}.
 */
public final class TimestampCases {
  /** Spark DDL of {@link #rows}: a key, a version (for upsert sinks) and the timestamp. */
  public static final StructType SCHEMA = StructType.fromDDL("id STRING, version BIGINT, ts TIMESTAMP");
  /** Per key, the instant written. */
  public static final Map<String, Instant> WRITTEN = written();

  private TimestampCases() {}

  private static Map<String, Instant> written() {
    Map<String, Instant> m = new TreeMap<>();
    m.put("micros", Instant.parse("2026-03-01T10:00:00.123456Z"));
    m.put("far", Instant.parse("2999-12-31T23:59:59.999999Z"));
    m.put("before-1970", Instant.parse("1969-12-31T23:59:59.999999Z"));
    return m;
  }

  /** One row per case, version 1. */
  public static Dataset<Row> rows(SparkSession spark) {
    return rows(spark, 1);
  }

  /** One row per case with this version (a second batch of newer versions takes an upsert sink's update path). */
  public static Dataset<Row> rows(SparkSession spark, long version) {
    List<Row> rows = new ArrayList<>();
    WRITTEN.forEach((id, t) -> rows.add(RowFactory.create(id, version, Timestamp.from(t))));
    return spark.createDataFrame(rows, SCHEMA).coalesce(1);
  }

  /** Key to instant of rows Spark read back (columns {@code id} and {@code ts}, as Timestamp or Instant). */
  public static Map<String, Instant> byId(List<Row> rows) {
    Map<String, Instant> out = new LinkedHashMap<>();
    for (Row r : rows) {
      Object ts = r.getAs("ts");
      Instant t = ts instanceof Timestamp s ? s.toInstant() : (Instant) ts;
      assertThat(out.put(r.getAs("id"), t)).as("key %s read once", (Object) r.getAs("id")).isNull();
    }
    return out;
  }

  /** What was read back from {@code sink} equals what was written, to the microsecond. */
  public static void assertReadBack(String sink, Map<String, Instant> readBack) {
    assertThat(new TreeMap<>(readBack)).as("timestamps read back from %s", sink).isEqualTo(WRITTEN);
  }
}
