package dev.eventproc.sink.postgres;

import static dev.eventproc.config.Identifiers.quotePostgres;

import dev.eventproc.sink.HistoryMode;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.util.Sha256;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The tables of one Postgres sink and their DDL: the target, the ledger (shared by all sinks of a
 * schema, DDL also in {@code sql/postgres/ledger.sql}), the tombstones (upsert with deletes), a
 * per-writer UNLOGGED staging table (every path but the direct COPY stages, in both commit shapes),
 * and the task markers that let a retried or speculative staging task replace only its own rows.
 * The statements that use them are in {@link PgSql}.
 */
final class PostgresTables implements Serializable {
  private static final long serialVersionUID = 1L;

  static final int MAX_IDENTIFIER = 63;
  static final String TOMBSTONE_SUFFIX = SinkSpec.TOMBSTONE_SUFFIX;
  static final String STAGE_PREFIX = "eventproc_stage_";
  /** Task markers, shared by the sinks of a schema (its name predates "slice" meaning a key-hash part; kept for existing schemas). */
  static final String TASK_MARKERS = "eventproc_slices";
  static final String DELETE_FLAG = "__eventproc_delete";
  static final String ATTEMPT = "__eventproc_attempt";
  static final String PARTITION = "__eventproc_partition";
  static final String SLICE = "__eventproc_slice";
  static final String DELETED_AT = "deleted_at";

  final String schema;
  final String table;
  final String ledger;
  final String stage;
  final String tombstones;

  PostgresTables(PostgresOptions o, String sinkName) {
    this.schema = o.schema();
    this.table = o.table();
    this.ledger = o.ledgerTable();
    this.stage = fit(STAGE_PREFIX + o.table() + "_" + sinkName); // one per (target, writer): the writer lock's scope
    this.tombstones = o.table() + TOMBSTONE_SUFFIX;
  }

  /** Shortens a derived name to PostgreSQL's identifier limit, keeping it unique with a hash. */
  static String fit(String name) {
    if (name.length() <= MAX_IDENTIFIER) {
      return name;
    }
    return name.substring(0, MAX_IDENTIFIER - 9) + "_" + HexFormat.of().formatHex(Sha256.digest(name), 0, 4);
  }

  String ref(String name) {
    return quotePostgres(schema) + "." + quotePostgres(name);
  }

  String targetRef() {
    return ref(table);
  }

  String ledgerRef() {
    return ref(ledger);
  }

  String stageRef() {
    return ref(stage);
  }

  String tombstonesRef() {
    return ref(tombstones);
  }

  String taskMarkersRef() {
    return ref(TASK_MARKERS);
  }

  /** The ledger: one row per committed batch (or key-hash slice of a batch) of each writer. */
  String ledgerDdl() {
    return "CREATE TABLE IF NOT EXISTS " + ledgerRef() + " ("
        + "writer text NOT NULL, "
        + "query_id text NOT NULL, "
        + "batch_id bigint NOT NULL, "
        + "partition_id integer NOT NULL, "
        + "partitions integer NOT NULL, "
        + "target_table text NOT NULL, "
        + "rows_in bigint NOT NULL, "
        + "rows_written bigint NOT NULL, "
        + "rows_ignored bigint NOT NULL, "
        + "committed_at timestamptz NOT NULL DEFAULT now(), "
        + "PRIMARY KEY (writer, query_id, batch_id, partition_id))";
  }

  /**
   * The target from a batch schema; keyed modes get a primary key on the key columns. An upsert
   * target leaves room in each page (fillfactor 80 unless set) so an update can stay in its page
   * without a new index entry (a HOT update), which makes upserts over a full table markedly cheaper.
   */
  String targetDdl(StructType schema, SinkSpec spec, Integer fillfactor) {
    List<String> cols = new ArrayList<>();
    for (StructField f : schema.fields()) {
      cols.add(quotePostgres(f.name()) + " " + PgTypes.of(f.dataType())
          + (spec.keyColumns().contains(f.name()) ? " NOT NULL" : ""));
    }
    if (spec.mode() == WriteMode.HISTORY) {
      String version = PgTypes.of(schema.apply(spec.versionColumn()).dataType());
      cols.add(quotePostgres(HistoryMode.START_AT) + " " + version);
      cols.add(quotePostgres(HistoryMode.END_AT) + " " + version);
      cols.add("UNIQUE NULLS NOT DISTINCT (" + list(historyKey(spec)) + ")");
    } else if (spec.mode() != WriteMode.APPEND) {
      cols.add("PRIMARY KEY (" + spec.keyColumns().stream().map(c -> quotePostgres(c))
          .collect(Collectors.joining(", ")) + ")");
    }
    boolean updates = spec.mode() == WriteMode.UPSERT || spec.mode() == WriteMode.HISTORY; // history updates __end_at
    int ff = fillfactor != null ? fillfactor : updates ? PostgresOptions.FILLFACTOR_UPSERT_DEFAULT : 100;
    return "CREATE TABLE IF NOT EXISTS " + targetRef() + " (" + String.join(", ", cols) + ")"
        + (ff < 100 ? " WITH (fillfactor = " + ff + ")" : "");
  }

  /**
   * Staging: the target's columns with the batch's types (no constraints), the delete flag, the
   * key-hash slice (0 in the batch commit shape), the writer's attempt and the Spark task partition
   * that staged the row. UNLOGGED: it is scratch space, rebuilt from Spark on any failure.
   */
  String stageDdl(StructType schema) {
    List<String> cols = new ArrayList<>();
    for (StructField f : schema.fields()) {
      cols.add(quotePostgres(f.name()) + " " + PgTypes.of(f.dataType()));
    }
    cols.add(quotePostgres(DELETE_FLAG) + " boolean NOT NULL");
    cols.add(quotePostgres(SLICE) + " integer NOT NULL");
    cols.add(quotePostgres(ATTEMPT) + " bigint NOT NULL");
    cols.add(quotePostgres(PARTITION) + " integer NOT NULL");
    return "CREATE UNLOGGED TABLE " + stageRef() + " (" + String.join(", ", cols) + ")";
  }

  /** A column as PostgreSQL reports it. */
  record Column(String name, String type) {}

  /** What {@link #stageDdl} creates for a schema, as PostgreSQL reports it (to see when staging must change). */
  static List<Column> stageSignature(StructType schema) {
    List<Column> out = new ArrayList<>();
    for (StructField f : schema.fields()) {
      out.add(new Column(f.name(), PgTypes.formatted(f.dataType())));
    }
    out.addAll(List.of(new Column(DELETE_FLAG, "boolean"), new Column(SLICE, "integer"), new Column(ATTEMPT, "bigint"),
        new Column(PARTITION, "integer")));
    return out;
  }

  /** Task markers: which (attempt, Spark task partition) a staging task has written, and how many rows. */
  String taskMarkersDdl() {
    return "CREATE UNLOGGED TABLE IF NOT EXISTS " + taskMarkersRef() + " (writer text NOT NULL, attempt bigint NOT NULL, "
        + "partition_id integer NOT NULL, row_count bigint NOT NULL, PRIMARY KEY (attempt, partition_id))";
  }

  /** Tombstones: key, deleting version, and when the delete was committed. */
  String tombstonesDdl(StructType schema, SinkSpec spec) {
    List<String> cols = new ArrayList<>();
    List<String> all = new ArrayList<>(spec.keyColumns());
    all.addAll(spec.orderColumns());
    for (String c : all) {
      cols.add(quotePostgres(c) + " " + PgTypes.of(schema.apply(c).dataType()) + (spec.keyColumns().contains(c) ? " NOT NULL" : ""));
    }
    cols.add(quotePostgres(DELETED_AT) + " timestamptz NOT NULL DEFAULT now()");
    // History keeps every delete of a key (each closes the row before it); upsert the newest only.
    cols.add(spec.mode() == WriteMode.HISTORY ? "UNIQUE NULLS NOT DISTINCT (" + list(all) + ")"
        : "PRIMARY KEY (" + list(spec.keyColumns()) + ")");
    return "CREATE TABLE IF NOT EXISTS " + tombstonesRef() + " (" + String.join(", ", cols) + ")";
  }

  /** The unique key of a history target: the key columns, {@code __start_at} and the tie-break column. */
  static List<String> historyKey(SinkSpec spec) {
    List<String> out = new ArrayList<>(spec.keyColumns());
    out.add(HistoryMode.START_AT);
    if (spec.tiebreakColumn() != null) {
      out.add(spec.tiebreakColumn());
    }
    return out;
  }

  private static String list(List<String> cols) {
    return cols.stream().map(c -> quotePostgres(c)).collect(Collectors.joining(", "));
  }

  String describe() {
    return schema + "." + table;
  }
}
