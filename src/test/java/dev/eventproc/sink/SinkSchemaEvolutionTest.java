package dev.eventproc.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.delta.DeltaSink;
import dev.eventproc.sink.postgres.PostgresOptions;
import dev.eventproc.sink.postgres.PostgresSink;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Sink-side schema evolution (issue 17 item 2) on PostgreSQL and Delta, batch by batch: the target takes
 * a batch with a new column (and, on PostgreSQL, a widened type) before writing it, a replay after a
 * crash between the schema change and the commit finds nothing left to change, an older version never
 * erases a newer row's value of the new column, and {@code schema.evolution=false} fails showing the DDL.
 */
class SinkSchemaEvolutionTest {
  private static final StructType V1 = StructType.fromDDL("id STRING, version BIGINT, amount INT");
  private static final StructType V2 = StructType.fromDDL("id STRING, version BIGINT, note STRING, amount BIGINT");
  private static final StructType V2_ADD_ONLY = StructType.fromDDL("id STRING, version BIGINT, note STRING, amount INT");
  private final SparkSession spark = TestSpark.session();

  @AfterEach
  void noHook() {
    FaultInjection.setTestHook(null);
  }

  private Dataset<Row> rows(StructType schema, Object[]... rows) {
    List<Row> list = new ArrayList<>();
    for (Object[] r : rows) {
      list.add(RowFactory.create(r));
    }
    return spark.createDataFrame(list, schema);
  }

  private static SinkSpec spec(String name, boolean evolve) {
    return SinkSpec.builder().name(name).mode(WriteMode.UPSERT).keyColumns("id").versionColumn("version")
        .schemaEvolution(evolve).build();
  }

  private PostgresSink postgres(String schema, boolean evolve) {
    return PostgresSink.create(spec("evolving", evolve), PostgresOptions.builder().url(TestPostgres.url())
        .user(TestPostgres.user()).password(TestPostgres.password()).schema(schema).table("t").build());
  }

  @Test
  void postgresAddsAndWidensColumnsOnceAndAnOlderVersionKeepsTheNewColumn() throws Exception {
    String schema = TestPostgres.newSchema("evolve");
    String query = UUID.randomUUID().toString();
    try (PostgresSink v1 = postgres(schema, true)) {
      v1.write(rows(V1, new Object[] {"a", 1L, 10}, new Object[] {"b", 1L, 20}), 0, query);
    }
    // The first attempt of batch 1 evolves the table, then dies before its commit.
    FaultInjection.setTestHook((point, sink, batchId) -> {
      if (point == FaultInjection.Point.AFTER_STAGING) {
        throw new IllegalStateException("test: crash after the schema change, before the commit");
      }
    });
    Dataset<Row> batch1 = rows(V2, new Object[] {"a", 3L, "n3", 5_000_000_000L}, new Object[] {"c", 1L, "new", 30L});
    try (PostgresSink crashing = postgres(schema, true)) {
      assertThatThrownBy(() -> crashing.write(batch1, 1, query)).hasStackTraceContaining("test: crash after the schema change");
    }
    FaultInjection.setTestHook(null);
    assertThat(postgresRows(schema)).as("nothing of batch 1 committed").containsOnlyKeys("a", "b");
    try (PostgresSink restarted = postgres(schema, true)) {
      assertThat(restarted.write(batch1, 1, query).status()).isEqualTo(Status.COMMITTED);
      assertThat(restarted.write(batch1, 1, query).status()).isEqualTo(Status.SKIPPED_REPLAY);
      restarted.write(rows(V2, new Object[] {"a", 2L, null, 7L}, new Object[] {"b", 2L, null, 21L}), 2, query);
    }
    assertThat(postgresRows(schema)).isEqualTo(new TreeMap<>(Map.of(
        "a", "3:5000000000:n3", // v2 arrived after v3: ignored, the note stays
        "b", "2:21:null", "c", "1:30:new")));
  }

  @Test
  void postgresWithEvolutionOffShowsTheDdl() {
    String schema = TestPostgres.newSchema("evolve_off");
    String query = UUID.randomUUID().toString();
    try (PostgresSink v1 = postgres(schema, true)) {
      v1.write(rows(V1, new Object[] {"a", 1L, 10}), 0, query);
    }
    try (PostgresSink off = postgres(schema, false)) {
      assertThatThrownBy(() -> off.write(rows(V2, new Object[] {"a", 2L, "x", 1L}), 1, query))
          .hasMessageContaining("sink.schema.evolution=false. Run:")
          .hasMessageContaining("ALTER TABLE \"" + schema + "\".\"t\" ADD COLUMN IF NOT EXISTS \"note\" text")
          .hasMessageContaining("ALTER TABLE \"" + schema + "\".\"t\" ALTER COLUMN \"amount\" TYPE bigint");
    }
  }

  @Test
  void deltaAddsAColumnOnceAndAnOlderVersionKeepsIt() {
    String path = TestSpark.newDir("evolve-delta").resolve("t").toString();
    String query = UUID.randomUUID().toString();
    DeltaSink.atPath(spec("evolving", true), path).write(rows(V1, new Object[] {"a", 1L, 10}, new Object[] {"b", 1L, 20}), 0, query);
    // As a first attempt that died after its schema change: the column is there already, the batch is not.
    spark.sql("ALTER TABLE delta.`" + path + "` ADD COLUMNS (note STRING)");
    SparkTableSink sink = DeltaSink.atPath(spec("evolving", true), path);
    sink.write(rows(V2_ADD_ONLY, new Object[] {"a", 3L, "n3", 30}, new Object[] {"c", 1L, "new", 40}), 1, query);
    sink.write(rows(V2_ADD_ONLY, new Object[] {"a", 2L, null, 7}, new Object[] {"b", 2L, null, 21}), 2, query);
    Map<String, String> actual = new TreeMap<>();
    for (Row r : spark.read().format("delta").load(path).collectAsList()) {
      actual.put(r.getAs("id"), r.getAs("version") + ":" + r.getAs("amount") + ":" + r.getAs("note"));
    }
    assertThat(actual).isEqualTo(new TreeMap<>(Map.of("a", "3:30:n3", "b", "2:21:null", "c", "1:40:new")));
  }

  @Test
  void deltaWithEvolutionOffShowsTheDdlAndAWideningIsRefused() {
    String path = TestSpark.newDir("evolve-delta-off").resolve("t").toString();
    String query = UUID.randomUUID().toString();
    DeltaSink.atPath(spec("evolving", true), path).write(rows(V1, new Object[] {"a", 1L, 10}), 0, query);
    assertThatThrownBy(() -> DeltaSink.atPath(spec("evolving", false), path)
        .write(rows(V2_ADD_ONLY, new Object[] {"a", 2L, "x", 1}), 1, query))
        .hasMessageContaining("sink.schema.evolution=false. Run in Spark SQL:")
        .hasMessageContaining("ALTER TABLE delta.`" + path + "` ADD COLUMNS (`note` STRING)");
    assertThatThrownBy(() -> DeltaSink.atPath(spec("evolving", true), path)
        .write(rows(V2, new Object[] {"a", 2L, "x", 1L}), 1, query))
        .hasMessageContaining("cannot widen column 'amount' from INT to BIGINT in place");
  }

  private static Map<String, String> postgresRows(String schema) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT * FROM \"" + schema + "\".t")) {
      boolean hasNote = rs.getMetaData().getColumnCount() > 3;
      while (rs.next()) {
        out.put(rs.getString("id"), rs.getLong("version") + ":" + rs.getLong("amount") + ":"
            + (hasNote ? rs.getString("note") : null));
      }
    }
    return out;
  }
}
