package dev.eventproc.sink.iceberg;

import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.SparkTable;
import dev.eventproc.sink.WriterId;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.spark.CommitMetadata;
import org.apache.iceberg.spark.Spark3Util;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
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

  private final List<String> name;
  private final String mergeMode;

  IcebergTable(List<String> name, String mergeMode) {
    this.name = List.copyOf(name);
    this.mergeMode = mergeMode;
  }

  String catalog() {
    return name.get(0);
  }

  String dotted() {
    return String.join(".", name);
  }

  @Override
  public String sqlRef() {
    return Identifiers.quoteSparkQualified(name);
  }

  @Override
  public String describe() {
    return dotted();
  }

  @Override
  public IcebergTable sibling(String suffix) {
    List<String> n = new ArrayList<>(name);
    n.set(n.size() - 1, n.get(n.size() - 1) + suffix);
    return new IcebergTable(n, mergeMode);
  }

  /** The table, refreshed (a catalog may cache a stale one), or null when it does not exist. */
  Table load(SparkSession session) {
    if (!exists(session)) {
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

  @Override
  public boolean exists(SparkSession session) {
    return session.catalog().tableExists(dotted());
  }

  @Override
  public long committedBatch(SparkSession session, WriterId writer) {
    Snapshot s = lastSnapshotOf(load(session), writer);
    return s == null ? -1 : Long.parseLong(s.summary().get(BATCH_PROPERTY));
  }

  /** The newest snapshot of this writer in the current ancestry (the walk stops there), or null. */
  private static Snapshot lastSnapshotOf(Table t, WriterId writer) {
    Snapshot s = t == null ? null : t.currentSnapshot();
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
    session.sql("CREATE TABLE IF NOT EXISTS " + sqlRef() + " (" + schema.toDDL() + ") USING iceberg" + partitions
        + " TBLPROPERTIES ('format-version' = '2', 'write.merge.mode' = '" + mergeMode + "', 'write.update.mode' = '"
        + mergeMode + "', 'write.delete.mode' = '" + mergeMode + "')");
  }

  @Override
  public Dataset<Row> read(SparkSession session) {
    load(session);
    return session.table(dotted());
  }

  @Override
  public <T> T withCommitRecord(SparkSession session, WriterId writer, long batchId, Supplier<T> write) {
    Map<String, String> props = Map.of(WRITER_PROPERTY, writer.appId(), BATCH_PROPERTY, String.valueOf(batchId));
    return CommitMetadata.withCommitProperties(props, write::get, RuntimeException.class);
  }

  /** Appends; the rows added come from the committing snapshot's {@code added-records}. */
  @Override
  public long append(Dataset<Row> rows, WriterId writer, long batchId) {
    withCommitRecord(rows.sparkSession(), writer, batchId, () -> {
      try {
        rows.writeTo(dotted()).append();
        return null;
      } catch (org.apache.spark.sql.catalyst.analysis.NoSuchTableException e) {
        throw new IllegalStateException("Iceberg table " + dotted() + " disappeared during the write", e);
      }
    });
    Snapshot s = lastSnapshotOf(load(rows.sparkSession()), writer);
    String added = s == null ? null : s.summary().get("added-records");
    return added == null ? 0 : Long.parseLong(added);
  }
}
