package dev.eventproc.reconcile;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
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
import org.apache.spark.sql.SparkSession;

/**
 * A PostgreSQL sink's checks, run over JDBC on the sink's own server: duplicate keys, rows vs distinct
 * keys (a history table: its intervals), source vs sink and daily totals (with a {@code schema.table}
 * source there), ledger continuity.
 */
final class PostgresChecks extends SinkChecks<PostgresSink> {
  PostgresChecks() {
    super(PostgresSink.class);
  }

  @Override
  List<Result> check(SparkSession spark, PostgresSink sink, ReconcileOptions o) {
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
                + ") AS " + Reconciler.KEY_VIEW_COLUMN + " FROM " + Identifiers.quotePostgres(sink.options().schema()) + "."
                + Identifiers.quotePostgres(sink.options().table()));
          }
          k.put("schema", "pg_temp");
          k.put("table", "eventproc_reconcile_keys");
          k.put("key", Reconciler.KEY_VIEW_COLUMN);
        }
        if (spec.mode() == WriteMode.HISTORY) {
          out.addAll(history(c, sink, k, o));
        } else {
          out.addAll(runPostgres(c, sink, "duplicate_keys.sql", k));
          out.addAll(runPostgres(c, sink, "rows_vs_distinct.sql", k));
        }
        if (spec.mode() != WriteMode.HISTORY && o.hasSource() && o.amountColumn() != null && spec.versionColumn() != null && spec.keyColumns().size() == 1) {
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
      l.put("accept_gaps", o.acceptGaps());
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

  /**
   * History tables: intervals always; current rows against the source when there is one and the sink has
   * no delete condition (that is Spark SQL, which PostgreSQL cannot run: check with psql and a view then).
   */
  private static List<Result> history(Connection c, PostgresSink sink, Map<String, String> keyed, ReconcileOptions o)
      throws SQLException {
    SinkSpec spec = sink.spec();
    Map<String, String> h = new HashMap<>(keyed);
    h.put("tiebreak", spec.tiebreakColumn() != null ? spec.tiebreakColumn() : spec.versionColumn());
    List<Result> out = new ArrayList<>(runPostgres(c, sink, "history_intervals.sql", h));
    if (o.hasSource() && spec.deleteCondition() == null && spec.keyColumns().size() == 1) {
      putPostgresSource(h, o);
      try (Statement st = c.createStatement()) {
        st.execute("CREATE OR REPLACE TEMP VIEW eventproc_reconcile_source AS SELECT *, FALSE AS " + Reconciler.DELETED_COLUMN
            + " FROM " + Identifiers.quotePostgres(h.get("source_schema")) + "." + Identifiers.quotePostgres(h.get("source_table")));
      }
      h.put("source_schema", "pg_temp");
      h.put("source_table", "eventproc_reconcile_source");
      h.put("version_col", spec.versionColumn());
      h.put("deleted_col", Reconciler.DELETED_COLUMN);
      out.addAll(runPostgres(c, sink, "history_vs_source.sql", h));
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
}
