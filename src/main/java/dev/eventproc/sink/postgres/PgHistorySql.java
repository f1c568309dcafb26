package dev.eventproc.sink.postgres;

import static dev.eventproc.config.Identifiers.quotePostgres;
import static dev.eventproc.sink.postgres.PgSql.list;

import dev.eventproc.sink.HistoryMode;
import dev.eventproc.sink.SinkSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The statements of {@code sink.mode=history} (see {@link HistoryMode}), beside {@link PgSql}, whose
 * staging filter they share. The batch's deletes are recorded first; then one MERGE recomputes the
 * intervals of the keys the batch touches from their stored rows, their stored deletes and the staged
 * rows, and changes only what differs: new rows inserted, a closed row's {@code __end_at} updated, a row
 * replaced by a delete at its very (version, tie-break) removed. Other keys are not read.
 */
final class PgHistorySql {
  private static final String DELETE = PostgresTables.DELETE_FLAG;
  private static final String SOURCE = "__eventproc_source";
  private static final String ROW = "__eventproc_row";
  private static final String END = "__eventproc_end";

  private final PgSql sql;
  private final PostgresTables tables;
  private final SinkSpec spec;
  private final List<String> columns;

  PgHistorySql(PgSql sql, PostgresTables tables, SinkSpec spec, List<String> columns) {
    this.sql = sql;
    this.tables = tables;
    this.spec = spec;
    this.columns = List.copyOf(columns);
  }

  /** Keys and (version, tie-break) of the staged deletes, each kept once and for good. */
  String recordDeletes() {
    List<String> cols = keyAndOrder();
    return "INSERT INTO " + tables.tombstonesRef() + " (" + list(cols, "") + ") SELECT DISTINCT " + list(cols, "s.")
        + " FROM " + tables.stageRef() + " s WHERE" + sql.filter() + " AND s." + quotePostgres(DELETE) + " ON CONFLICT DO NOTHING";
  }

  /**
   * The MERGE of the staged rows (of an attempt, and slice). Every event of an affected key, stored or
   * staged, is resolved to one per (key, version, tie-break): a delete over an update, a stored row over
   * a staged one, then the greatest staged row by its text; each is closed by the next one's version.
   */
  String apply() {
    List<String> keys = spec.keyColumns();
    String stageWhere = " FROM " + tables.stageRef() + " s WHERE" + sql.filter();
    String affected = "(" + list(keys, "x.") + ") IN (SELECT " + list(keys, "") + " FROM staged)";
    String staged = "staged AS (SELECT " + list(columns, "s.") + ", s." + quotePostgres(DELETE) + ", 1 AS " + SOURCE
        + ", ROW(" + list(columns, "s.") + ")::text AS " + ROW + stageWhere + ")";
    String stored = "SELECT " + list(columns, "x.") + ", FALSE, 0, NULL::text FROM " + tables.targetRef() + " x WHERE " + affected;
    String events = "events AS (SELECT * FROM staged UNION ALL " + stored
        + (sql.hasDeletes() ? " UNION ALL " + storedDeletes(affected) : "") + ")";
    String resolved = "resolved AS (SELECT DISTINCT ON (" + list(keyAndOrder(), "e.") + ") e.* FROM events e ORDER BY "
        + list(keyAndOrder(), "e.") + ", e." + quotePostgres(DELETE) + " DESC, e." + quotePostgres(SOURCE) + ", e."
        + quotePostgres(ROW) + " DESC NULLS LAST)";
    String order = spec.orderColumns().stream().map(c -> "r." + quotePostgres(c) + " NULLS FIRST").collect(Collectors.joining(", "));
    String source = "WITH " + staged + ", " + events + ", " + resolved + " SELECT r.*, lead(r." + quotePostgres(spec.versionColumn())
        + ") OVER (PARTITION BY " + list(keys, "r.") + " ORDER BY " + order + ") AS " + quotePostgres(END) + " FROM resolved r";
    String match = keys.stream().map(k -> "t." + quotePostgres(k) + " = s." + quotePostgres(k)).collect(Collectors.joining(" AND "))
        + " AND t." + quotePostgres(HistoryMode.START_AT) + " IS NOT DISTINCT FROM s." + quotePostgres(spec.versionColumn())
        + (spec.tiebreakColumn() == null ? "" : " AND t." + quotePostgres(spec.tiebreakColumn()) + " IS NOT DISTINCT FROM s."
        + quotePostgres(spec.tiebreakColumn()));
    String end = quotePostgres(HistoryMode.END_AT);
    List<String> target = new ArrayList<>(columns);
    target.addAll(List.of(HistoryMode.START_AT, HistoryMode.END_AT));
    return "MERGE INTO " + tables.targetRef() + " AS t USING (" + source + ") AS s ON " + match
        + " WHEN MATCHED AND s." + quotePostgres(DELETE) + " THEN DELETE"
        + " WHEN MATCHED AND t." + end + " IS DISTINCT FROM s." + quotePostgres(END) + " THEN UPDATE SET " + end + " = s."
        + quotePostgres(END)
        + " WHEN NOT MATCHED AND NOT s." + quotePostgres(DELETE) + " THEN INSERT (" + list(target, "") + ") VALUES ("
        + list(columns, "s.") + ", s." + quotePostgres(spec.versionColumn()) + ", s." + quotePostgres(END) + ")";
  }

  /** Stored deletes of the affected keys as events: key and order columns, the other columns null. */
  private String storedDeletes(String affected) {
    String cols = columns.stream().map(c -> keyAndOrder().contains(c) ? "x." + quotePostgres(c) : "NULL")
        .collect(Collectors.joining(", "));
    return "SELECT " + cols + ", TRUE, 0, NULL::text FROM " + tables.tombstonesRef() + " x WHERE " + affected;
  }

  private List<String> keyAndOrder() {
    List<String> out = new ArrayList<>(spec.keyColumns());
    out.addAll(spec.orderColumns());
    return out;
  }
}
