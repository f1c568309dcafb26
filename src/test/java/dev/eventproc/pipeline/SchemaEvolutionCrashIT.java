package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.testutils.ChildPipeline;
import dev.eventproc.testutils.CrashHarness;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.KillScenario;
import dev.eventproc.testutils.PaymentFiles;
import dev.eventproc.testutils.SchemaChangeKills;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * Issue 17's crash proof: {@code kill -9} between a sink's schema change and the first commit of the new
 * schema. A pipeline runs on schema v1 to its end (in the test's JVM); the config then adds a nullable column and,
 * where the sink widens in place (PostgreSQL, Iceberg), widens {@code amount} from INT to BIGINT (Delta: the
 * column only); the restart on the same checkpoint ({@code eventproc run} in a child JVM) is held by {@code after-schema-change:pause} of one sink
 * and killed there. The kill is shown to have landed in the window: the target has the new column (and
 * type), its rows are still v1's, and the drain commits the batch (not skips it). After a drain without the
 * fault every column of every row equals the oracle computed from the input; v1 rows hold null in the new
 * column. PostgreSQL and Iceberg share one pipeline (PostgreSQL writes first), killed once in each sink's
 * window: a sink that evolved and committed before the other's kill must skip the replay.
 */
class SchemaEvolutionCrashIT {
  private static final String V1 = "id STRING, version BIGINT, amount INT, event_time TIMESTAMP";
  private static final String V2 = "id STRING, version BIGINT, amount BIGINT, event_time TIMESTAMP, note STRING";
  private static final String V2_ADDED_ONLY = "id STRING, version BIGINT, amount INT, event_time TIMESTAMP, note STRING";
  private static final List<String> COLUMNS = List.of("id", "version", "amount", "event_time", "note");
  private static final Instant T0 = Instant.parse("2026-03-01T10:00:00Z");
  private static final int KEYS = 24;

  private final SparkSession spark = TestSpark.session();

  /** One generated row: its JSON line and its rendering (every column) as the oracle. */
  private record Event(String id, long version, long amount, Instant time, String note) {
    String json() {
      return "{\"id\":\"" + id + "\",\"version\":" + version + ",\"amount\":" + amount + ",\"event_time\":\"" + time + "\""
          + (note == null ? "" : ",\"note\":\"" + note + "\"") + "}";
    }

    String row() {
      return String.join("|", id, Long.toString(version), Long.toString(amount), time.toString(), String.valueOf(note));
    }
  }

  /** The two generations of the input (seeded) and, per key, the newest version: what an upsert keeps. */
  private record Feed(List<Event> v1, List<Event> v2, Map<String, String> expected) {
    static Feed of(Random rnd, boolean widen) {
      List<Event> v1 = new ArrayList<>();
      List<Event> v2 = new ArrayList<>();
      for (int k = 0; k < KEYS; k++) {
        v1.add(new Event(String.format("k%02d", k), 1, rnd.nextInt(1_000_000), T0.plusSeconds(k), null));
        double p = rnd.nextDouble();
        long amount = widen ? Integer.MAX_VALUE + 1L + rnd.nextInt(1_000_000) : rnd.nextInt(1_000_000);
        if (p < 0.5) { // a newer version of the new schema
          v2.add(new Event(String.format("k%02d", k), 2, amount, T0.plusSeconds(60 + k), "n" + k));
        } else if (p < 0.7) { // a stale version with the new column: it must not overwrite the v1 row
          v2.add(new Event(String.format("k%02d", k), 0, amount, T0.plusSeconds(60 + k), "stale"));
        }
      }
      for (int k = 0; k < 4; k++) {
        v2.add(new Event("new" + k, 1, widen ? Integer.MAX_VALUE + 10L + k : k, T0.plusSeconds(120 + k), "new" + k));
      }
      Map<String, Event> newest = new TreeMap<>();
      Stream.concat(v1.stream(), v2.stream()).forEach(e -> newest.merge(e.id(), e, (a, b) -> b.version() > a.version() ? b : a));
      Map<String, String> expected = new TreeMap<>();
      newest.forEach((id, e) -> expected.put(id, e.row()));
      return new Feed(v1, v2, expected);
    }

    Map<String, String> expectedV1() {
      Map<String, String> out = new TreeMap<>();
      v1.forEach(e -> out.put(e.id(), e.row()));
      return out;
    }
  }

  /** PostgreSQL and Iceberg: a column added and INT widened to BIGINT, killed in each sink's window in turn. */
  @Test
  void killedBetweenEachSinksSchemaChangeAndItsCommitPostgresAndIceberg() {
    long seed = KillScenario.seed();
    List<String> story = new ArrayList<>();
    KillScenario.withSeed(seed, story, () -> {
      Feed feed = Feed.of(new Random(seed), true);
      Path dir = TestSpark.newDir("evolve-crash-pg-ice");
      String schema = TestPostgres.newSchema("evcrash");
      Map<String, String> c = config(dir, "evcrash_a", V1);
      c.put("sinks", "pg,ice");
      upsert(c, "pg", "postgres");
      c.put("sink.pg.postgres.url", TestPostgres.url());
      if (TestPostgres.user() != null) {
        c.put("sink.pg.postgres.user", TestPostgres.user());
      }
      c.put("sink.pg.postgres.schema", schema);
      c.put("sink.pg.postgres.table", "t");
      upsert(c, "ice", "iceberg");
      c.put("sink.ice.iceberg.table", "evcrash.db.t");
      c.put("sink.ice.iceberg.warehouse", dir.resolve("iceberg").toString());
      SchemaChangeKills s = new Scenario(dir, c, feed, story).runV1(spark, V2);
      s.killInWindow("evcrash_a_pg", () -> {
        assertThat(pgColumns(schema)).as("postgres after its schema change").containsEntry("note", "text")
            .containsEntry("amount", "bigint");
        assertThat(postgres(schema)).as("postgres rows: v1's, the batch not committed").isEqualTo(feed.expectedV1());
        assertThat(iceberg(dir).columns()).as("iceberg, written after postgres, untouched by the killed run")
            .doesNotContain("note");
      });
      s.killInWindow("evcrash_a_ice", () -> {
        StructType t = iceberg(dir).schema();
        assertThat(t.apply("note").dataType()).as("iceberg after its schema change").isEqualTo(DataTypes.StringType);
        assertThat(t.apply("amount").dataType()).isEqualTo(DataTypes.LongType);
        assertThat(rows(iceberg(dir))).as("iceberg rows: v1's, the batch not committed").isEqualTo(feed.expectedV1());
        assertThat(postgres(schema)).as("postgres committed the batch before iceberg's kill").isEqualTo(feed.expected());
      });
      s.drain(List.of("evcrash_a_pg"), List.of("evcrash_a_ice"));
      assertThat(postgres(schema)).as("postgres: every column").isEqualTo(feed.expected());
      assertThat(rows(iceberg(dir))).as("iceberg: every column").isEqualTo(feed.expected());
    });
  }

  /** Delta: a column added (Delta does not widen in place), killed between its schema change and its commit. */
  @Test
  void killedBetweenTheSchemaChangeAndTheCommitDelta() {
    long seed = KillScenario.seed();
    List<String> story = new ArrayList<>();
    KillScenario.withSeed(seed, story, () -> {
      Feed feed = Feed.of(new Random(seed), false);
      Path dir = TestSpark.newDir("evolve-crash-delta");
      Map<String, String> c = config(dir, "evcrash_b", V1);
      c.put("sinks", "lake");
      upsert(c, "lake", "delta");
      c.put("sink.lake.delta.path", dir.resolve("lake").toString());
      SchemaChangeKills s = new Scenario(dir, c, feed, story).runV1(spark, V2_ADDED_ONLY);
      s.killInWindow("evcrash_b_lake", () -> {
        Dataset<Row> t = delta(dir);
        assertThat(t.schema().apply("note").dataType()).as("delta after its schema change").isEqualTo(DataTypes.StringType);
        assertThat(rows(t)).as("delta rows: v1's, the batch not committed").isEqualTo(feed.expectedV1());
      });
      s.drain(List.of(), List.of("evcrash_b_lake"));
      assertThat(rows(delta(dir))).as("delta: every column").isEqualTo(feed.expected());
    });
  }

  /** One pipeline's input and config: v1 run to its end, then the v2 input and config for {@link SchemaChangeKills}. */
  private static final class Scenario {
    private final Map<String, String> config;
    private final Feed feed;
    private final List<String> story;
    private final Path in;
    private final Path checkpoint;
    private final Path file;
    private final ChildPipeline child;
    private long batch = -1;

    Scenario(Path dir, Map<String, String> config, Feed feed, List<String> story) {
      this.config = config;
      this.feed = feed;
      this.story = story;
      this.in = dir.resolve("in");
      this.checkpoint = Path.of(config.get("checkpoint.location"));
      this.file = ChildPipeline.writeConfig(dir.resolve("job.properties"), config);
      this.child = new ChildPipeline(file);
    }

    /**
     * Runs v1 to its end (in this JVM: the kills come later, and a child's start costs seconds), then writes the v2
     * input and switches the config to {@code v2}; returns the kills of the next batch, the first of v2.
     */
    SchemaChangeKills runV1(SparkSession spark, String v2) throws Exception {
      write("v1", feed.v1(), 1);
      List<ProgressListener.BatchStats> batches = new ArrayList<>();
      PipelineRunner.run(spark, PipelineConfig.from(EventprocConfig.of(config)), batches::add);
      try (Stream<Path> commits = Files.list(checkpoint.resolve("commits"))) {
        batch = commits.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+")).mapToLong(Long::parseLong)
            .max().orElseThrow() + 1;
      }
      story.add("v1 run (in the test's JVM): " + batches.size() + " batch(es), the next is " + batch);
      write("v2", feed.v2(), 2);
      config.put("source.schema", v2);
      ChildPipeline.writeConfig(file, config);
      return new SchemaChangeKills(child, batch, story);
    }

    /** One file per generation, dated after the one before (the file source orders by modification time). */
    private void write(String name, List<Event> events, int n) throws Exception {
      Files.createDirectories(in);
      Path f = in.resolve(name + ".json");
      Files.writeString(f, String.join("\n", events.stream().map(Event::json).toList()) + "\n");
      Files.setLastModifiedTime(f, FileTime.from(JsonFiles.FIXED_DAY_RECEIVED.plusSeconds(n)));
    }
  }

  private static Map<String, String> config(Path dir, String name, String schema) {
    Map<String, String> c = PaymentFiles.filesPipeline(name, dir, schema, "id");
    c.remove("source.files.max.files.per.trigger"); // every file of a run in one batch
    c.put("stage.type", "none"); // no watermark, so no extra empty batch per run; the sinks drop stale versions
    return CrashHarness.filesQuarantine(c, dir);
  }

  private static void upsert(Map<String, String> c, String sink, String type) {
    c.put("sink." + sink + ".type", type);
    c.put("sink." + sink + ".mode", "upsert");
    c.put("sink." + sink + ".key.columns", "id");
    c.put("sink." + sink + ".version.column", "version");
  }

  private Dataset<Row> delta(Path dir) {
    return spark.read().format("delta").load(dir.resolve("lake").toString());
  }

  private Dataset<Row> iceberg(Path dir) {
    IcebergSink.registerCatalog(spark, "evcrash", dir.resolve("iceberg").toString());
    spark.sql("REFRESH TABLE evcrash.db.t"); // the child changed it: no stale cached metadata
    return spark.table("evcrash.db.t");
  }

  /** Every column of every row, by key; each key once. */
  private static Map<String, String> rows(Dataset<Row> table) {
    assertThat(table.columns()).as("columns").containsExactlyInAnyOrderElementsOf(COLUMNS);
    Map<String, String> out = new TreeMap<>();
    for (Row r : table.selectExpr(COLUMNS.toArray(String[]::new)).collectAsList()) {
      String row = String.join("|", r.getString(0), Long.toString(r.getLong(1)), Long.toString(((Number) r.get(2)).longValue()),
          ((Timestamp) r.get(3)).toInstant().toString(), String.valueOf(r.getString(4)));
      assertThat(out.put(r.getString(0), row)).as("key %s once", r.getString(0)).isNull();
    }
    return out;
  }

  private static Map<String, String> postgres(String schema) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id, version, amount, event_time, note FROM \"" + schema + "\".t")) {
      while (rs.next()) {
        String row = String.join("|", rs.getString(1), Long.toString(rs.getLong(2)), Long.toString(rs.getLong(3)),
            rs.getObject(4, OffsetDateTime.class).toInstant().toString(), String.valueOf(rs.getString(5)));
        assertThat(out.put(rs.getString(1), row)).as("key %s once", rs.getString(1)).isNull();
      }
    }
    assertThat(pgColumns(schema).keySet()).as("postgres columns").containsExactlyInAnyOrderElementsOf(COLUMNS);
    return out;
  }

  /** Column name to type as PostgreSQL's catalog reports it. */
  private static Map<String, String> pgColumns(String schema) throws Exception {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = '"
            + schema + "' AND table_name = 't'")) {
      while (rs.next()) {
        out.put(rs.getString(1), rs.getString(2));
      }
    }
    return out;
  }
}
