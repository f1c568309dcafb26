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
 * Every statement the sink runs, with those that apply a batch in {@link PgMergeSql} and
 * {@link PgHistorySql} (the tables' DDL is in {@link PostgresTables}). Identifiers are
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
  /** The backend holding a session advisory lock, given the two 32-bit halves pg_locks shows of its bigint key. */
  static final String LOCK_HOLDER = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 "
      + "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) AND classid::bigint = ? AND objid::bigint = ?";
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

  /** The statements that apply this batch's staged rows in upsert, insert-if-absent or append mode. */
  PgMergeSql merge() {
    return new PgMergeSql(this, tables, spec, columns);
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

  /** The staging table, schema-qualified and quoted. */
  String stageRef() {
    return tables.stageRef();
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

  // ---------------------------------------------------------------- tombstones

  /** Whether any tombstone exists (the direct path cannot check rows against them). */
  String anyTombstone() {
    return "SELECT EXISTS (SELECT 1 FROM " + tables.tombstonesRef() + ")";
  }

  /** Purges tombstones older than the retention (seconds as a bind parameter). */
  String purgeTombstones() {
    return "DELETE FROM " + tables.tombstonesRef() + " WHERE " + quotePostgres(PostgresTables.DELETED_AT)
        + " < now() - make_interval(secs => ?)";
  }

  /** The columns quoted, each after {@code prefix}, comma-separated. */
  static String list(List<String> cols, String prefix) {
    return cols.stream().map(c -> prefix + quotePostgres(c)).collect(Collectors.joining(", "));
  }
}
