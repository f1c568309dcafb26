package dev.eventproc.sink.postgres;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once writes to PostgreSQL. The commit record is a row in the ledger table, inserted in
 * the same transaction as the data; a batch already in the ledger is skipped.
 *
 * <p>One batch: the driver takes this writer's session advisory lock ({@link WriterLock}: writers of
 * one sink take turns; a second one waits, then finds the batch in the ledger: a lost race), reads the ledger,
 * and hands the batch to the first {@link CommitPath} of its shape that takes it:
 * <ul>
 *   <li>{@code batch} shape: the direct COPY into the target when the batch's keys are all new
 *       ({@link DirectCopyPath}), else staging and ONE transaction that checks staging, records
 *       tombstones, applies a MERGE, inserts the ledger row and empties staging
 *       ({@link SingleTransactionPath}): readers see the batch whole or not at all;</li>
 *   <li>{@code partition} shape: staged rows carry a key-hash slice, applied in parallel transactions
 *       with a ledger row each ({@link SlicedPath}); a replay applies only the slices missing from the
 *       ledger, with the slice count recorded there.</li>
 * </ul>
 * Executors COPY their part of the batch into the writer's UNLOGGED staging table in binary form
 * ({@link StageTask}; a retried or speculative task replaces only its own rows).
 *
 * <p>A key that repeats within a batch contributes one row (the newest; the oldest for
 * insert-if-absent), picked by PostgreSQL only when a key does repeat ({@link MergeApplier}). Deletes
 * leave tombstones in {@code <table>__tombstones} so an older update arriving later cannot bring the
 * key back. Empty batches are committed too (a ledger row), so the ledger of a writer has no gaps.
 */
public final class PostgresSink extends AbstractBatchSink implements AutoCloseable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(PostgresSink.class);

  private final PostgresOptions options;
  private final PostgresTables tables;
  private final PgSql sql;
  private final DriverPool pool;
  private final TableGuard guard;
  private final WriterLock lock;
  private final Ledger ledger;
  private final DirectCopyPath direct;
  private final List<CommitPath> batchShape;
  private final List<CommitPath> slicedShape;

  private PostgresSink(SinkSpec spec, PostgresOptions options) {
    super(spec);
    this.options = options;
    this.tables = new PostgresTables(options, spec.name());
    this.sql = new PgSql(tables, spec);
    this.pool = new DriverPool(options, spec.name());
    this.guard = new TableGuard(spec, options, tables, pool);
    this.lock = new WriterLock(options, tables, spec.name(), pool);
    this.ledger = new Ledger(sql, options, tables, spec.name());
    Staging staging = new Staging(spec, options, sql);
    this.direct = new DirectCopyPath(spec, options, staging, ledger);
    SingleTransactionPath single = new SingleTransactionPath(staging, ledger, spec.name(), options.tombstoneRetention());
    // History rows carry intervals that only the MERGE over staging computes: no direct COPY.
    this.batchShape = spec.mode() == WriteMode.HISTORY ? List.of(single) : List.of(direct, single);
    this.slicedShape = List.of(new SlicedPath(staging, ledger, pool, options, spec.name()));
  }

  /** Reads the {@code postgres.*} keys of a sink scope. */
  public static PostgresSink fromConfig(SinkSpec spec, ConfigReader scope) {
    PostgresOptions o = PostgresOptions.read(scope);
    return spec == null || o == null ? null : new PostgresSink(spec, o);
  }

  /** A sink from options built in code. */
  public static PostgresSink create(SinkSpec spec, PostgresOptions options) {
    return new PostgresSink(spec, options);
  }

  /** A new connection to the sink's database (autocommit off), for tools such as reconciliation; the caller closes it. */
  public Connection openConnection() {
    return PgConnections.open(options, name());
  }

  public PostgresOptions options() {
    return options;
  }

  @Override
  public String target() {
    return tables.describe();
  }

  /** Target, ledger and commit shape: where and in what shape the ledger rows of a batch are found. */
  @Override
  protected Map<String, String> shape() {
    boolean sliced = options.commit() == CommitShape.PARTITION;
    return shapeOf(SinkType.POSTGRES, PostgresOptions.SCHEMA, options.schema(), PostgresOptions.TABLE,
        options.table(), PostgresOptions.LEDGER_TABLE, options.ledgerTable(), PostgresOptions.COMMIT,
        ConfigReader.configName(options.commit()), PostgresOptions.PARTITIONS, sliced ? String.valueOf(options.slices()) : null);
  }

  @Override
  protected boolean recordsEmptyBatches() {
    return true;
  }

  @Override
  protected boolean isCommitted(SparkSession session, WriterId writer, long batchId) {
    return pool.run("read the ledger", c -> {
      if (!TableGuard.exists(c, tables.ledgerRef())) {
        return false;
      }
      Ledger.BatchRecord record = ledger.read(c, writer, batchId);
      c.rollback();
      return record.complete();
    });
  }

  @Override
  public CommitRecord lastCommit(SparkSession session, WriterId writer) {
    return pool.run("read the ledger", c -> {
      if (!TableGuard.exists(c, tables.ledgerRef())) {
        return CommitRecord.NONE;
      }
      CommitRecord last = ledger.last(c, writer);
      c.rollback();
      return last;
    });
  }

  @Override
  protected CommitResult commit(BatchContext batch) {
    StructType schema = batch.rows().schema();
    if (guard.ensure(schema)) {
      FaultInjection.at(FaultInjection.Point.AFTER_SCHEMA_CHANGE, name(), batch.batchId());
    }
    return pool.run("commit batch " + batch.batchId(), c -> {
      Optional<WriterLock.Wait> waited = lock.lock(c, batch.writer());
      try {
        return commitLocked(c, batch, schema, waited);
      } finally {
        lock.release(c, batch.writer()); // whatever failed, a Spark job's checked exception included
      }
    });
  }

  private CommitResult commitLocked(Connection c, BatchContext batch, StructType schema, Optional<WriterLock.Wait> waited)
      throws SQLException {
    Ledger.BatchRecord done = ledger.read(c, batch.writer(), batch.batchId());
    c.commit();
    if (done.complete()) {
      return CommitResult.lostRace(lostTo(batch, waited)); // the driver's check found it uncommitted a moment ago
    }
    // A batch partly committed in slices is finished in the slices its ledger rows record, whatever the config says now.
    boolean configuredSliced = options.commit() == CommitShape.PARTITION;
    boolean sliced = configuredSliced || done.inSlices();
    int slices = sliced ? done.slicesOr(options.slices()) : 1;
    if (done.inSlices() && (!configuredSliced || slices != options.slices())) {
      LOG.warn("sink={} batch={}: finishing it in the {} slices it was first written with (configured: {})", name(),
          batch.batchId(), slices, configuredSliced ? options.slices() + " slices" : options.key(PostgresOptions.COMMIT) + "=batch");
    }
    if (batch.rowsIn() == 0) {
      ledger.insert(c, Ledger.Entry.wholeBatch(batch.writer(), batch.batchId(), 0, 0));
      c.commit();
      return CommitResult.written(0);
    }
    BatchPlan plan = new BatchPlan(batch, schema, sql.forBatch(List.of(schema.fieldNames()), sliced), slices, done);
    for (CommitPath path : sliced ? slicedShape : batchShape) {
      Optional<CommitResult> result = path.commit(c, plan);
      if (result.isPresent()) {
        return result.get();
      }
    }
    throw new IllegalStateException("sink " + name() + " batch " + batch.batchId() + ": no commit path took the batch");
  }

  /** How this attempt found that another attempt of its writer committed the batch first. */
  private IllegalStateException lostTo(BatchContext batch, Optional<WriterLock.Wait> waited) {
    String how = waited.map(w -> "waited " + w.waitedMillis() + " ms for the writer lock on " + tables.describe() + ", held by "
        + w.holder() + ", then found").orElse("found, on taking the writer lock on " + tables.describe() + ",");
    return new IllegalStateException("sink " + name() + " batch " + batch.batchId() + ": another attempt of writer "
        + batch.writer().sinkName() + " (query id " + batch.writer().queryId() + ") committed the batch first: this attempt " + how
        + " the batch in the ledger");
  }

  /** Batches this sink object committed through the direct path. */
  long directCommits() {
    return direct.commits();
  }

  /** Closes the driver's connection pool. */
  @Override
  public void close() {
    pool.close();
  }
}
