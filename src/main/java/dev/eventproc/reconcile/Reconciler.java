package dev.eventproc.reconcile;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.FanOut;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SparkTableSink;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.files.FilesSink;
import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.sink.kafka.KafkaSink;
import dev.eventproc.sink.postgres.PostgresSink;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Runs the checks of {@code sql/} that fit each configured sink, binding their parameters from the
 * config. Every sink with key columns (not append) gets duplicate keys and rows vs distinct keys;
 * every sink its commit-record check (PostgreSQL ledger, Delta transaction ids, Iceberg snapshot
 * summaries, the files sink's batch directories, the Kafka topic read {@code read_committed}); with
 * {@link ReconcileOptions} a source, also source vs sink and daily totals.
 */
public final class Reconciler {
  /** A composite key is checked on a view that adds one text column joining the key columns. */
  static final String KEY_VIEW_COLUMN = "eventproc_key";

  private Reconciler() {}

  /** One row of a check's result. */
  public record Result(String sink, String target, String check, String status, String offending, String detail) {
    public boolean failed() {
      return !"PASS".equals(status);
    }
  }

  public static List<Result> run(SparkSession spark, PipelineConfig config) {
    List<Result> out = new ArrayList<>();
    for (BatchSink sink : sinks(config.sink())) {
      try {
        if (sink instanceof PostgresSink p) {
          out.addAll(postgres(p, config.reconcile()));
        } else if (sink instanceof SparkTableSink t) {
          out.addAll(lakehouse(spark, t, config.reconcile()));
        } else if (sink instanceof FilesSink f) {
          out.addAll(files(spark, f, config.reconcile()));
        } else if (sink instanceof KafkaSink k) {
          out.addAll(kafka(spark, k));
        }
      } catch (RuntimeException e) {
        out.add(new Result(sink.name(), target(sink), "run", "ERROR", "", "could not run the checks: " + e.getMessage()));
      }
    }
    return out;
  }

  private static List<BatchSink> sinks(BatchSink sink) {
    return sink instanceof FanOut f ? f.routes().stream().map(FanOut.Route::sink).toList() : List.of(sink);
  }

  private static boolean keyed(SinkSpec spec) {
    return spec.mode() != WriteMode.APPEND && !spec.keyColumns().isEmpty();
  }

  // PostgreSQL --------------------------------------------------------------------------------

  private static List<Result> postgres(PostgresSink sink, ReconcileOptions o) {
    SinkSpec spec = sink.spec();
    List<Result> out = new ArrayList<>();
    try (Connection c = sink.openConnection()) {
      c.setAutoCommit(true);
      try (Statement s = c.createStatement()) {
        s.execute("SET TIME ZONE 'UTC'"); // days are UTC days, as in Spark's checks
      }
      Map<String, String> v = new HashMap<>();
      v.put("schema", sink.options().schema());
      v.put("table", sink.options().table());
      if (keyed(spec)) {
        Map<String, String> k = new HashMap<>(v);
        if (spec.keyColumns().size() == 1) {
          k.put("key", spec.keyColumns().get(0));
        } else {
          try (Statement s = c.createStatement()) {
            s.execute("CREATE OR REPLACE TEMP VIEW eventproc_reconcile_keys AS SELECT *, concat_ws(E'\\x1f', "
                + String.join(", ", spec.keyColumns().stream().map(col -> Identifiers.quotePostgres(col) + "::text").toList())
                + ") AS " + KEY_VIEW_COLUMN + " FROM " + Identifiers.quotePostgres(sink.options().schema()) + "."
                + Identifiers.quotePostgres(sink.options().table()));
          }
          k.put("schema", "pg_temp");
          k.put("table", "eventproc_reconcile_keys");
          k.put("key", KEY_VIEW_COLUMN);
        }
        out.addAll(runPostgres(c, sink, "duplicate_keys.sql", k));
        out.addAll(runPostgres(c, sink, "rows_vs_distinct.sql", k));
        if (o.hasSource() && o.amountColumn() != null && spec.versionColumn() != null && spec.keyColumns().size() == 1) {
          Map<String, String> s = new HashMap<>(k);
          putPostgresSource(s, o);
          s.put("version_col", spec.versionColumn());
          s.put("amount_col", o.amountColumn());
          out.addAll(runPostgres(c, sink, "source_vs_sink.sql", s));
        }
      }
      Map<String, String> l = new HashMap<>(v);
      l.put("ledger_schema", sink.options().schema());
      l.put("ledger_table", sink.options().ledgerTable());
      l.put("writer", sink.name());
      l.put("query_id", "*");
      l.put("mode", ConfigReader.configName(spec.mode()));
      out.addAll(runPostgres(c, sink, "ledger_continuity.sql", l));
      if (o.dailyTotals()) {
        Map<String, String> d = new HashMap<>(v);
        putPostgresSource(d, o);
        d.put("time_col", o.timeColumn());
        d.put("amount_col", o.amountColumn());
        d.put("from_date", o.from());
        d.put("to_date", o.to());
        out.addAll(runPostgres(c, sink, "daily_totals.sql", d));
      }
    } catch (SQLException e) {
      throw new IllegalStateException("sink " + sink.name() + ": " + e.getMessage(), e);
    }
    return out;
  }

  private static void putPostgresSource(Map<String, String> values, ReconcileOptions o) {
    if (o.sourceTable() == null || o.sourceTable().size() != 2) {
      throw new IllegalStateException(ReconcileOptions.SOURCE_TABLE + " must be schema.table for a PostgreSQL sink");
    }
    values.put("source_schema", o.sourceTable().get(0));
    values.put("source_table", o.sourceTable().get(1));
  }

  private static List<Result> runPostgres(Connection c, BatchSink sink, String file, Map<String, String> values)
      throws SQLException {
    List<SqlTemplate.Bound> statements = SqlTemplate.load("postgres/reconcile/" + file).bindPostgres(values);
    List<Result> out = new ArrayList<>();
    for (int i = 0; i < statements.size(); i++) {
      SqlTemplate.Bound b = statements.get(i);
      try (PreparedStatement ps = c.prepareStatement(b.sql())) {
        for (int p = 0; p < b.parameters().size(); p++) {
          ps.setString(p + 1, b.parameters().get(p));
        }
        boolean rows = ps.execute();
        if (i == statements.size() - 1 && rows) {
          try (ResultSet rs = ps.getResultSet()) {
            while (rs.next()) {
              out.add(new Result(sink.name(), target(sink), rs.getString(1), rs.getString(2), nz(rs.getString(3)),
                  nz(rs.getString(4))));
            }
          }
        }
      }
    }
    return out;
  }

  // Spark: Delta, Iceberg, files, Kafka ------------------------------------------------------

  private static List<Result> lakehouse(SparkSession spark, SparkTableSink sink, ReconcileOptions o) {
    if (sink instanceof IcebergSink) {
      ((IcebergSink) sink).useCatalog(spark);
    }
    String ref = sink.table().sqlRef();
    List<Result> out = new ArrayList<>(keyChecks(spark, sink, ref, o));
    Map<String, String> v = new HashMap<>();
    v.put("writer", sink.name());
    v.put("allow_gaps", "true");
    if (sink instanceof IcebergSink) {
      out.addAll(runSpark(spark, sink, "iceberg_snapshot_continuity.sql", Map.of("table", ref), v));
    } else {
      String location = spark.sql("DESCRIBE DETAIL " + ref).select("location").first().getString(0);
      v.put("table_path", location.endsWith("/") ? location.substring(0, location.length() - 1) : location);
      out.addAll(runSpark(spark, sink, "delta_txn_continuity.sql", Map.of(), v));
    }
    return out;
  }

  private static List<Result> files(SparkSession spark, FilesSink sink, ReconcileOptions o) {
    String ref = sink.format().name().toLowerCase(java.util.Locale.ROOT) + "." + Identifiers.quoteSparkPath(sink.target());
    List<Result> out = new ArrayList<>(keyChecks(spark, sink, ref, o));
    out.addAll(runSpark(spark, sink, "files_batch_continuity.sql", Map.of("table", ref), Map.of("allow_gaps", "true")));
    return out;
  }

  private static List<Result> keyChecks(SparkSession spark, BatchSink sink, String ref, ReconcileOptions o) {
    SinkSpec spec = ((dev.eventproc.sink.AbstractBatchSink) sink).spec();
    List<Result> out = new ArrayList<>();
    if (keyed(spec)) {
      String table = ref;
      String key;
      if (spec.keyColumns().size() == 1) {
        key = spec.keyColumns().get(0);
      } else {
        String view = "eventproc_reconcile_keys_" + sink.name();
        Dataset<Row> keyedView = spark.sql("SELECT *, concat_ws('\\u001f', "
            + String.join(", ", spec.keyColumns().stream().map(c -> "CAST(" + Identifiers.quoteSpark(c) + " AS STRING)").toList())
            + ") AS " + KEY_VIEW_COLUMN + " FROM " + ref);
        keyedView.createOrReplaceTempView(view);
        table = Identifiers.quoteSpark(view);
        key = KEY_VIEW_COLUMN;
      }
      out.addAll(runSpark(spark, sink, "duplicate_keys.sql", Map.of("table", table), Map.of("key", key)));
      out.addAll(runSpark(spark, sink, "rows_vs_distinct.sql", Map.of("table", table), Map.of("key", key)));
      if (o.hasSource() && o.amountColumn() != null && spec.versionColumn() != null && spec.keyColumns().size() == 1) {
        out.addAll(runSpark(spark, sink, "source_vs_sink.sql", Map.of("table", table, "source_table", o.sparkSource()),
            Map.of("key", key, "version_col", spec.versionColumn(), "amount_col", o.amountColumn())));
      }
    }
    if (o.dailyTotals()) {
      out.addAll(runSpark(spark, sink, "daily_totals.sql", Map.of("table", ref, "source_table", o.sparkSource()),
          Map.of("time_col", o.timeColumn(), "amount_col", o.amountColumn(), "from_date", o.from(), "to_date", o.to())));
    }
    return out;
  }

  private static List<Result> kafka(SparkSession spark, KafkaSink sink) {
    String dump = "eventproc_kafka_dump_" + sink.name();
    Map<String, String> v = new HashMap<>();
    v.put("bootstrap", sink.options().bootstrapServers());
    v.put("topic", sink.options().topic());
    v.put("dump", dump);
    runSpark(spark, sink, "kafka_dump_view.sql", Map.of(), v);
    return runSpark(spark, sink, "kafka_duplicate_keys.sql", Map.of("dump", Identifiers.quoteSpark(dump)),
        Map.of("mode", ConfigReader.configName(sink.spec().mode())));
  }

  private static List<Result> runSpark(SparkSession spark, BatchSink sink, String file, Map<String, String> tables,
      Map<String, String> values) {
    List<String> statements = SqlTemplate.load("spark/" + file).bindSpark(tables, values);
    List<Result> out = new ArrayList<>();
    for (int i = 0; i < statements.size(); i++) {
      Dataset<Row> result = spark.sql(statements.get(i));
      if (i == statements.size() - 1 && result.columns().length >= 4 && "check_name".equals(result.columns()[0])) {
        for (Row r : result.collectAsList()) {
          out.add(new Result(sink.name(), target(sink), r.getString(0), r.getString(1), nz(r.getString(2)), nz(r.getString(3))));
        }
      }
    }
    return out;
  }

  private static String target(BatchSink sink) {
    return sink instanceof dev.eventproc.sink.AbstractBatchSink a ? a.target() : sink.name();
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
