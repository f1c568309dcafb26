package dev.eventproc.bench;

import static dev.eventproc.bench.BenchResult.secondsSince;

import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.postgres.PostgresOptions;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.sink.postgres.PostgresOptionsBuilder;
import dev.eventproc.sink.postgres.PostgresSink;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;

/**
 * The Postgres case: the same rows into the same keyed table (primary key on {@code id}, created as
 * eventproc creates an upsert target), in one run. Each variant inserts version 1 of every row into the
 * empty table, then (where it can) upserts version 2 of every row over the full table:
 * {@link PostgresBaselines tuned baselines} (Spark's JDBC writer with batched rewrites, the hand-written
 * staging-table upsert, a raw binary COPY) against eventproc's sink in both commit shapes. Keys arrive
 * in random order over the index, as real event ids do.
 */
public final class PostgresBench {
  static final String SUITE = "postgres";
  /** Issue 18, goal 5: the exactly-once insert path at least 0.9x of a raw binary COPY. */
  public static final double GOAL_VS_RAW_COPY = 0.9;
  private static final long EPOCH_MS = 1_767_225_600_000L;
  private static final String TABLE = "eventproc_bench";
  private static final String NO_PREFETCH = "eventproc-batch-no-prefetch";

  /** Where and how much. */
  public record Settings(String url, String user, String password, String schema, long rows, int partitions, Integer fillfactor) {}

  private PostgresBench() {}

  /** Runs the case; {@code run} is the repeat's index (variants alternate order, see {@link Variants}). */
  public static void run(SparkSession spark, Settings s, BenchReport report, int run) throws Exception {
    PostgresBaselines baselines = new PostgresBaselines(s, TABLE);
    try (Connection c = baselines.connect()) {
      PostgresBaselines.exec(c, "CREATE SCHEMA IF NOT EXISTS " + s.schema());
      PostgresBaselines.exec(c, "DROP TABLE IF EXISTS " + s.schema() + "." + TABLE);
    }
    Dataset<Row> v1 = rows(spark, s.rows(), 1).persist(StorageLevel.MEMORY_ONLY());
    Dataset<Row> v2 = rows(spark, s.rows(), 2).persist(StorageLevel.MEMORY_ONLY());
    v1.count();
    v2.count();
    // The table as eventproc creates it (an empty batch creates it), reused by every variant.
    try (PostgresSink creator = sink(s, "bench_batch", CommitShape.BATCH, PostgresOptions.DIRECT_PREFETCH_DEFAULT)) {
      creator.write(v1.limit(0), 0, "bench-create-" + UUID.randomUUID());
    }
    baselines.createStaging();
    List<Row> prepared = v1.collectAsList();

    Variants variants = Variants.forRun(run);
    variants.add("spark-jdbc", () -> {
      empty(baselines);
      long t = System.nanoTime();
      baselines.jdbcInsert(v1);
      report.add(new BenchResult(SUITE, "spark-jdbc insert", s.rows(), secondsSince(t),
          "df.write.jdbc, " + PostgresBaselines.JDBC_SETTINGS + ", into the empty table"));
      t = System.nanoTime();
      baselines.jdbcUpsert(v2);
      report.add(new BenchResult(SUITE, "spark-jdbc upsert-full", s.rows(), secondsSince(t),
          "df.write.jdbc into an unlogged staging table, then INSERT ... ON CONFLICT DO UPDATE (at-least-once)"));
      check(baselines, s.rows(), 2);
    });
    variants.add("raw-copy", () -> {
      empty(baselines);
      long t = System.nanoTime();
      baselines.binaryCopy(prepared);
      report.add(new BenchResult(SUITE, "raw-copy insert", s.rows(), secondsSince(t),
          "one connection, binary COPY of rows already in memory, into the empty table"));
      check(baselines, s.rows(), 1);
    });
    // The direct path with its partitions' jobs one after another: what the default's prefetch gains (both
    // sides take the direct path only when the batch fits direct.max.rows: else the pair measures nothing).
    boolean direct = s.rows() <= PostgresOptions.DIRECT_MAX_ROWS_DEFAULT;
    if (direct) {
      variants.add(NO_PREFETCH, () -> {
        empty(baselines);
        try (PostgresSink sink = sink(s, "bench_noprefetch", CommitShape.BATCH, 0)) {
          long t = System.nanoTime();
          sink.write(v1, 0, UUID.randomUUID().toString());
          report.add(new BenchResult(SUITE, NO_PREFETCH + " insert", s.rows(), secondsSince(t),
              "as eventproc-batch insert, with sink." + PostgresOptions.DIRECT_PREFETCH + "=0"));
        }
        check(baselines, s.rows(), 1);
      });
    } else {
      report.note("postgres: " + s.rows() + " rows exceed sink." + PostgresOptions.DIRECT_MAX_ROWS + " ("
          + PostgresOptions.DIRECT_MAX_ROWS_DEFAULT + "): no direct path, so " + NO_PREFETCH + " is not run");
    }
    for (CommitShape shape : CommitShape.values()) {
      String name = "eventproc-" + shape.name().toLowerCase();
      variants.add(name, () -> {
        empty(baselines);
        try (PostgresSink sink = sink(s, "bench_" + shape.name().toLowerCase(), shape, PostgresOptions.DIRECT_PREFETCH_DEFAULT)) {
          String query = UUID.randomUUID().toString();
          long t = System.nanoTime();
          sink.write(v1, 0, query);
          report.add(new BenchResult(SUITE, name + " insert", s.rows(), secondsSince(t), "exactly-once upsert into the empty table"));
          t = System.nanoTime();
          sink.write(v2, 1, query);
          report.add(new BenchResult(SUITE, name + " upsert-full", s.rows(), secondsSince(t), "exactly-once upsert, newer version of every row"));
        }
        check(baselines, s.rows(), 2);
      });
    }
    try {
      variants.runAll();
    } finally {
      v1.unpersist();
      v2.unpersist();
    }

    // The insert path is the default shape's (its direct COPY); upserting a full table is what the partition shape is for.
    report.goal(new BenchGoal(SUITE, "eventproc-batch insert", "spark-jdbc insert", 1.5, "insert path vs Spark's tuned JDBC writer"));
    report.goal(new BenchGoal(SUITE, "eventproc-batch insert", "raw-copy insert", GOAL_VS_RAW_COPY,
        "insert path vs raw binary COPY (issue 18, goal 5)"));
    if (direct) {
      report.goal(new BenchGoal(SUITE, "eventproc-batch insert", NO_PREFETCH + " insert", 1.0,
          "the direct path's default prefetch of one partition vs partitions one after another"));
    }
    report.goal(new BenchGoal(SUITE, "eventproc-partition upsert-full", "spark-jdbc upsert-full", 1.0,
        "upsert over a full table vs the hand-written staging upsert"));
    report.goal(new BenchGoal(SUITE, "eventproc-batch upsert-full", "spark-jdbc upsert-full", 1.0,
        "the same in one transaction (batch-atomic)"));
  }

  /**
   * The bench rows: ~100 bytes each, {@code version} as given, deterministic from the row number. The
   * key is a permutation of the row number ({@code id * P mod n}, P a prime not dividing n), so keys
   * arrive in random order over a B-tree index as real event ids do, while the set of keys stays the same.
   */
  public static Dataset<Row> rows(SparkSession spark, long n, long version) {
    long prime = n % 1_000_003L == 0 ? 998_244_353L : 1_000_003L;
    return spark.range(n).selectExpr(
        "format_string('k%010d', pmod(id * " + prime + "L, " + Math.max(1, n) + "L)) AS id",
        "concat('acct-', CAST(id % 5000 AS STRING)) AS account_id",
        "CAST((id % 100000) / 100.0 AS DECIMAL(12,2)) AS amount",
        "element_at(array('EUR', 'USD', 'GBP', 'CHF'), CAST(id % 4 AS INT) + 1) AS currency",
        version + "L AS version",
        "'u' AS op",
        "timestamp_millis(" + EPOCH_MS + "L + id) AS event_time");
  }

  private static PostgresSink sink(Settings s, String name, CommitShape shape, int prefetch) {
    SinkSpec spec = SinkSpec.builder().name(name).mode(WriteMode.UPSERT)
        .keyColumns("id").versionColumn("version").build();
    PostgresOptionsBuilder o = PostgresOptions.builder().url(s.url()).user(s.user()).password(s.password())
        .schema(s.schema()).table(TABLE).commit(shape).directPrefetch(prefetch);
    if (shape == CommitShape.PARTITION) {
      o.slices(s.partitions());
    }
    if (s.fillfactor() != null) {
      o.fillfactor(s.fillfactor());
    }
    return PostgresSink.create(spec, o.build());
  }

  private static void empty(PostgresBaselines baselines) throws SQLException {
    try (Connection c = baselines.connect()) {
      PostgresBaselines.exec(c, "TRUNCATE " + baselines.table());
      try {
        PostgresBaselines.exec(c, "CHECKPOINT"); // start each variant without a pending WAL checkpoint (needs superuser)
      } catch (SQLException ignored) {
        // not a superuser: measure without
      }
    }
  }

  private static void check(PostgresBaselines baselines, long n, long version) throws SQLException {
    try (Connection c = baselines.connect(); Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT count(*), min(version) FROM " + baselines.table())) {
      rs.next();
      if (rs.getLong(1) != n || rs.getLong(2) != version) {
        throw new IllegalStateException("bench table holds " + rs.getLong(1) + " rows with min version " + rs.getLong(2)
            + ", expected " + n + " rows at version " + version);
      }
    }
  }
}
