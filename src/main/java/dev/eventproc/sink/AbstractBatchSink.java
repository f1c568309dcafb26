package dev.eventproc.sink;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.FaultInjection.Point;
import dev.eventproc.util.Errors;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LocalRelation;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.columnar.InMemoryRelation;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The machinery every adapter shares: writer identity, skip-on-replay, empty batches, the null-key
 * check, persisting the batch once, counters and logging. An adapter fills in only
 * {@link #isCommitted} (read its commit record) and {@link #commit} (write the batch and its commit
 * record atomically).
 *
 * <p>Order of one call: check the commit record; count the batch (this also runs the query's
 * stateful operators, whose state must progress even on a replay); skip if committed or empty; else
 * commit. A sink that does not record empty batches counts a cached batch before it checks the
 * record, so an empty batch costs it no read of the target; a batch the caller counted
 * ({@link #writeCounted}) is not counted again. If the commit throws, the record is read again: when
 * another writer with the same identity committed the batch meanwhile (a zombie, a speculative
 * driver), the batch counts as a replay;
 * otherwise the error fails the batch and Spark retries it after restart. An adapter that finds out
 * inside its commit that it lost such a race (fenced, or kept waiting by the other attempt's lock)
 * says so with {@link CommitResult#lostRace}; either way the race is counted in {@link SinkMetrics#racesLost()}.
 */
public abstract class AbstractBatchSink implements BatchSink {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(AbstractBatchSink.class);

  /** The key naming an adapter in a sink's scope (as read by {@code Sinks}). */
  private static final String TYPE_KEY = "type";

  protected final SinkSpec spec;
  private transient volatile SinkMetrics metrics;

  protected AbstractBatchSink(SinkSpec spec) {
    this.spec = spec;
  }

  /** Whether this writer has already committed the batch (read from the target's own commit records). */
  protected abstract boolean isCommitted(SparkSession session, WriterId writer, long batchId);

  /**
   * Writes the batch and the record that this writer committed it, in one atomic commit of the
   * target. Called only for batches that are not committed yet and not empty (unless
   * {@link #recordsEmptyBatches()} and the sink's {@link SinkSpec#recordEmptyBatches()}).
   */
  protected abstract CommitResult commit(BatchContext batch);

  /** What the sink writes to, for log lines (a table name or path). */
  public abstract String target();

  /** Checks the session once per batch before anything runs (e.g. a required extension). */
  protected void checkSession(SparkSession session) {}

  /**
   * Whether {@link #commit} can take a batch that is neither persisted nor counted and report the rows
   * it wrote ({@link BatchContext#rowsIn()} is then {@link BatchContext#UNKNOWN}): one pass over the
   * batch instead of two. Used for batches not already in Spark's cache (counting a cached batch is
   * cheap and lets an empty batch skip its commit).
   */
  protected boolean writesInOnePass() {
    return false;
  }

  /**
   * Whether the adapter commits empty batches too (a record without rows, so its records have no gap
   * and a reconciliation tells a lost batch from an empty one), unless the sink's
   * {@link SinkSpec#recordEmptyBatches()} turns that off.
   */
  protected boolean recordsEmptyBatches() {
    return false;
  }

  /** Whether this sink commits empty batches: the adapter does, and the sink's config keeps it on. */
  private boolean commitsEmptyBatches() {
    return recordsEmptyBatches() && spec.recordEmptyBatches();
  }

  /**
   * Called for an empty batch that this sink does not record (no commit, no record); e.g. a table
   * sink creates its table here once, so readers find it even before the first row.
   */
  protected void emptyBatchNotRecorded(Dataset<Row> batch) {}

  @Override
  public final boolean recordsEveryBatch() {
    return commitsEmptyBatches();
  }

  /**
   * The mode's own stage rules ({@link HistoryMode#checkStage}), and behind {@code dedupe-latest} an
   * upsert on the stage's keys must order rows as the stage does; adapters that override this call it too.
   */
  @Override
  public void checkStage(StageGuarantee stage, BiConsumer<String, String> problem) {
    HistoryMode.checkStage(spec, stage, problem);
    stage.checkOrder(spec, problem);
  }

  public final SinkSpec spec() {
    return spec;
  }

  /** The sink name and the adapter's {@link #shape()}, under this sink's config keys. */
  @Override
  public final Map<String, String> identity() {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(spec.key(SinkSpec.NAME), name());
    out.putAll(shape());
    return Collections.unmodifiableMap(out);
  }

  /**
   * The adapter's part of {@link #identity()}: its type, the target and the commit shape that its
   * commit records depend on, built with {@link #shapeOf}. Empty by default (a sink without records).
   */
  protected Map<String, String> shape() {
    return Map.of();
  }

  /**
   * A {@link #shape()}: {@code <scope>type} with the adapter's type, then pairs of a key of this sink's
   * scope (e.g. {@code delta.path}) and its normalised value; a null value leaves its key out.
   */
  protected final Map<String, String> shapeOf(SinkType type, String... keysAndValues) {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(spec.key(TYPE_KEY), type.name().toLowerCase(Locale.ROOT));
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      if (keysAndValues[i + 1] != null) {
        out.put(spec.key(keysAndValues[i]), keysAndValues[i + 1]);
      }
    }
    return out;
  }


  @Override
  public final String name() {
    return spec.name();
  }

  @Override
  public final SinkMetrics metrics() {
    SinkMetrics m = metrics;
    if (m == null) {
      synchronized (this) {
        if (metrics == null) {
          metrics = new SinkMetrics();
        }
        m = metrics;
      }
    }
    return m;
  }

  @Override
  public final void call(Dataset<Row> batch, Long batchId) {
    String queryId = batch.sparkSession().sparkContext().getLocalProperty("sql.streaming.queryId");
    if (queryId == null) {
      throw new IllegalStateException("sink " + name() + ": called outside a streaming query (no "
          + "sql.streaming.queryId). Use it in writeStream().foreachBatch(...), or call "
          + "write(batch, batchId, queryId) with a query id that is stable across restarts.");
    }
    write(batch, batchId, queryId);
  }

  @Override
  public final BatchOutcome write(Dataset<Row> batch, long batchId, String queryId) {
    return write(batch, batchId, queryId, null);
  }

  @Override
  public final BatchOutcome writeCounted(Dataset<Row> batch, long batchId, String queryId, BatchCount count) {
    return write(batch, batchId, queryId, new RowCounts(count.rows(), count.nullKeyRows()));
  }

  @Override
  public final List<String> keyColumns() {
    return spec.keyColumns();
  }

  /** @param known the batch's counts when the caller has them, else null (then the sink counts) */
  private BatchOutcome write(Dataset<Row> batch, long batchId, String queryId, RowCounts known) {
    long start = System.nanoTime();
    WriterId writer = new WriterId(name(), queryId);
    SparkSession session = batch.sparkSession();
    checkSession(session);
    spec.checkColumns(batch.schema());

    boolean cached = servedFromCache(batch);
    // A sink that records only batches with rows counts a cached batch first: an empty one then
    // costs no look at the target's records (reading them can be a Spark job, as on Delta).
    RowCounts early = known != null ? known : cached && !commitsEmptyBatches() ? countRows(batch) : null;
    if (early != null && early.total() == 0 && !commitsEmptyBatches()) {
      emptyBatchNotRecorded(batch);
      return finish(batchId, Status.EMPTY, 0, CommitResult.written(0), start);
    }
    boolean committed = isCommitted(session, writer, batchId);
    if (!committed && !cached && early == null && writesInOnePass()) {
      FaultInjection.at(Point.BEFORE_COMMIT, name(), batchId);
      CommitResult result = commitGuarded(new BatchContext(batch, batchId, writer, BatchContext.UNKNOWN), session, writer);
      FaultInjection.at(Point.AFTER_COMMIT, name(), batchId);
      long rows = result.rowsWritten();
      Status status = result.alreadyCommitted() ? Status.SKIPPED_REPLAY : rows == 0 ? Status.EMPTY : Status.COMMITTED;
      return finish(batchId, status, rows, result, start);
    }
    // Persist once for the count and the commit, unless the batch is read from Spark's cache already
    // (the caller cached it, or it is a view of a cached batch; then a second read is cheap) or the
    // count is known.
    boolean persistHere = !committed && !cached && early == null;
    Dataset<Row> rows = persistHere ? batch.persist(StorageLevel.MEMORY_AND_DISK()) : batch;
    try {
      RowCounts counts = early != null ? early : countRows(rows);
      long rowsIn = counts.total();
      if (committed) {
        return finish(batchId, Status.SKIPPED_REPLAY, rowsIn, CommitResult.skipped(), start);
      }
      if (counts.nullKeys() > 0) {
        throw new IllegalStateException("sink " + name() + " batch " + batchId + ": " + counts.nullKeys() + " of " + rowsIn
            + " rows have a null in key column(s) " + spec.keyColumns() + ". A key identifies the row; route "
            + "such rows to quarantine before the sink (the pipeline's parse step does this).");
      }
      if (rowsIn == 0 && !commitsEmptyBatches()) {
        emptyBatchNotRecorded(rows);
        return finish(batchId, Status.EMPTY, 0, CommitResult.written(0), start);
      }
      FaultInjection.at(Point.BEFORE_COMMIT, name(), batchId);
      CommitResult result = commitGuarded(new BatchContext(rows, batchId, writer, rowsIn), session, writer);
      FaultInjection.at(Point.AFTER_COMMIT, name(), batchId);
      Status status = result.alreadyCommitted() ? Status.SKIPPED_REPLAY : Status.COMMITTED;
      return finish(batchId, status, rowsIn, result, start);
    } finally {
      if (persistHere) {
        rows.unpersist(false);
      }
    }
  }

  /**
   * Commits; when the commit fails, reads the record again: if another attempt of this writer (a
   * zombie, a speculative driver) committed the batch meanwhile, it counts as a replay.
   */
  private CommitResult commitGuarded(BatchContext context, SparkSession session, WriterId writer) {
    try {
      CommitResult result = commit(context);
      if (result.lostTo() != null) {
        LOG.warn("sink={} target={} batch={}: another attempt of {} committed the batch first ({}); counted as a replay", name(),
            target(), context.batchId(), writer, result.lostTo().toString());
        metrics().raceLost(result.lostTo());
      }
      return result;
    } catch (FaultInjection.InjectedFault e) {
      throw e;
    } catch (Exception e) { // includes Spark's job failures: SparkException is checked, thrown through Scala
      if (isCommitted(session, writer, context.batchId())) {
        LOG.warn("sink={} target={} batch={}: commit failed ({}) but the batch is committed by {}: another attempt of "
            + "this writer won the race; counted as a replay", name(), target(), context.batchId(), e.toString(), writer);
        metrics().raceLost(e);
        return CommitResult.skipped();
      }
      throw Errors.<RuntimeException>rethrow(e);
    }
  }

  /** Whether every leaf of the batch's plan is cached data, so reading it again recomputes nothing costly. */
  static boolean servedFromCache(Dataset<Row> batch) {
    if (!batch.storageLevel().equals(StorageLevel.NONE())) {
      return true;
    }
    LogicalPlan plan = batch.queryExecution().withCachedData();
    return plan.collectLeaves().forall(leaf -> leaf instanceof InMemoryRelation || leaf instanceof LocalRelation);
  }

  /** A batch's row count and how many of its rows have a null in a key column. */
  private record RowCounts(long total, long nullKeys) {}

  /** Row count and count of rows with a null key, in one job. */
  private RowCounts countRows(Dataset<Row> rows) {
    List<String> keys = spec.keyColumns();
    Column nullKey = lit(false);
    for (String k : keys) {
      nullKey = nullKey.or(col(k).isNull());
    }
    Row r = rows.agg(count(lit(1)), sum(when(nullKey, 1).otherwise(0))).first();
    long total = r.getLong(0);
    long nulls = r.isNullAt(1) ? 0 : r.getLong(1);
    return new RowCounts(total, nulls);
  }

  private BatchOutcome finish(long batchId, Status status, long rowsIn, CommitResult result, long startNanos) {
    long millis = (System.nanoTime() - startNanos) / 1_000_000;
    long written = status == Status.COMMITTED ? result.rowsWritten() : 0;
    long ignored = status == Status.COMMITTED ? Math.max(0, rowsIn - written) : 0;
    BatchOutcome outcome = new BatchOutcome(batchId, status, rowsIn, written, ignored, millis);
    metrics().record(outcome);
    switch (status) {
      case COMMITTED -> LOG.info("sink={} target={} batch={}: committed, rows in={} written={} ignored={} in {} ms",
          name(), target(), batchId, rowsIn, written, ignored, millis);
      case SKIPPED_REPLAY -> LOG.info("sink={} target={} batch={}: already committed by this writer, skipped "
          + "(a replay after restart), rows in={}", name(), target(), batchId, rowsIn);
      case EMPTY -> LOG.debug("sink={} target={} batch={}: empty", name(), target(), batchId);
    }
    return outcome;
  }

  @Override
  public String toString() {
    return spec + " -> " + target();
  }
}
