package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.HistorySinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.testutils.TestPostgres;
import java.sql.Connection;
import java.sql.Statement;
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
    PostgresOptionsBuilder b = PostgresOptions.builder().url(TestPostgres.url()).user(TestPostgres.user())
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

  /** An upsert's target, or an upsert's tombstones (one delete per key), would lose history: refused, saying what to do. */
  @Test
  void anUpsertsTablesAreRefusedForHistory() throws Exception {
    SinkSpec upsert = SinkSpec.builder().name("h_switch").mode(WriteMode.UPSERT).keyColumns("id").versionColumn("version")
        .tiebreakColumn("lsn").deleteCondition("op = 'd'").build();
    try (PostgresSink sink = sink(upsert, "h_switch", CommitShape.BATCH)) {
      sink.write(rows(EVENTS), 0, "q1");
    }
    try (PostgresSink history = sink(spec("h_switch_h"), "h_switch", CommitShape.BATCH)) {
      assertThatThrownBy(() -> history.write(rows(EVENTS), 0, "q1"))
          .hasMessageContaining("table " + schema + ".h_switch lacks the columns __start_at and __end_at that sink.mode=history keeps");
      try (Connection c = TestPostgres.connect(); Statement st = c.createStatement()) {
        st.execute("DROP TABLE " + schema + ".h_switch");
      }
      assertThatThrownBy(() -> history.write(rows(EVENTS), 0, "q1")).hasMessageContaining("table " + schema
          + ".h_switch__tombstones keeps one delete per key (an upsert's tombstones), but sink.mode=history keeps every delete");
    }
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
