package dev.eventproc.sink;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.util.Errors;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What every sink adapter shares: its name (half of the writer identity), write mode, key columns,
 * the version (and tie-break) column that orders rows of one key, and the delete condition.
 *
 * <p>Version ordering: a row replaces the stored row of its key only when {@code (version, tiebreak)}
 * is greater; a null version ranks below every non-null version, and two nulls are equal (so a null
 * never replaces anything). Without a version column, in upsert mode a later batch replaces the stored
 * row, and within one batch the greatest whole row wins (deterministic, so a replay picks the same).
 *
 * <p>Keys, all optional unless said: {@code name} (default: {@code pipeline.name}), {@code mode}
 * (required), {@code key.columns} (required for upsert and insert-if-absent), {@code version.column},
 * {@code tiebreak.column} ({@code version.column} required for history), {@code delete.condition} (a Spark
 * SQL boolean expression over the row, upsert and history modes), {@code schema.evolution} (default true:
 * a sink with a target schema evolves it to a batch with new or widened columns; false: such a batch fails
 * with the DDL to run).
 */
public final class SinkSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String NAME = "name";
  public static final String MODE = "mode";
  public static final String KEY_COLUMNS = "key.columns";
  public static final String VERSION_COLUMN = "version.column";
  public static final String TIEBREAK_COLUMN = "tiebreak.column";
  public static final String DELETE_CONDITION = "delete.condition";
  /** Whether the sink evolves its target to a batch with new or widened columns (else it fails, showing the DDL). */
  public static final String SCHEMA_EVOLUTION = "schema.evolution";
  public static final boolean SCHEMA_EVOLUTION_DEFAULT = true;
  /** Whether a sink whose adapter records empty batches does so (see {@link #recordEmptyBatches()}). */
  public static final String RECORD_EMPTY_BATCHES = "record.empty.batches";
  public static final boolean RECORD_EMPTY_BATCHES_DEFAULT = true;
  /** Every adapter keeps the tombstones of a table in a sibling table named with this suffix. */
  public static final String TOMBSTONE_SUFFIX = "__tombstones";

  private final String keyPrefix;
  private final String name;
  private final WriteMode mode;
  private final List<String> keyColumns;
  private final String versionColumn;
  private final String tiebreakColumn;
  private final String deleteCondition;
  private final boolean keysUniquePerBatch;
  private final boolean schemaEvolution;
  private final boolean recordEmptyBatches;

  private SinkSpec(Builder b) {
    this.keyPrefix = b.keyPrefix;
    this.name = b.name;
    this.mode = b.mode;
    this.keyColumns = List.copyOf(b.keyColumns);
    this.versionColumn = b.versionColumn;
    this.tiebreakColumn = b.tiebreakColumn;
    this.deleteCondition = b.deleteCondition;
    this.keysUniquePerBatch = b.keysUniquePerBatch;
    this.schemaEvolution = b.schemaEvolution;
    this.recordEmptyBatches = b.recordEmptyBatches;
  }

  /** Reads the shared keys of one sink scope (e.g. {@code sink.}); problems go to the reader. */
  public static SinkSpec read(ConfigReader scope, String defaultName) {
    Builder b = builder();
    b.keyPrefix = scope.key("");
    String name = scope.string(NAME, defaultName);
    if (name == null) {
      scope.problem(NAME, "is required (or set pipeline.name). It names the writer in every commit record.");
    } else if (!Identifiers.isPlain(name)) {
      scope.problem(NAME, "'" + name + "' is not a plain name. " + Identifiers.RULE);
    } else {
      b.name = name;
    }
    b.mode = scope.choice(MODE, WriteMode.class, null);
    if (!scope.has(MODE)) {
      scope.problem(MODE, "is required. Set it to one of " + ConfigReader.choices(WriteMode.class) + ".");
    }
    b.keyColumns = scope.identifiers(KEY_COLUMNS);
    b.versionColumn = scope.identifier(VERSION_COLUMN);
    b.tiebreakColumn = scope.identifier(TIEBREAK_COLUMN);
    b.deleteCondition = scope.string(DELETE_CONDITION, null);
    b.schemaEvolution = scope.bool(SCHEMA_EVOLUTION, SCHEMA_EVOLUTION_DEFAULT);
    b.recordEmptyBatches = scope.bool(RECORD_EMPTY_BATCHES, RECORD_EMPTY_BATCHES_DEFAULT);
    b.validate(scope::problem);
    return b.name == null || b.mode == null ? null : new SinkSpec(b);
  }

  public static Builder builder() {
    return new Builder();
  }

  public String name() {
    return name;
  }

  public WriteMode mode() {
    return mode;
  }

  public List<String> keyColumns() {
    return keyColumns;
  }

  /** The version column, or null. */
  public String versionColumn() {
    return versionColumn;
  }

  /** The tie-break column, or null. */
  public String tiebreakColumn() {
    return tiebreakColumn;
  }

  /** The columns that order rows of one key: version then tie-break (possibly empty). */
  public List<String> orderColumns() {
    List<String> out = new ArrayList<>();
    if (versionColumn != null) {
      out.add(versionColumn);
    }
    if (tiebreakColumn != null) {
      out.add(tiebreakColumn);
    }
    return out;
  }

  /** The delete condition as written, or null. */
  public String deleteCondition() {
    return deleteCondition;
  }

  /**
   * Whether every batch is known to hold at most one row per key (a dedupe stage on the same key
   * columns guarantees it): then keyed modes skip reducing the batch to one row per key.
   */
  public boolean keysUniquePerBatch() {
    return keysUniquePerBatch;
  }

  /**
   * Whether the sink adds a batch's new columns to its target and widens the types a batch widens
   * ({@link SchemaChange}) before writing it; when false such a batch fails with the DDL to run.
   */
  public boolean schemaEvolution() {
    return schemaEvolution;
  }

  /**
   * Whether empty batches get a commit record too, where the adapter keeps one per batch (Delta,
   * Iceberg, files, PostgreSQL): records without gaps, so a reconciliation tells a lost batch from an
   * empty one. Off, an empty batch writes nothing and costs no look at the target (the quarantine's
   * default: most of its batches are empty, and on Delta each record costs a commit and a log replay).
   */
  public boolean recordEmptyBatches() {
    return recordEmptyBatches;
  }

  /** This spec, told that batches hold at most one row per key (see {@link Builder#keysUniqueInEachBatch()}). */
  public SinkSpec withKeysUniquePerBatch() {
    Builder b = toBuilder();
    b.keysUniquePerBatch = true;
    return new SinkSpec(b);
  }

  private Builder toBuilder() {
    Builder b = new Builder();
    b.keyPrefix = keyPrefix;
    b.name = name;
    b.mode = mode;
    b.keyColumns = keyColumns;
    b.versionColumn = versionColumn;
    b.tiebreakColumn = tiebreakColumn;
    b.deleteCondition = deleteCondition;
    b.keysUniquePerBatch = keysUniquePerBatch;
    b.schemaEvolution = schemaEvolution;
    b.recordEmptyBatches = recordEmptyBatches;
    return b;
  }

  /** The full config key of an option of this sink, for messages ({@code key("mode")} is {@code sink.mode}). */
  public String key(String option) {
    return keyPrefix + option;
  }

  /**
   * Checks that the configured columns exist in a batch's schema. Messages name the key and list
   * the columns the batch does have.
   */
  public void checkColumns(StructType schema) {
    List<String> problems = new ArrayList<>();
    for (String k : keyColumns) {
      check(schema, KEY_COLUMNS, k, problems);
    }
    if (versionColumn != null) {
      check(schema, VERSION_COLUMN, versionColumn, problems);
    }
    if (tiebreakColumn != null) {
      check(schema, TIEBREAK_COLUMN, tiebreakColumn, problems);
    }
    for (String c : orderColumns()) {
      if (List.of(schema.fieldNames()).contains(c) && schema.apply(c).dataType().equals(DataTypes.StringType)) {
        problems.add(key(c.equals(versionColumn) ? VERSION_COLUMN : TIEBREAK_COLUMN) + ": " + stringOrder(c, " in the batch of sink " + name));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }

  /**
   * Why a string column cannot order versions, for config errors of the stage and every sink: one
   * ordering everywhere, and text has none that all of them share.
   *
   * @param where where the column was found, e.g. {@code " in source.schema"}, or empty
   */
  public static String stringOrder(String column, String where) {
    return "'" + column + "' is string" + where + ": text orders \"10\" < \"9\", and PostgreSQL compares it under a collation while "
        + "the other sinks compare bytes, so the stage and the sinks could disagree on which row is newer. Use an integer, "
        + "timestamp or date column (cast a fixed-width number to BIGINT in source.schema).";
  }

  private void check(StructType schema, String option, String column, List<String> problems) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(column)) {
        return;
      }
    }
    problems.add(key(option) + ": column '" + column + "' is not in the batch of sink " + name
        + ". Its columns are: " + String.join(", ", schema.fieldNames()) + ".");
  }

  @Override
  public String toString() {
    return "sink " + name + " (" + ConfigReader.configName(mode) + (keyColumns.isEmpty() ? "" : " by " + keyColumns)
        + (versionColumn == null ? "" : ", version " + orderColumns()) + ")";
  }

  /** Fluent construction from code; {@link #build()} validates and throws a {@code ConfigException}. */
  public static final class Builder {
    private String keyPrefix = "sink.";
    private String name;
    private WriteMode mode;
    private List<String> keyColumns = List.of();
    private String versionColumn;
    private String tiebreakColumn;
    private String deleteCondition;
    private boolean keysUniquePerBatch;
    private boolean schemaEvolution = SCHEMA_EVOLUTION_DEFAULT;
    private boolean recordEmptyBatches = RECORD_EMPTY_BATCHES_DEFAULT;

    public Builder name(String name) {
      this.name = name;
      return this;
    }

    public Builder mode(WriteMode mode) {
      this.mode = mode;
      return this;
    }

    public Builder keyColumns(String... columns) {
      this.keyColumns = List.of(columns);
      return this;
    }

    public Builder versionColumn(String column) {
      this.versionColumn = column;
      return this;
    }

    public Builder tiebreakColumn(String column) {
      this.tiebreakColumn = column;
      return this;
    }

    public Builder deleteCondition(String condition) {
      this.deleteCondition = condition;
      return this;
    }

    /** See {@link SinkSpec#schemaEvolution()}. */
    public Builder schemaEvolution(boolean evolve) {
      this.schemaEvolution = evolve;
      return this;
    }

    /** See {@link SinkSpec#recordEmptyBatches()}. */
    public Builder recordEmptyBatches(boolean record) {
      this.recordEmptyBatches = record;
      return this;
    }

    /**
     * Promises that every batch holds at most one row per key, so keyed modes skip reducing it (a
     * shuffle). Only when an upstream stage guarantees it, e.g. {@code Dedupe} on the same keys
     * (pipelines set this themselves). A broken promise fails the MERGE on a matched key, or inserts a
     * new key twice.
     */
    public Builder keysUniqueInEachBatch() {
      this.keysUniquePerBatch = true;
      return this;
    }

    public SinkSpec build() {
      List<String> problems = new ArrayList<>();
      ProblemSink report = (opt, msg) -> problems.add(msg.startsWith("is ") ? keyPrefix + opt + " " + msg : keyPrefix + opt + ": " + msg);
      if (name == null || !Identifiers.isPlain(name)) {
        report.add(NAME, "'" + name + "' is not a plain name. " + Identifiers.RULE);
      }
      if (mode == null) {
        report.add(MODE, "is required. Set it to one of " + ConfigReader.choices(WriteMode.class) + ".");
      }
      for (String c : keyColumns) {
        if (!Identifiers.isPlain(c)) {
          report.add(KEY_COLUMNS, "'" + c + "' is not a plain identifier. " + Identifiers.RULE);
        }
      }
      for (String[] c : new String[][] {{VERSION_COLUMN, versionColumn}, {TIEBREAK_COLUMN, tiebreakColumn}}) {
        if (c[1] != null && !Identifiers.isPlain(c[1])) {
          report.add(c[0], "'" + c[1] + "' is not a plain identifier. " + Identifiers.RULE);
        }
      }
      validate(report);
      if (!problems.isEmpty()) {
        throw new ConfigException(problems);
      }
      return new SinkSpec(this);
    }

    /** Rules between keys, shared by the config and the builder path. */
    void validate(ProblemSink report) {
      if (mode == null) {
        return;
      }
      if (mode.isKeyed() && keyColumns.isEmpty()) {
        report.add(KEY_COLUMNS, "is required with mode " + ConfigReader.configName(mode)
            + ". List the columns that identify a row, e.g. payment_id.");
      }
      if (mode == WriteMode.APPEND) {
        // Key columns may go with append: the Kafka sink keys its records by them (Sinks checks the others).
        for (String[] c : new String[][] {{VERSION_COLUMN, versionColumn}, {TIEBREAK_COLUMN, tiebreakColumn},
            {DELETE_CONDITION, deleteCondition}}) {
          if (c[1] != null) {
            report.add(c[0], "is not used with mode append. Remove it, or use mode upsert.");
          }
        }
      }
      if (tiebreakColumn != null && versionColumn == null) {
        report.add(TIEBREAK_COLUMN, "needs a version column to break ties of. Set version.column too.");
      }
      boolean deletes = mode == WriteMode.UPSERT || mode == WriteMode.HISTORY;
      if (deleteCondition != null && !deletes) {
        report.add(DELETE_CONDITION, "is only used with modes upsert and history. Remove it, or use mode upsert.");
      }
      if (mode == WriteMode.HISTORY) {
        HistoryMode.validate(keyColumns, versionColumn, tiebreakColumn, report);
      }
      if (deleteCondition != null && deletes) {
        try {
          functions.expr(deleteCondition);
        } catch (Exception e) { // Spark's ParseException is checked in Scala's eyes only
          report.add(DELETE_CONDITION, "'" + deleteCondition + "' is not a Spark SQL expression: "
              + Errors.firstLine(e.getMessage()) + ". Write a boolean condition such as op = 'd'.");
        }
      }
      List<String> all = new ArrayList<>(keyColumns);
      for (String c : new String[] {versionColumn, tiebreakColumn}) {
        if (c != null && all.contains(c)) {
          report.add(c.equals(versionColumn) ? VERSION_COLUMN : TIEBREAK_COLUMN,
              "'" + c + "' is also a key column. A version must be a different column.");
        }
        if (c != null) {
          all.add(c);
        }
      }
    }
  }

  @FunctionalInterface
  interface ProblemSink {
    void add(String option, String message);
  }

}
