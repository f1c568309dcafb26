package dev.eventproc.sink.delta;

import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.SparkTable;
import dev.eventproc.sink.WriterId;
import io.delta.tables.DeltaTable;
import io.delta.tables.DeltaTableBuilder;
import java.io.Serializable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.DataFrameWriter;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.CommitInfo;
import org.apache.spark.sql.delta.actions.SetTransaction;
import org.apache.spark.sql.types.StructType;
import scala.Option;
import scala.collection.Iterator;
import scala.collection.immutable.Seq;

/**
 * A Delta table addressed by path or by catalog name. The commit record is Delta's transaction
 * identifier: {@code SetTransaction(appId = writer, version = batch)} in the same Delta commit as
 * the data (writer options {@code txnAppId}/{@code txnVersion} for appends; the session confs
 * {@code spark.databricks.delta.write.txnAppId}/{@code txnVersion} for MERGE, which Delta checks and
 * records in the MERGE's own commit).
 */
final class DeltaTarget implements SparkTable, Serializable {
  private static final long serialVersionUID = 1L;
  static final String TXN_APP_ID = "spark.databricks.delta.write.txnAppId";
  static final String TXN_VERSION = "spark.databricks.delta.write.txnVersion";

  /** The table property that makes MERGE, UPDATE and DELETE mark replaced rows instead of rewriting their files. */
  static final String DELETION_VECTORS_PROPERTY = "delta.enableDeletionVectors";

  private final String path;
  private final List<String> name;
  private final boolean deletionVectors;

  private DeltaTarget(String path, List<String> name, boolean deletionVectors) {
    this.path = path;
    this.name = name == null ? null : List.copyOf(name);
    this.deletionVectors = deletionVectors;
  }

  static DeltaTarget atPath(String path) {
    return new DeltaTarget(path, null, false);
  }

  /**
   * The same table, created (when eventproc creates it) with deletion vectors on or off. With them a
   * MERGE of a batch whose keys are spread over the whole table writes the changed rows and a small
   * vector per touched file, instead of copying every touched file: its cost follows the batch, not the
   * table. Readers need deletion-vector support (Delta Lake 2.3 or later, and engines that read Delta's
   * reader version 3).
   */
  DeltaTarget withDeletionVectors(boolean on) {
    return new DeltaTarget(path, name, on);
  }

  /**
   * A table of Spark's session catalog, {@code db.table} or {@code spark_catalog.db.table} (kept as
   * {@code db.table}: Delta's table builder and log lookup take at most two parts).
   */
  static DeltaTarget named(List<String> name) {
    boolean qualified = name.size() == 3 && DeltaSink.SESSION_CATALOG.equalsIgnoreCase(name.get(0));
    return new DeltaTarget(null, qualified ? name.subList(1, 3) : name, false);
  }

  @Override
  public DeltaTarget sibling(String suffix) {
    if (path != null) {
      String p = path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
      return atPath(p + suffix).withDeletionVectors(deletionVectors);
    }
    List<String> n = new ArrayList<>(name);
    n.set(n.size() - 1, n.get(n.size() - 1) + suffix);
    return named(n).withDeletionVectors(deletionVectors);
  }

  /**
   * Delta 3.3 changes a column's type only through its type-widening preview table feature (and then
   * not INT to BIGINT nor FLOAT to DOUBLE), which eventproc leaves off: it upgrades the table's protocol
   * past what older readers read. Added columns only.
   */
  @Override
  public String widening() {
    return "Delta 3.3 widens types only through its type-widening preview table feature, which eventproc leaves off "
        + "because older readers could no longer read the table";
  }

  @Override
  public String sqlRef() {
    return path != null ? "delta." + Identifiers.quoteSparkPath(path) : Identifiers.quoteSparkQualified(name);
  }

  boolean isPath() {
    return path != null;
  }

  /** Path or name as the checkpoint guard compares them: a path without a trailing slash, a name in lower case. */
  String normalised() {
    return path != null ? new Path(path).toString() : String.join(".", name).toLowerCase(Locale.ROOT);
  }

  @Override
  public String describe() {
    return path != null ? path : String.join(".", name);
  }

  private TableIdentifier identifier() {
    String table = name.get(name.size() - 1);
    Option<String> db = name.size() >= 2 ? Option.apply(name.get(name.size() - 2)) : Option.empty();
    return TableIdentifier.apply(table, db);
  }

  /** The log and its latest snapshot, or null when there is no table yet. */
  private scala.Tuple2<DeltaLog, Snapshot> logAndSnapshot(SparkSession session) {
    if (path == null && !session.catalog().tableExists(String.join(".", name))) {
      return null;
    }
    scala.Tuple2<DeltaLog, Snapshot> t = path != null
        ? DeltaLog.forTableWithSnapshot(session, new Path(path))
        : DeltaLog.forTableWithSnapshot(session, identifier());
    return t._2().version() < 0 ? null : t;
  }

  private Snapshot snapshot(SparkSession session) {
    scala.Tuple2<DeltaLog, Snapshot> t = logAndSnapshot(session);
    return t == null ? null : t._2();
  }

  @Override
  public boolean exists(SparkSession session) {
    return snapshot(session) != null;
  }

  @Override
  public long committedBatch(SparkSession session, WriterId writer) {
    Snapshot s = snapshot(session);
    if (s == null) {
      return -1;
    }
    Option<Object> v = s.transactions().get(writer.appId());
    return v.isDefined() ? (Long) v.get() : -1;
  }

  /** The batch and, when Delta recorded it, the time of the transaction id's last update. */
  @Override
  public CommitRecord lastCommit(SparkSession session, WriterId writer) {
    Snapshot s = snapshot(session);
    if (s == null) {
      return CommitRecord.NONE;
    }
    Iterator<SetTransaction> txns = s.setTransactions().iterator();
    while (txns.hasNext()) {
      SetTransaction t = txns.next();
      if (t.appId().equals(writer.appId())) {
        Instant at = t.lastUpdated().isDefined() ? Instant.ofEpochMilli((Long) t.lastUpdated().get()) : null;
        return new CommitRecord(t.version(), at, -1, "");
      }
    }
    return CommitRecord.NONE;
  }

  @Override
  public void create(SparkSession session, StructType schema, List<String> partitionColumns) {
    DeltaTableBuilder b = DeltaTable.createIfNotExists(session).addColumns(schema);
    b = path != null ? b.location(path) : b.tableName(String.join(".", name));
    if (!partitionColumns.isEmpty()) {
      b = b.partitionedBy(partitionColumns.toArray(String[]::new));
    }
    if (deletionVectors) {
      b = b.property(DELETION_VECTORS_PROPERTY, "true");
    }
    b.execute();
  }

  @Override
  public Dataset<Row> read(SparkSession session) {
    return path != null ? session.read().format("delta").load(path) : session.table(String.join(".", name));
  }

  @Override
  public <T> T withCommitRecord(SparkSession session, WriterId writer, long batchId, Supplier<T> write) {
    RuntimeConfig conf = session.conf();
    String previousApp = conf.get(TXN_APP_ID, null);
    String previousVersion = conf.get(TXN_VERSION, null);
    conf.set(TXN_APP_ID, writer.appId());
    conf.set(TXN_VERSION, batchId);
    try {
      return write.get();
    } finally {
      TxnConfs.restore(conf, TXN_APP_ID, previousApp);
      TxnConfs.restore(conf, TXN_VERSION, previousVersion);
    }
  }

  /**
   * Appends (creating the table in the same commit when absent); the rows added come from the
   * commit's {@code operationMetrics}, found among the commits made since the write began by its user
   * metadata. No such commit means Delta skipped the append as recorded already: a replay.
   */
  @Override
  public CommitResult append(Dataset<Row> rows, WriterId writer, long batchId) {
    // The tag names this attempt: Delta skips an append whose transaction version is recorded already
    // (a racing attempt of this writer won), and then no commit carries this tag.
    String tag = writer.appId() + "#" + batchId + "#" + UUID.randomUUID();
    long firstNew = lastReadVersion(rows.sparkSession()) + 1;
    DataFrameWriter<Row> w = rows.write().format("delta").mode("append")
        .option("txnAppId", writer.appId()).option("txnVersion", batchId).option("userMetadata", tag);
    if (path != null) {
      w.save(path);
    } else {
      w.saveAsTable(String.join(".", name));
    }
    scala.Tuple2<DeltaLog, Snapshot> t = logAndSnapshot(rows.sparkSession());
    if (t == null) {
      return CommitResult.skipped();
    }
    // Only commits made since the write began can be this attempt's.
    Iterator<scala.Tuple2<Object, Seq<Action>>> changes =
        t._1().getChanges(firstNew, false);
    while (changes.hasNext()) {
      Iterator<Action> actions = changes.next()._2().iterator();
      while (actions.hasNext()) {
        if (actions.next() instanceof CommitInfo info && info.userMetadata().isDefined()
            && tag.equals(info.userMetadata().get())) {
          scala.Option<String> n = info.operationMetrics().isDefined() ? info.operationMetrics().get().get("numOutputRows")
              : scala.Option.empty();
          return CommitResult.written(n.isDefined() ? Long.parseLong(n.get()) : 0);
        }
      }
    }
    return CommitResult.skipped();
  }

  /**
   * The version of the snapshot this JVM read last (the sink's record check just did), without reading
   * the log again; -1 when there is none. No commit made after it can have a lower version.
   */
  private long lastReadVersion(SparkSession session) {
    if (path == null && !session.catalog().tableExists(String.join(".", name))) {
      return -1;
    }
    DeltaLog log = path != null ? DeltaLog.forTable(session, new Path(path)) : DeltaLog.forTable(session, identifier());
    return log.unsafeVolatileSnapshot().version();
  }

  /** Delta's append creates the table in the same commit. */
  @Override
  public boolean appendCreates() {
    return true;
  }

  /** Delta's MERGE returns no row when it finds its transaction version recorded already, one row otherwise. */
  @Override
  public boolean mergeSkipped(Row mergeResult) {
    return mergeResult == null;
  }

  /** Delta's SQL MERGE returns num_affected_rows first. */
  @Override
  public long changedRows(Row mergeResult) {
    return mergeResult.size() > 0 && mergeResult.get(0) instanceof Long n ? n : -1;
  }

}
