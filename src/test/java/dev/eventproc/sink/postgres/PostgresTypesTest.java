package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

/**
 * Every Spark type the sink maps reaches PostgreSQL with its value, and a null in every column stays
 * null, through each way the binary COPY is fed: the direct path (the driver, first batch of new keys),
 * the staging path (Spark tasks) and the partition shape's slices. Values near the edges of their
 * encodings: negative numbers, dates and timestamps before 1970 and before PostgreSQL's 2000 epoch,
 * a wall-clock TIMESTAMP_NTZ, a date and an instant before the Gregorian calendar's start in 1582 (Spark
 * and PostgreSQL both count them in the proleptic Gregorian calendar), multi-byte text, bytes with a zero, and text that is not valid UTF-8 (a
 * string cast from bytes), whose bad bytes become U+FFFD as Java's decoding makes them, rather than
 * failing every retry of the batch on PostgreSQL's encoding check.
 */
class PostgresTypesTest {
  private final SparkSession spark = TestSpark.session();
  private final String schema = TestPostgres.newSchema("pgtypes");

  private static final String COLUMNS = "b, s, i, l, f, d, flag, amt, big, day, ts, ntz, old_day, old_ts, bin, txt, bad, obj";
  /** The values as PostgreSQL prints them (::text), in the order of {@link #COLUMNS}. */
  private static final List<String> EXPECTED = List.of("-7", "-300", "-70000", "-9000000000", "-1.5", "2.25", "false", "-12.34",
      "12345678901234567890.0123456789", "1969-12-31", "1999-12-31 23:59:59.999999+00", "1965-05-06 07:08:09.123456",
      "1500-01-01", "1500-01-01 00:00:00+00", "\\x00ff10", "grüße, 北京", "\uFFFD(", "{\"a\": -1, \"b\": [\"x\", null]}");

  private Dataset<Row> batch() {
    return spark.sql("SELECT 'k1' AS id, CAST(-7 AS TINYINT) AS b, CAST(-300 AS SMALLINT) AS s, -70000 AS i, -9000000000L AS l, "
        + "CAST(-1.5 AS FLOAT) AS f, CAST(2.25 AS DOUBLE) AS d, false AS flag, CAST(-12.34 AS DECIMAL(10,2)) AS amt, "
        + "CAST('12345678901234567890.0123456789' AS DECIMAL(38,10)) AS big, DATE '1969-12-31' AS day, "
        + "timestamp_micros(946684799999999) AS ts, TIMESTAMP_NTZ '1965-05-06 07:08:09.123456' AS ntz, "
        + "DATE '1500-01-01' AS old_day, timestamp_micros(-14831769600000000) AS old_ts, X'00FF10' AS bin, "
        + "'grüße, 北京' AS txt, CAST(X'C328' AS STRING) AS bad, named_struct('a', -1, 'b', array('x', NULL)) AS obj "
        + "UNION ALL SELECT 'k2', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL")
        .repartition(2);
  }

  @Test
  void everyTypeAndANullInEveryColumnRoundTripOnEveryPath() throws Exception {
    write("direct", CommitShape.BATCH, PostgresOptions.DIRECT_MAX_ROWS_DEFAULT, 1);
    write("staged", CommitShape.BATCH, 0, 0);
    write("sliced", CommitShape.PARTITION, 0, 0);
    for (String table : List.of("direct", "staged", "sliced")) {
      assertThat(read(table, "k1")).as(table + ": every value").containsExactlyElementsOf(EXPECTED);
      assertThat(read(table, "k2")).as(table + ": nulls").containsOnlyNulls().hasSize(EXPECTED.size());
    }
  }

  private void write(String table, CommitShape shape, long directMaxRows, long directCommits) {
    SinkSpec spec = SinkSpec.builder().name(table + "_w").mode(WriteMode.UPSERT).keyColumns("id").build();
    PostgresOptionsBuilder o = PostgresOptions.builder().url(TestPostgres.url()).user(TestPostgres.user())
        .password(TestPostgres.password()).schema(schema).table(table).commit(shape).directMaxRows(directMaxRows);
    try (PostgresSink sink = PostgresSink.create(spec, (shape == CommitShape.PARTITION ? o.slices(3) : o).build())) {
      assertThat(sink.write(batch(), 0, "q").status()).isEqualTo(Status.COMMITTED);
      assertThat(sink.directCommits()).as(table + " took the direct path").isEqualTo(directCommits);
    }
  }

  private List<String> read(String table, String id) throws Exception {
    List<String> out = new ArrayList<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement()) {
      st.execute("SET TIME ZONE 'UTC'");
      StringBuilder select = new StringBuilder();
      for (String column : COLUMNS.split(", ")) {
        select.append(select.length() == 0 ? "" : ", ").append(column).append("::text");
      }
      try (ResultSet rs = st.executeQuery("SELECT " + select + " FROM " + schema + "." + table + " WHERE id = '" + id + "'")) {
        assertThat(rs.next()).as(table + " has " + id).isTrue();
        for (int i = 1; i <= EXPECTED.size(); i++) {
          out.add(rs.getString(i));
        }
      }
    }
    return out;
  }
}
