package dev.eventproc.sink;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;

import dev.eventproc.config.Durations;
import dev.eventproc.config.Identifiers;
import dev.eventproc.util.Errors;
import dev.failsafe.Failsafe;
import dev.failsafe.FailsafeException;
import dev.failsafe.RetryPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The MERGE machinery shared by the lakehouse adapters (Delta, Iceberg): each batch reduced to one
 * row per key, one MERGE through Spark SQL whose commit carries the writer's record, tombstones for
 * deletes in a sibling table committed first with the same record, history through {@link SparkHistory},
 * retries on the format's declared conflicts (after reading the record again), the table created from the
 * first batch and evolved to a batch with new or widened columns ({@link SparkTableEvolution}).
 *
 * <p>Statements of one batch run one after another on the batch's session, never in parallel
 * threads: Delta's transaction id is a session setting (delta-io/delta#3934), Iceberg's commit
 * properties a thread-local.
 */
public abstract class SparkTableSink extends AbstractBatchSink {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SparkTableSink.class);

  static final String DELETED_AT = "deleted_at";
  static final int PURGE_EVERY_BATCHES = 100;
  /** Retries of a table creation that failed while another writer created the table. */
  static final int CREATE_RETRIES = 4;

  private final SparkTable table;
  private final SparkTable tombstones;
  private final boolean create;
  private final List<String> partitionColumns;
  private final Duration tombstoneRetention;
  private final int commitRetries;
  private transient volatile StructType evolvedFor;
  /** Whether this object made sure its table exists (see {@link #emptyBatchNotRecorded}). */
  private transient volatile boolean tableChecked;
  private final SparkHistory history;

  /** Settings every lakehouse adapter has. */
  public record TableSettings(boolean create, List<String> partitionColumns, Duration tombstoneRetention, int commitRetries) {
    public TableSettings {
      partitionColumns = List.copyOf(partitionColumns);
    }
  }

  protected SparkTableSink(SinkSpec spec, SparkTable table, TableSettings settings) {
    super(spec);
    this.table = table;
    // Without a version a later batch always wins, so a delete has nothing to be remembered against.
    this.tombstones = spec.deleteCondition() == null || spec.orderColumns().isEmpty() ? null
        : table.sibling(SinkSpec.TOMBSTONE_SUFFIX);
    this.create = settings.create();
    this.partitionColumns = settings.partitionColumns();
    this.tombstoneRetention = settings.tombstoneRetention();
    this.commitRetries = settings.commitRetries();
    this.history = spec.mode() == WriteMode.HISTORY ? new SparkHistory(this, spec, table, tombstones) : null;
  }

  /** Whether a failure is the format's declared, retryable commit conflict. */
  protected abstract boolean isConflict(Throwable failure);

  /** The config key that turns table creation off, for messages. */
  protected abstract String createKey();

  public final SparkTable table() {
    return table;
  }

  @Override
  public String target() {
    return table.describe();
  }

  /** The widenings this table's format cannot make in place. */
  @Override
  public List<String> schemaChangeRefusals(SchemaChange change) {
    return SparkTableEvolution.refusals(spec, table, change);
  }

  /** Appends are written in one pass; the table's commit metadata says how many rows they added. */
  @Override
  protected boolean writesInOnePass() {
    return spec.mode() == WriteMode.APPEND;
  }

  /**
   * An empty batch is committed too (a commit with the record and no file), so the writer's records
   * have no gap and a reconciliation can tell a lost batch from an empty one.
   */
  @Override
  protected boolean recordsEmptyBatches() {
    return true;
  }

  /** The table is created on the first empty batch too, so readers find it before its first row. */
  @Override
  protected void emptyBatchNotRecorded(Dataset<Row> batch) {
    if (!tableChecked && spec.mode() != WriteMode.HISTORY) {
      ensureTable(batch.sparkSession(), table, batch.schema());
    }
    tableChecked = true;
  }

  @Override
  protected boolean isCommitted(SparkSession session, WriterId writer, long batchId) {
    return table.committedBatch(session, writer) >= batchId;
  }

  /** Sets the session up as a batch would (e.g. a table's catalog), then reads the table's commits. */
  @Override
  public CommitRecord lastCommit(SparkSession session, WriterId writer) {
    checkSession(session);
    return table.lastCommit(session, writer);
  }

  @Override
  protected CommitResult commit(BatchContext batch) {
    SparkSession session = batch.session();
    // History creates its table with the interval columns itself (SparkHistory).
    if (spec.mode() != WriteMode.HISTORY
        && (spec.mode() != WriteMode.APPEND || !table.appendCreates() || !create || !partitionColumns.isEmpty())) {
      ensureTable(session, table, batch.rows().schema());
    }
    StructType schema = batch.rows().schema();
    if (!schema.equals(evolvedFor)) { // the table's schema is read once per batch schema, not every batch
      boolean changed = SparkTableEvolution.evolve(session, table, schema, spec);
      evolvedFor = schema;
      if (changed) {
        FaultInjection.at(FaultInjection.Point.AFTER_SCHEMA_CHANGE, name(), batch.batchId());
      }
    }
    AtomicReference<Throwable> conflict = new AtomicReference<>();
    RetryPolicy<CommitResult> retry = RetryPolicy.<CommitResult>builder()
        .handleIf(this::isConflict)
        .withBackoff(Duration.ofMillis(100), Duration.ofSeconds(5))
        .withMaxRetries(commitRetries)
        .onRetry(e -> {
          conflict.set(e.getLastException());
          LOG.warn("sink={} target={} batch={}: concurrent commit ({}), retry {}", name(), target(),
              batch.batchId(), e.getLastException().getClass().getSimpleName(), e.getAttemptCount());
        })
        .build();
    return Failsafe.with(retry).get(() -> {
      // A conflicting writer may be another attempt of this very writer: look before writing again.
      if (isCommitted(session, batch.writer(), batch.batchId())) {
        if (conflict.get() != null) {
          metrics().raceLost(conflict.get());
        }
        return CommitResult.skipped();
      }
      return commitOnce(batch);
    });
  }

  private CommitResult commitOnce(BatchContext batch) {
    if (batch.rowsIn() == 0) {
      return table.append(batch.rows(), batch.writer(), batch.batchId()); // the record alone: no MERGE to run
    }
    switch (spec.mode()) {
      case APPEND:
        return table.append(WriteTaskFaultPoint.around(batch.rows(), name(), batch.batchId()), batch.writer(), batch.batchId());
      case INSERT_IF_ABSENT:
        return insertIfAbsent(batch, spec.keysUniquePerBatch() ? batch.rows()
            : BatchReducer.leastPerKey(batch.rows(), spec.keyColumns(), spec.orderColumns()));
      case UPSERT:
        return upsert(batch);
      case HISTORY:
        return history.commit(batch);
      default:
        throw new IllegalStateException("unknown mode " + spec.mode());
    }
  }

  /**
   * Inserts the rows (one per key) whose key the table lacks, in a commit that records the batch and
   * that a racing attempt of this writer cannot repeat. An insert-only MERGE does that where the format
   * fails it on a concurrent commit (Delta: its transaction ids conflict); a format that turns it into a
   * plain append overrides this.
   */
  protected CommitResult insertIfAbsent(BatchContext batch, Dataset<Row> firstPerKey) {
    return merge(batch, firstPerKey, false);
  }

  private CommitResult upsert(BatchContext batch) {
    SparkSession session = batch.session();
    Dataset<Row> reduced = spec.keysUniquePerBatch() ? batch.rows()
        : BatchReducer.greatestPerKey(batch.rows(), spec.keyColumns(), spec.orderColumns());
    if (spec.deleteCondition() == null) {
      return merge(batch, reduced, false);
    }
    Dataset<Row> flagged = reduced
        .withColumn(SparkMergeSql.DELETE_FLAG, coalesce(expr(spec.deleteCondition()), lit(false)));
    if (tombstones == null) {
      return merge(batch, flagged, true);
    }
    flagged = flagged.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      List<String> tombstoneColumns = new ArrayList<>(spec.keyColumns());
      tombstoneColumns.addAll(spec.orderColumns());
      Dataset<Row> deletes = flagged.filter(col(SparkMergeSql.DELETE_FLAG))
          .select(tombstoneColumns.stream().map(c -> col(Identifiers.quoteSpark(c))).toArray(Column[]::new))
          .withColumn(DELETED_AT, current_timestamp());
      if (!deletes.isEmpty() && tombstones.committedBatch(session, batch.writer()) < batch.batchId()) {
        ensureTable(session, tombstones, deletes.schema());
        tombstones.withCommitRecord(session, batch.writer(), batch.batchId(), () -> sql(session,
            SparkMergeSql.upsertTombstones(tombstones.sqlRef(), view(deletes, "tombstones"), List.of(deletes.columns()), spec)));
        FaultInjection.at(FaultInjection.Point.BETWEEN_COMMITS, name(), batch.batchId());
      }
      Dataset<Row> source = tombstones.exists(session) ? withoutBuried(flagged, tombstones.read(session)) : flagged;
      CommitResult r = merge(batch, source, true);
      purgeTombstones(session, batch.batchId());
      return r;
    } finally {
      flagged.unpersist(false);
    }
  }

  /** Drops updates whose version is not newer than the key's tombstone (deletes always pass). */
  private Dataset<Row> withoutBuried(Dataset<Row> source, Dataset<Row> tombstoneRows) {
    Column on = lit(true);
    for (String k : spec.keyColumns()) {
      on = on.and(col("s." + Identifiers.quoteSpark(k)).equalTo(col("tb." + Identifiers.quoteSpark(k))));
    }
    Column newer = expr(SparkMergeSql.newer(spec.orderColumns(), "s", "tb"));
    Column keep = col("tb." + Identifiers.quoteSpark(spec.keyColumns().get(0))).isNull()
        .or(col("s." + Identifiers.quoteSpark(SparkMergeSql.DELETE_FLAG))).or(newer);
    return source.as("s").join(tombstoneRows.as("tb"), on, "left").filter(keep).select("s.*");
  }

  private void purgeTombstones(SparkSession session, long batchId) {
    if (batchId == 0 || batchId % PURGE_EVERY_BATCHES != 0 || !tombstones.exists(session)) {
      return;
    }
    // Outside any commit record: a purge is idempotent and must not be mistaken for the batch's commit.
    session.sql("DELETE FROM " + tombstones.sqlRef() + " WHERE " + Identifiers.quoteSpark(DELETED_AT)
        + " < current_timestamp() - make_dt_interval(0, 0, 0, " + tombstoneRetention.toSeconds() + ")").collectAsList();
    LOG.info("sink={} target={} batch={}: purged tombstones older than {}", name(), target(), batchId,
        Durations.human(tombstoneRetention));
  }

  private CommitResult merge(BatchContext batch, Dataset<Row> source, boolean withDeletes) {
    SparkSession session = batch.session();
    List<String> columns = List.of(batch.rows().columns());
    String view = view(source, "source");
    String taskPoint = WriteTaskFaultPoint.register(session, name(), batch.batchId()); // null unless a test armed it
    String statement = spec.mode() == WriteMode.UPSERT
        ? SparkMergeSql.upsert(table.sqlRef(), view, columns, spec, withDeletes, taskPoint)
        : SparkMergeSql.insertIfAbsent(table.sqlRef(), view, columns, spec.keyColumns(), taskPoint);
    Row result = table.withCommitRecord(session, batch.writer(), batch.batchId(), () -> sql(session, statement));
    if (table.mergeSkipped(result)) {
      return CommitResult.skipped();
    }
    long changed = result == null ? -1 : table.changedRows(result);
    // A format that does not report rows changed reports the batch's rows as offered (counting costs a pass).
    return CommitResult.written(changed >= 0 ? changed : batch.rowsIn());
  }

  static Row sql(SparkSession session, String statement) {
    List<Row> rows = session.sql(statement).collectAsList();
    return rows.isEmpty() ? null : rows.get(0);
  }

  /** Registers the rows as this sink's temporary view for {@code role}; returns its name. */
  String view(Dataset<Row> rows, String role) {
    String name = "eventproc_" + name() + "_" + role;
    rows.createOrReplaceTempView(name);
    return name;
  }

  /** Creates table {@code t} (the target or a sibling) from a schema when it does not exist. */
  void ensureTable(SparkSession session, SparkTable t, StructType schema) {
    if (t.exists(session)) {
      return;
    }
    if (!create && t == table) {
      throw new IllegalStateException("sink " + name() + ": there is no table " + t.describe() + " and " + createKey()
          + "=false. Create the table, or set " + createKey() + "=true.");
    }
    StructType nullable = new StructType();
    for (StructField f : schema.fields()) {
      nullable = nullable.add(f.name(), f.dataType().sameType(DataTypes.NullType) ? DataTypes.StringType : f.dataType(), true);
    }
    StructType columns = nullable;
    // Another writer creating the table at the same moment makes a creation fail (Delta: a conflicting
    // commit, or a log that is not readable yet); creating is idempotent, so look again and retry. Any
    // exception: Spark and Delta throw checked ones (AnalysisException) undeclared.
    RetryPolicy<Object> retry = RetryPolicy.builder()
        .handle(Exception.class)
        .withBackoff(Duration.ofMillis(200), Duration.ofSeconds(2))
        .withMaxRetries(CREATE_RETRIES)
        .onRetry(e -> LOG.info("sink={}: creating table {} failed ({}), looking again", name(), t.describe(),
            e.getLastException().toString()))
        .build();
    try {
      Failsafe.with(retry).run(() -> {
        if (!t.exists(session)) {
          t.create(session, columns, t == table ? partitionColumns : List.of());
          LOG.info("sink={}: created table {}", name(), t.describe());
        }
      });
    } catch (FailsafeException e) { // wraps a checked exception: rethrow Spark's own
      throw Errors.<RuntimeException>rethrow(e.getCause() instanceof Exception cause ? cause : e);
    }
  }
}
