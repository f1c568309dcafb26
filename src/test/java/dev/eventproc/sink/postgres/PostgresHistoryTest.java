package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.HistorySinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.testutils.TestPostgres;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** The history contract on PostgreSQL (batch commit shape), and once in key-hash slices. */
class PostgresHistoryTest extends HistorySinkContract {
  private final String schema = TestPostgres.newSchema("pghist");

  private PostgresSink sink(SinkSpec spec, String table, CommitShape shape) {
    PostgresOptions.Builder b = PostgresOptions.builder().url(TestPostgres.url()).user(TestPostgres.user())
        .password(TestPostgres.password()).schema(schema).table(table).commit(shape);
    return PostgresSink.create(spec, (shape == CommitShape.PARTITION ? b.slices(3) : b).build());
  }

  @Override
  protected BatchSink newSink(SinkSpec spec, String name) {
    return sink(spec, name, CommitShape.BATCH);
  }

  @Override
  protected Dataset<Row> read(String name) {
    Properties p = new Properties();
    p.setProperty("user", TestPostgres.user());
    if (TestPostgres.password() != null) {
      p.setProperty("password", TestPostgres.password());
    }
    return spark.read().jdbc(TestPostgres.url(), schema + "." + name, p);
  }

  @Test
  void inKeyHashSlicesShuffledAndDuplicated() {
    List<Object[]> twice = new ArrayList<>(EVENTS);
    Collections.shuffle(twice, new Random(5));
    twice.addAll(EVENTS);
    try (PostgresSink sink = sink(spec("h_sliced"), "h_sliced", CommitShape.PARTITION)) {
      writeAll(sink, twice, 4, "q1");
    }
    assertThat(table("h_sliced")).isEqualTo(EXPECTED);
  }
}
