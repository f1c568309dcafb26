package dev.eventproc.bench;

import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.postgres.PostgresOptions;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.sink.postgres.PostgresSink;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.Properties;
import java.util.UUID;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The Postgres case: the same rows into the same keyed table (primary key on {@code id}, created as
 * eventproc creates an upsert target), in one run:
 * Spark's JDBC writer (batchsize 1000, plain insert, neither idempotent nor version-aware), a raw
 * single-connection {@code COPY FROM STDIN} from the driver, and eventproc's sink in both commit
 * shapes, inserting into the empty table and then upserting a newer version of every row over the
 * full table.
 */
public final class PostgresBench {
  static final String SUITE = "postgres";
  private static final String[] CURRENCIES = {"EUR", "USD", "GBP", "CHF"};
  private static final long EPOCH_MS = 1_767_225_600_000L;

  /** Where and how much. */
  public record Settings(String url, String user, String password, String schema, long rows, int partitions, Integer fillfactor) {}

  private PostgresBench() {}

  public static void run(SparkSession spark, Settings s, BenchReport report) throws Exception {
    String table = "eventproc_bench";
    try (Connection c = connect(s)) {
      exec(c, "CREATE SCHEMA IF NOT EXISTS " + s.schema());
    }
    Dataset<Row> v1 = rows(spark, s.rows(), 1).persist(StorageLevel.MEMORY_ONLY());
    Dataset<Row> v2 = rows(spark, s.rows(), 2).persist(StorageLevel.MEMORY_ONLY());
    v1.count();
    v2.count();

    // The table as eventproc creates it (an empty batch creates it), reused by every variant.
    try (Connection c = connect(s)) {
      exec(c, "DROP TABLE IF EXISTS " + s.schema() + "." + table);
    }
    try (PostgresSink creator = sink(s, table, CommitShape.BATCH)) {
      creator.write(v1.limit(0), 0, "bench-create-" + UUID.randomUUID());
    }
    empty(s, table);
    Properties props = new Properties();
    if (s.user() != null) {
      props.setProperty("user", s.user());
    }
    if (s.password() != null) {
      props.setProperty("password", s.password());
    }
    long t = System.nanoTime();
    v1.write().mode(SaveMode.Append).option("batchsize", "1000").jdbc(s.url(), s.schema() + "." + table, props);
    report.add(new BenchResult(SUITE, "spark-jdbc insert", s.rows(), secs(t), "df.write.jdbc, batchsize 1000, into the empty table"));

    empty(s, table);
    t = System.nanoTime();
    rawCopy(s, table, s.rows());
    report.add(new BenchResult(SUITE, "raw-copy insert", s.rows(), secs(t), "one connection, COPY FROM STDIN, into the empty table"));

    for (CommitShape shape : CommitShape.values()) {
      String name = "eventproc-" + shape.name().toLowerCase();
      empty(s, table);
      try (PostgresSink sink = sink(s, table, shape)) {
        String query = UUID.randomUUID().toString();
        t = System.nanoTime();
        sink.write(v1, 0, query);
        report.add(new BenchResult(SUITE, name + " insert", s.rows(), secs(t), "exactly-once upsert into the empty table"));
        t = System.nanoTime();
        sink.write(v2, 1, query);
        report.add(new BenchResult(SUITE, name + " upsert-full", s.rows(), secs(t), "exactly-once upsert, newer version of every row"));
      }
      check(s, table, s.rows());
    }
    v1.unpersist();
    v2.unpersist();

    // The insert path is the default shape's (its direct COPY); upserting a full table is what the partition shape is for.
    report.goal(new BenchGoal(SUITE, "eventproc-batch insert", "spark-jdbc insert", 1.5, "insert path vs Spark's JDBC writer"));
    report.goal(new BenchGoal(SUITE, "eventproc-batch insert", "raw-copy insert", 0.8, "insert path vs raw single-connection COPY"));
    report.goal(new BenchGoal(SUITE, "eventproc-partition upsert-full", "spark-jdbc insert", 1.0,
        "upsert over a full table vs JDBC plain insert"));
    report.goal(new BenchGoal(SUITE, "eventproc-batch upsert-full", "spark-jdbc insert", 1.0,
        "the same in one transaction (batch-atomic)"));
  }

  /** The bench rows: ~100 bytes each, {@code version} as given, deterministic from the row number. */
  public static Dataset<Row> rows(SparkSession spark, long n, long version) {
    return spark.range(n).selectExpr(
        "format_string('k%010d', id) AS id",
        "concat('acct-', CAST(id % 5000 AS STRING)) AS account_id",
        "CAST((id % 100000) / 100.0 AS DECIMAL(12,2)) AS amount",
        "element_at(array('EUR', 'USD', 'GBP', 'CHF'), CAST(id % 4 AS INT) + 1) AS currency",
        version + "L AS version",
        "'u' AS op",
        "timestamp_millis(" + EPOCH_MS + "L + id) AS event_time");
  }

  private static PostgresSink sink(Settings s, String table, CommitShape shape) {
    SinkSpec spec = SinkSpec.builder().name("bench_" + shape.name().toLowerCase()).mode(WriteMode.UPSERT)
        .keyColumns("id").versionColumn("version").build();
    PostgresOptions.Builder o = PostgresOptions.builder().url(s.url()).user(s.user()).password(s.password())
        .schema(s.schema()).table(table).commit(shape);
    if (shape == CommitShape.PARTITION) {
      o.slices(s.partitions());
    }
    if (s.fillfactor() != null) {
      o.fillfactor(s.fillfactor());
    }
    return PostgresSink.create(spec, o.build());
  }

  /** What a user would hand-write: rows formatted on the driver and streamed through one COPY. */
  private static void rawCopy(Settings s, String table, long n) throws SQLException {
    try (Connection c = connect(s)) {
      c.setAutoCommit(false);
      CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + s.schema() + "." + table
          + " (id, account_id, amount, currency, version, op, event_time) FROM STDIN");
      StringBuilder sb = new StringBuilder(1 << 17);
      for (long i = 0; i < n; i++) {
        sb.append(String.format("k%010d", i)).append('\t').append("acct-").append(i % 5000).append('\t')
            .append(new BigDecimal(i % 100000).movePointLeft(2).toPlainString()).append('\t')
            .append(CURRENCIES[(int) (i % 4)]).append("\t1\tu\t").append(Instant.ofEpochMilli(EPOCH_MS + i)).append('\n');
        if (sb.length() > (1 << 16)) {
          byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
          in.writeToCopy(b, 0, b.length);
          sb.setLength(0);
        }
      }
      byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
      in.writeToCopy(b, 0, b.length);
      in.endCopy();
      c.commit();
    }
  }

  private static void empty(Settings s, String table) throws SQLException {
    try (Connection c = connect(s)) {
      exec(c, "TRUNCATE " + s.schema() + "." + table);
      try {
        exec(c, "CHECKPOINT"); // start each variant without a pending WAL checkpoint (needs superuser)
      } catch (SQLException ignored) {
        // not a superuser: measure without
      }
    }
  }

  private static void check(Settings s, String table, long n) throws SQLException {
    try (Connection c = connect(s); Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT count(*), min(version) FROM " + s.schema() + "." + table)) {
      rs.next();
      if (rs.getLong(1) != n || rs.getLong(2) != 2) {
        throw new IllegalStateException("bench table holds " + rs.getLong(1) + " rows with min version " + rs.getLong(2)
            + ", expected " + n + " rows at version 2");
      }
    }
  }

  private static Connection connect(Settings s) throws SQLException {
    Properties p = new Properties();
    if (s.user() != null) {
      p.setProperty("user", s.user());
    }
    if (s.password() != null) {
      p.setProperty("password", s.password());
    }
    return DriverManager.getConnection(s.url(), p);
  }

  private static void exec(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  private static double secs(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
