package dev.eventproc.sink.postgres;

import static dev.eventproc.config.Identifiers.quotePostgres;
import static dev.eventproc.sink.postgres.PgSql.list;

import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The statements that apply one attempt's staged rows to the target in {@code upsert},
 * {@code insert-if-absent} and {@code append} mode: the tombstones of deleted keys, and the MERGE (or
 * INSERT). Built by {@link PgSql#merge()} for a batch's columns and shape; history mode has
 * {@link PgHistorySql} instead.
 */
final class PgMergeSql {
  private final PgSql sql;
  private final PostgresTables tables;
  private final SinkSpec spec;
  private final List<String> columns;

  PgMergeSql(PgSql sql, PostgresTables tables, SinkSpec spec, List<String> columns) {
    this.sql = sql;
    this.tables = tables;
    this.spec = spec;
    this.columns = columns;
  }

  /**
   * {@code a} is newer than {@code b} by the order columns, comparing left to right; a null ranks
   * below every value and two nulls are equal (the same order as the Delta and Iceberg sinks).
   * TRUE when there are no order columns (a later batch replaces the row).
   */
  private String newer(String a, String b) {
    List<String> order = spec.orderColumns();
    if (order.isEmpty()) {
      return "TRUE";
    }
    List<String> terms = new ArrayList<>();
    for (int i = 0; i < order.size(); i++) {
      StringBuilder t = new StringBuilder("(");
      for (int j = 0; j < i; j++) {
        String c = quotePostgres(order.get(j));
        t.append(a).append('.').append(c).append(" IS NOT DISTINCT FROM ").append(b).append('.').append(c).append(" AND ");
      }
      String c = quotePostgres(order.get(i));
      t.append(a).append('.').append(c).append(" IS NOT NULL AND (").append(b).append('.').append(c).append(" IS NULL OR ")
          .append(a).append('.').append(c).append(" > ").append(b).append('.').append(c).append("))");
      terms.add(t.toString());
    }
    return "(" + String.join(" OR ", terms) + ")";
  }

  private String keysMatch(String a, String b) {
    return spec.keyColumns().stream().map(k -> a + "." + quotePostgres(k) + " = " + b + "." + quotePostgres(k))
        .collect(Collectors.joining(" AND "));
  }

  /** {@code , s.v DESC NULLS LAST, ...} (newest first) or {@code , s.v ASC NULLS FIRST, ...} (oldest first). */
  private String order(String alias, boolean newestFirst) {
    return spec.orderColumns().stream().map(c -> ", " + alias + "." + quotePostgres(c)
        + (newestFirst ? " DESC NULLS LAST" : " ASC NULLS FIRST")).collect(Collectors.joining());
  }

  /** Remembers the newest deleting version per key (one row per key: a batch may delete a key twice). */
  String upsertTombstones() {
    List<String> cols = new ArrayList<>(spec.keyColumns());
    cols.addAll(spec.orderColumns());
    String set = spec.orderColumns().stream().map(c -> quotePostgres(c) + " = EXCLUDED." + quotePostgres(c))
        .collect(Collectors.joining(", "));
    set = (set.isEmpty() ? "" : set + ", ") + quotePostgres(PostgresTables.DELETED_AT) + " = now()";
    return "INSERT INTO " + tables.tombstonesRef() + " AS t (" + list(cols, "") + ") SELECT DISTINCT ON ("
        + list(spec.keyColumns(), "s.") + ") " + list(cols, "s.") + " FROM " + tables.stageRef() + " s WHERE" + sql.filter()
        + " AND s." + quotePostgres(PostgresTables.DELETE_FLAG) + " ORDER BY " + list(spec.keyColumns(), "s.") + order("s", true)
        + " ON CONFLICT (" + list(spec.keyColumns(), "") + ") DO UPDATE SET " + set + " WHERE " + newer("EXCLUDED", "t");
  }

  /**
   * Applies the staged rows in the sink's mode: a plain INSERT (append), or one MERGE that deletes,
   * updates (when the staged version is newer) and inserts. With {@code onePerKey} the source holds
   * only the newest row of each key (the oldest for insert-if-absent), by a sort; without, the
   * statement is cheaper and PostgreSQL refuses (SQLState 21000 or 23505) when a key repeats.
   */
  String apply(boolean onePerKey) {
    String del = "s." + quotePostgres(PostgresTables.DELETE_FLAG);
    if (spec.mode() == WriteMode.APPEND) {
      return "INSERT INTO " + tables.targetRef() + " (" + list(columns, "") + ") SELECT " + list(columns, "s.")
          + " FROM " + tables.stageRef() + " s WHERE" + sql.filter();
    }
    StringBuilder source = new StringBuilder("SELECT ");
    if (onePerKey) {
      source.append("DISTINCT ON (").append(list(spec.keyColumns(), "s.")).append(") ");
    }
    source.append(list(columns, "s.")).append(", ").append(del).append(" FROM ").append(tables.stageRef()).append(" s WHERE")
        .append(sql.filter());
    if (sql.hasDeletes()) {
      source.append(" AND (").append(del).append(" OR NOT EXISTS (SELECT 1 FROM ").append(tables.tombstonesRef())
          .append(" b WHERE ").append(keysMatch("b", "s")).append(" AND NOT ").append(newer("s", "b")).append("))");
    }
    if (onePerKey) {
      source.append(" ORDER BY ").append(list(spec.keyColumns(), "s.")).append(order("s", spec.mode() == WriteMode.UPSERT));
    }
    StringBuilder merge = new StringBuilder("MERGE INTO ").append(tables.targetRef()).append(" AS t USING (").append(source)
        .append(") AS s ON ").append(keysMatch("t", "s"));
    String notDeleted = sql.hasDeletes() ? " AND NOT " + del : "";
    if (spec.mode() == WriteMode.UPSERT) {
      String newer = newer("s", "t");
      if (sql.hasDeletes()) {
        merge.append(" WHEN MATCHED AND ").append(del).append(" AND ").append(newer).append(" THEN DELETE");
      }
      List<String> updatable = columns.stream().filter(c -> !spec.keyColumns().contains(c)).toList();
      if (!updatable.isEmpty()) {
        merge.append(" WHEN MATCHED").append(notDeleted).append(" AND ").append(newer).append(" THEN UPDATE SET ")
            .append(updatable.stream().map(c -> quotePostgres(c) + " = s." + quotePostgres(c)).collect(Collectors.joining(", ")));
      }
    }
    merge.append(" WHEN NOT MATCHED").append(notDeleted).append(" THEN INSERT (").append(list(columns, ""))
        .append(") VALUES (").append(list(columns, "s.")).append(")");
    return merge.toString();
  }
}
