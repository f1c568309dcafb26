package dev.eventproc.sink.postgres;

import static dev.eventproc.config.Identifiers.quotePostgres;

import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.io.Serializable;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Every statement the sink runs (the tables' DDL is in {@link PostgresTables}). Identifiers are
 * validated plain names, quoted here; values are bind parameters or COPY data, never part of the text.
 *
 * <p>One instance per sink names its tables; {@link #forBatch} adds the columns of a batch for the
 * statements that read staging. Those read the rows of one attempt ({@code attempt = ?}, bound first)
 * and, when built for slices, of one key-hash slice ({@code slice = ?}, bound second).
 */
final class PgSql implements Serializable {
  private static final long serialVersionUID = 1L;

  /** Takes a session advisory lock without waiting: the writer lock. */
  static final String TRY_LOCK = "SELECT pg_try_advisory_lock(?)";
  static final String UNLOCK = "SELECT pg_advisory_unlock(?)";
  /** Takes a transaction advisory lock, waiting: serializes DDL, and a staging task with its retries. */
  static final String XACT_LOCK = "SELECT pg_advisory_xact_lock(?)";
  /** Keeps the sort of a large batch in memory. */
  static final String SORT_MEMORY = "SET LOCAL work_mem = '256MB'";
  static final String EXISTS = "SELECT to_regclass(?) IS NOT NULL";
  /** Name and type of each column of a table, in order, types as {@code format_type} writes them. */
  static final String COLUMN_TYPES = "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
      + "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum";
  /** The sorted columns of each unique index of a table. */
  static final String UNIQUE_INDEX_COLUMNS = "SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i "
      + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
      + "WHERE i.indrelid = to_regclass(?) AND i.indisunique GROUP BY i.indexrelid";

  /**
   * Settings of a staging task's session: a lock wait ends after {@code lockTimeout} (SQLState
   * 55P03), and PostgreSQL probes the client after 30 s of silence (TCP keepalive,
   * 3 probes 10 s apart), so the session of an executor lost without a TCP reset ends within about a
   * minute and releases its locks, instead of after the operating system's two hours.
   */
  static String taskSession(Duration lockTimeout) {
    return "SET lock_timeout = " + Math.max(1, lockTimeout.toMillis()) + "; SET tcp_keepalives_idle = 30; "
        + "SET tcp_keepalives_interval = 10; SET tcp_keepalives_count = 3";
  }

  private final PostgresTables tables;
  private final SinkSpec spec;
  private final List<String> columns;
  private final boolean sliced;

  /** The statements of a sink; {@link #forBatch} adds a batch's columns for those that read staging. */
  PgSql(PostgresTables tables, SinkSpec spec) {
    this(tables, spec, List.of(), false);
  }

  private PgSql(PostgresTables tables, SinkSpec spec, List<String> columns, boolean sliced) {
    this.tables = tables;
    this.spec = spec;
    this.columns = List.copyOf(columns);
    this.sliced = sliced;
  }

  /**
   * The statements of one batch: {@code columns} are the target's, in COPY order; {@code sliced} says
   * whether the staging statements select one key-hash slice of the batch.
   */
  PgSql forBatch(List<String> columns, boolean sliced) {
    return new PgSql(tables, spec, columns, sliced);
  }

  boolean sliced() {
    return sliced;
  }

  /** The statements of history mode for this batch's columns and shape. */
  PgHistorySql history() {
    return new PgHistorySql(this, tables, spec, columns);
  }

  boolean hasDeletes() {
    return spec.deleteCondition() != null;
  }

  WriteMode mode() {
    return spec.mode();
  }

  /** Whether rows of a key are ordered by version columns. */
  boolean ordered() {
    return !spec.orderColumns().isEmpty();
  }

  // ---------------------------------------------------------------- ledger, staging, task markers

  String insertLedger() {
    return "INSERT INTO " + tables.ledgerRef() + " (writer, query_id, batch_id, partition_id, partitions, target_table, "
        + "rows_in, rows_written, rows_ignored) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  }

  /** Ledger rows of one batch of one writer: slice ({@code partition_id}), slice count ({@code partitions}), target. */
  String ledgerOfBatch() {
    return "SELECT partition_id, partitions, target_table FROM " + tables.ledgerRef()
        + " WHERE writer = ? AND query_id = ? AND batch_id = ?";
  }

  /**
   * The two newest batches of one writer and target in the ledger: batch, whether it was committed whole,
   * slices committed, slice count, commit time of its last row, rows written. Only the newest can be
   * committed in part: a batch is finished before the next one starts.
   */
  String newestLedgerBatches() {
    return "SELECT batch_id, bool_or(partition_id = -1), count(*), max(partitions), max(committed_at), sum(rows_written) FROM "
        + tables.ledgerRef() + " WHERE writer = ? AND query_id = ? AND target_table = ? GROUP BY batch_id ORDER BY batch_id DESC LIMIT 2";
  }

  String dropStaging() {
    return "DROP TABLE IF EXISTS " + tables.stageRef();
  }

  String truncateStaging() {
    return "TRUNCATE " + tables.stageRef();
  }

  /** Forgets the task markers of a writer (with its staging emptied). */
  String deleteTaskMarkers() {
    return "DELETE FROM " + tables.taskMarkersRef() + " WHERE writer = ?";
  }

  /** Records that the task of (attempt, task partition) staged its rows. */
  String insertTaskMarker() {
    return "INSERT INTO " + tables.taskMarkersRef() + " (writer, attempt, partition_id, row_count) VALUES (?, ?, ?, ?)";
  }

  /** Removes the marker of (attempt, task partition), returning a row when an earlier run of the task staged rows. */
  String takeTaskMarker() {
    return "DELETE FROM " + tables.taskMarkersRef() + " WHERE attempt = ? AND partition_id = ? RETURNING row_count";
  }

  /** Staged rows of (attempt, task partition). */
  String deleteTaskRows() {
    return "DELETE FROM " + tables.stageRef() + " WHERE " + quotePostgres(PostgresTables.ATTEMPT) + " = ? AND "
        + quotePostgres(PostgresTables.PARTITION) + " = ?";
  }

  /** Whether the target holds any of the keys in an array parameter (the direct path's sample). */
  String anyKeyExists(String keyColumn) {
    return "SELECT EXISTS (SELECT 1 FROM " + tables.targetRef() + " WHERE " + quotePostgres(keyColumn) + " = ANY(?))";
  }

  /** Binary COPY into staging: target columns, delete flag, slice, attempt, task partition. */
  String copyIntoStage() {
    List<String> cols = new ArrayList<>(columns);
    cols.addAll(List.of(PostgresTables.DELETE_FLAG, PostgresTables.SLICE, PostgresTables.ATTEMPT, PostgresTables.PARTITION));
    return "COPY " + tables.stageRef() + " (" + list(cols, "") + ") FROM STDIN WITH (FORMAT binary)";
  }

  /** Binary COPY straight into the target (the direct path): its columns only. */
  String copyIntoTarget() {
    return "COPY " + tables.targetRef() + " (" + list(columns, "") + ") FROM STDIN WITH (FORMAT binary)";
  }

  /** {@code  s.attempt = ? [AND s.slice = ?]}: the staged rows of the attempt (and slice). */
  String filter() {
    return " s." + quotePostgres(PostgresTables.ATTEMPT) + " = ?" + (sliced ? " AND s." + quotePostgres(PostgresTables.SLICE) + " = ?" : "");
  }

  /** Staged rows of the attempt (and slice). */
  String countStaged() {
    return "SELECT count(*) FROM " + tables.stageRef() + " s WHERE" + filter();
  }

  // ---------------------------------------------------------------- tombstones and the MERGE

  /** Whether any tombstone exists (the direct path cannot check rows against them). */
  String anyTombstone() {
    return "SELECT EXISTS (SELECT 1 FROM " + tables.tombstonesRef() + ")";
  }

  /** Purges tombstones older than the retention (seconds as a bind parameter). */
  String purgeTombstones() {
    return "DELETE FROM " + tables.tombstonesRef() + " WHERE " + quotePostgres(PostgresTables.DELETED_AT)
        + " < now() - make_interval(secs => ?)";
  }

  /**
   * {@code a} is newer than {@code b} by the order columns, comparing left to right; a null ranks
   * below every value and two nulls are equal (the same order as the Delta and Iceberg sinks).
   * TRUE when there are no order columns (a later batch replaces the row).
   */
  String newer(String a, String b) {
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
        + list(spec.keyColumns(), "s.") + ") " + list(cols, "s.") + " FROM " + tables.stageRef() + " s WHERE" + filter()
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
          + " FROM " + tables.stageRef() + " s WHERE" + filter();
    }
    StringBuilder source = new StringBuilder("SELECT ");
    if (onePerKey) {
      source.append("DISTINCT ON (").append(list(spec.keyColumns(), "s.")).append(") ");
    }
    source.append(list(columns, "s.")).append(", ").append(del).append(" FROM ").append(tables.stageRef()).append(" s WHERE")
        .append(filter());
    if (hasDeletes()) {
      source.append(" AND (").append(del).append(" OR NOT EXISTS (SELECT 1 FROM ").append(tables.tombstonesRef())
          .append(" b WHERE ").append(keysMatch("b", "s")).append(" AND NOT ").append(newer("s", "b")).append("))");
    }
    if (onePerKey) {
      source.append(" ORDER BY ").append(list(spec.keyColumns(), "s.")).append(order("s", spec.mode() == WriteMode.UPSERT));
    }
    StringBuilder merge = new StringBuilder("MERGE INTO ").append(tables.targetRef()).append(" AS t USING (").append(source)
        .append(") AS s ON ").append(keysMatch("t", "s"));
    String notDeleted = hasDeletes() ? " AND NOT " + del : "";
    if (spec.mode() == WriteMode.UPSERT) {
      String newer = newer("s", "t");
      if (hasDeletes()) {
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

  /** The columns quoted, each after {@code prefix}, comma-separated. */
  static String list(List<String> cols, String prefix) {
    return cols.stream().map(c -> prefix + quotePostgres(c)).collect(Collectors.joining(", "));
  }
}
