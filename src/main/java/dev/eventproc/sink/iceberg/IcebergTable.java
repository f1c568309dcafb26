package dev.eventproc.sink.iceberg;

import static org.apache.spark.sql.functions.lit;

import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.SchemaChange;
import dev.eventproc.sink.SparkTable;
import dev.eventproc.sink.WriterId;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.iceberg.DataOperations;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.spark.CommitMetadata;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.iceberg.spark.SparkWriteOptions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.DataFrameWriterV2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.analysis.NoSuchTableException;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * An Iceberg table in a Spark catalog ({@code catalog.namespace.table}). The commit record is two
 * properties in the summary of the snapshot that commits the batch, set with
 * {@link CommitMetadata#withCommitProperties} around the write: {@code eventproc.writer} and
 * {@code eventproc.batch}. A batch is committed when the newest snapshot of this writer in the current
 * snapshot's ancestry carries a batch at least as high; the walk stops at that snapshot.
 */
final class IcebergTable implements SparkTable, Serializable {
  private static final long serialVersionUID = 1L;
  static final String WRITER_PROPERTY = "eventproc.writer";
  static final String BATCH_PROPERTY = "eventproc.batch";
  /** Ancestry walks stop here: a writer whose last commit is deeper than this is treated as new. */
  static final int MAX_ANCESTRY = 100_000;
  /** Iceberg's Spark catalog reads {@code <table>.branch_<name>} as that branch of the table. */
  static final String BRANCH_PREFIX = "branch_";

  private final List<String> name;
  private final String mergeMode;
  /** The branch written and walked, or null for main. */
  private final String branch;

  IcebergTable(List<String> name, String mergeMode) {
    this(name, mergeMode, null);
  }

  IcebergTable(List<String> name, String mergeMode, String branch) {
    this.name = List.copyOf(name);
    this.mergeMode = mergeMode;
    this.branch = branch;
  }

  /** The branch written and walked, or null for main. */
  String branch() {
    return branch;
  }

  /** How Spark names the table's branch in a statement or a writer: Iceberg's {@code branch_<name>} identifier. */
  private String branchDotted() {
    return branch == null ? dotted() : dotted() + "." + BRANCH_PREFIX + branch;
  }

  /** The head of the branch written (the current snapshot for main), or null when it has none yet. */
  private Snapshot head(Table t) {
    return branch == null ? t.currentSnapshot() : t.snapshot(branch);
  }

  String catalog() {
    return name.get(0);
  }

  String dotted() {
    return String.join(".", name);
  }

  /** The schema is the table's, whatever branch is written. */
  @Override
  public String ddlRef() {
    return Identifiers.quoteSparkQualified(name);
  }

  /** Iceberg promotes int to long, float to double and a decimal's precision (its type promotion rules). */
  @Override
  public boolean canWiden(DataType from, DataType to) {
    return SchemaChange.isWidening(from, to);
  }

  @Override
  public String sqlRef() {
    if (branch == null) {
      return Identifiers.quoteSparkQualified(name);
    }
    List<String> parts = new ArrayList<>(name);
    parts.add(BRANCH_PREFIX + branch);
    return Identifiers.quoteSparkQualified(parts);
  }

  @Override
  public String describe() {
    return branch == null ? dotted() : dotted() + " (branch " + branch + ")";
  }

  /** A table beside this one, on the same branch. */
  @Override
  public IcebergTable sibling(String suffix) {
    List<String> n = new ArrayList<>(name);
    n.set(n.size() - 1, n.get(n.size() - 1) + suffix);
    return new IcebergTable(n, mergeMode, branch);
  }

  /** The table, refreshed (a catalog may cache a stale one), or null when it does not exist. */
  Table load(SparkSession session) {
    if (!tableExists(session)) {
      return null;
    }
    try {
      Table t = Spark3Util.loadIcebergTable(session, dotted());
      t.refresh();
      return t;
    } catch (Exception e) {
      throw new IllegalStateException("cannot load Iceberg table " + dotted() + ": " + e.getMessage(), e);
    }
  }

  /** Whether the table, and the branch written when there is one, exist. */
  @Override
  public boolean exists(SparkSession session) {
    if (!tableExists(session)) {
      return false;
    }
    return branch == null || load(session).refs().containsKey(branch);
  }

  private boolean tableExists(SparkSession session) {
    return session.catalog().tableExists(dotted());
  }

  /** The record, walked from the head of the branch written (a branch not yet there has none). */
  @Override
  public long committedBatch(SparkSession session, WriterId writer) {
    Table t = load(session);
    return t == null ? -1 : batchAt(t, head(t), writer);
  }

  /**
   * The batch and time of this writer's newest snapshot; rows only for an append (a MERGE rewrites
   * files, so its {@code added-records} counts rows it did not change).
   */
  @Override
  public CommitRecord lastCommit(SparkSession session, WriterId writer) {
    Table t = load(session);
    Snapshot s = t == null ? null : lastSnapshotOf(t, head(t), writer);
    if (s == null) {
      return CommitRecord.NONE;
    }
    String added = DataOperations.APPEND.equals(s.operation()) ? s.summary().get(SnapshotSummary.ADDED_RECORDS_PROP) : null;
    return new CommitRecord(Long.parseLong(s.summary().get(BATCH_PROPERTY)), Instant.ofEpochMilli(s.timestampMillis()),
        added == null ? -1 : Long.parseLong(added), "");
  }

  /**
   * The snapshot ids of the branch written, from its head back through its parents as far as snapshots are kept
   * (the ancestry its commit records are read from); empty for the main branch, whose ancestry the table's history
   * metadata table gives; {@code [-1]} for a branch with no snapshot yet.
   */
  List<Long> branchLineage(SparkSession session) {
    if (branch == null) {
      return List.of();
    }
    Table t = load(session);
    List<Long> out = new ArrayList<>();
    for (Snapshot s = t == null ? null : head(t); s != null; s = s.parentId() == null ? null : t.snapshot(s.parentId())) {
      out.add(s.snapshotId());
    }
    return out.isEmpty() ? List.of(-1L) : out;
  }

  /** The highest batch this writer committed in the ancestry of {@code from}, or -1. */
  private static long batchAt(Table t, Snapshot from, WriterId writer) {
    Snapshot s = lastSnapshotOf(t, from, writer);
    return s == null ? -1 : Long.parseLong(s.summary().get(BATCH_PROPERTY));
  }

  /** The newest snapshot of this writer in the ancestry of {@code from} (the walk stops there), or null. */
  private static Snapshot lastSnapshotOf(Table t, Snapshot from, WriterId writer) {
    Snapshot s = from;
    for (int depth = 0; s != null && depth < MAX_ANCESTRY; depth++) {
      if (writer.appId().equals(s.summary().get(WRITER_PROPERTY))) {
        return s;
      }
      s = s.parentId() == null ? null : t.snapshot(s.parentId());
    }
    return null;
  }

  @Override
  public void create(SparkSession session, StructType schema, List<String> partitionColumns) {
    session.sql("CREATE NAMESPACE IF NOT EXISTS " + Identifiers.quoteSparkQualified(name.subList(0, name.size() - 1)));
    String partitions = partitionColumns.isEmpty() ? ""
        : " PARTITIONED BY (" + partitionColumns.stream().map(Identifiers::quoteSpark).collect(Collectors.joining(", ")) + ")";
    session.sql("CREATE TABLE IF NOT EXISTS " + Identifiers.quoteSparkQualified(name) + " (" + schema.toDDL() + ") USING iceberg" + partitions
        + " TBLPROPERTIES ('format-version' = '2', 'write.merge.mode' = '" + mergeMode + "', 'write.update.mode' = '"
        + mergeMode + "', 'write.delete.mode' = '" + mergeMode + "')");
    if (branch != null) {
      session.sql("ALTER TABLE " + Identifiers.quoteSparkQualified(name) + " CREATE BRANCH IF NOT EXISTS "
          + Identifiers.quoteSpark(branch));
    }
  }

  @Override
  public Dataset<Row> read(SparkSession session) {
    load(session);
    return session.table(branchDotted());
  }

  @Override
  public <T> T withCommitRecord(SparkSession session, WriterId writer, long batchId, Supplier<T> write) {
    Map<String, String> props = Map.of(WRITER_PROPERTY, writer.appId(), BATCH_PROPERTY, String.valueOf(batchId));
    return CommitMetadata.withCommitProperties(props, write::get, RuntimeException.class);
  }

  /**
   * Appends as a validated commit: it fails with a {@link org.apache.iceberg.exceptions.ValidationException}
   * when any data was committed after the snapshot in which this writer's record was looked up, so
   * two attempts of one writer (a zombie driver) cannot both append a batch: the loser's retry finds
   * the winner's record. A plain Iceberg append validates nothing. The rows added come from the
   * committing snapshot's {@code added-records}.
   */
  @Override
  public CommitResult append(Dataset<Row> rows, WriterId writer, long batchId) {
    return validatedAppend(rows.sparkSession(), writer, batchId, base -> rows);
  }

  /**
   * Inserts the rows whose key is absent from the snapshot the record was looked up in, as a validated
   * append from that snapshot (see {@link #append}); skipped when that snapshot holds the batch already.
   */
  CommitResult insertAbsent(Dataset<Row> rows, List<String> keyColumns, WriterId writer, long batchId) {
    SparkSession session = rows.sparkSession();
    return validatedAppend(session, writer, batchId, base -> {
      if (base == null) {
        return rows;
      }
      Dataset<Row> present = session.read().format("iceberg").option("snapshot-id", base.snapshotId()).load(dotted());
      Column on = lit(true);
      for (String k : keyColumns) {
        on = on.and(rows.col(Identifiers.quoteSpark(k)).equalTo(present.col(Identifiers.quoteSpark(k))));
      }
      return rows.join(present, on, "left_anti");
    });
  }

  private CommitResult validatedAppend(SparkSession session, WriterId writer, long batchId, Function<Snapshot, Dataset<Row>> rowsAt) {
    Table t = load(session);
    Snapshot base = t == null ? null : head(t);
    if (base != null && batchAt(t, base, writer) >= batchId) {
      return CommitResult.skipped();
    }
    DataFrameWriterV2<Row> write = rowsAt.apply(base).writeTo(branchDotted())
        .option(SparkWriteOptions.ISOLATION_LEVEL, "serializable");
    if (base != null) {
      write = write.option(SparkWriteOptions.VALIDATE_FROM_SNAPSHOT_ID, String.valueOf(base.snapshotId()));
    }
    DataFrameWriterV2<Row> validated = write;
    withCommitRecord(session, writer, batchId, () -> {
      try {
        // An overwrite of no rows adds files like an append (Iceberg records it as one), but honors the validation.
        validated.overwrite(lit(false));
        return null;
      } catch (NoSuchTableException e) {
        throw new IllegalStateException("Iceberg table " + dotted() + " disappeared during the write", e);
      }
    });
    Table after = load(session);
    Snapshot mine = lastSnapshotOf(after, head(after), writer);
    String added = mine == null ? null : mine.summary().get("added-records");
    return CommitResult.written(added == null ? 0 : Long.parseLong(added));
  }
}
