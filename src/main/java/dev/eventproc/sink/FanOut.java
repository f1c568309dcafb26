package dev.eventproc.sink;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.util.BatchConstant;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code foreachBatch} that writes each batch to several sinks: the batch as it is, or a frame
 * derived from it by a SQL query over the view {@code batch} (which has the batch's columns plus
 * {@code batch_id}), e.g. per-batch metrics. The batch is persisted once; sinks are written one after
 * another (never in parallel threads: Delta's transaction id is a session setting, delta-io/delta#3934).
 *
 * <p>Each sink is exactly-once on its own, with its own commit record. When one fails, the batch fails
 * and Spark replays it after restart; the sinks that had committed it skip it then.
 */
public final class FanOut implements BatchSink {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(FanOut.class);
  /** The view a route's query reads. */
  public static final String VIEW = "batch";
  /** The column the view adds: the batch id. */
  public static final String BATCH_ID = "batch_id";

  /**
   * One destination.
   *
   * @param sink where it goes
   * @param query a SQL query over the view {@code batch}, or null for the batch as it is
   */
  public record Route(BatchSink sink, String query) implements Serializable {
    public Route {
      Objects.requireNonNull(sink, "sink");
    }
  }

  private final String name;
  private final List<Route> routes;
  private transient volatile SinkMetrics metrics;

  public FanOut(String name, List<Route> routes) {
    if (routes.isEmpty()) {
      throw new IllegalArgumentException("a fan-out needs at least one sink");
    }
    this.name = name;
    this.routes = List.copyOf(routes);
  }

  /** Writes every batch, as it is, to each sink. */
  public static FanOut of(String name, BatchSink... sinks) {
    List<Route> routes = new ArrayList<>();
    for (BatchSink s : sinks) {
      routes.add(new Route(s, null));
    }
    return new FanOut(name, routes);
  }

  public List<Route> routes() {
    return routes;
  }

  /** Each route's sink sees the stage's promise, unless its query derives another frame (then none). */
  @Override
  public void checkStage(StageGuarantee stage, BiConsumer<String, String> problem) {
    for (Route r : routes) {
      r.sink().checkStage(r.query() == null ? stage : StageGuarantee.NONE, problem);
    }
  }

  /** Every route's refusals (a route's query sees the new columns too). */
  @Override
  public List<String> schemaChangeRefusals(SchemaChange change) {
    List<String> out = new ArrayList<>();
    for (Route r : routes) {
      out.addAll(r.sink().schemaChangeRefusals(change));
    }
    return out;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public void call(Dataset<Row> batch, Long batchId) {
    String queryId = batch.sparkSession().sparkContext().getLocalProperty("sql.streaming.queryId");
    if (queryId == null) {
      throw new IllegalStateException("fan-out " + name + ": called outside a streaming query (no sql.streaming.queryId). "
          + "Use it in writeStream().foreachBatch(...), or call write(batch, batchId, queryId).");
    }
    write(batch, batchId, queryId);
  }

  /** Writes the batch to every route in order; the outcome sums theirs (committed if any sink committed). */
  @Override
  public BatchOutcome write(Dataset<Row> batch, long batchId, String queryId) {
    return write(batch, batchId, queryId, null);
  }

  /**
   * As {@link #write}; a route without a query takes the batch as it is, with its count. When the count
   * has rows with a null in some route's key ({@link #keyColumns()} is every such route's), each route
   * counts for itself, so only a route keyed on that column refuses the batch.
   */
  @Override
  public BatchOutcome writeCounted(Dataset<Row> batch, long batchId, String queryId, BatchCount count) {
    return write(batch, batchId, queryId, count.nullKeyRows() == 0 ? count : null);
  }

  /** The key columns of every route that takes the batch as it is (routes with a query count for themselves). */
  @Override
  public List<String> keyColumns() {
    Set<String> out = new LinkedHashSet<>();
    routes.stream().filter(r -> r.query() == null).forEach(r -> out.addAll(r.sink().keyColumns()));
    return List.copyOf(out);
  }

  private BatchOutcome write(Dataset<Row> batch, long batchId, String queryId, BatchCount known) {
    long start = System.nanoTime();
    boolean persistHere = !AbstractBatchSink.servedFromCache(batch);
    Dataset<Row> rows = persistHere ? batch.persist(StorageLevel.MEMORY_AND_DISK()) : batch;
    try {
      long in = 0;
      long written = 0;
      long ignored = 0;
      boolean committed = false;
      boolean allEmpty = true;
      for (Route route : routes) {
        BatchOutcome o = known != null && route.query() == null ? route.sink().writeCounted(rows, batchId, queryId, known)
            : route.sink().write(derive(rows, route, batchId), batchId, queryId);
        in = Math.max(in, o.rowsIn());
        written += o.rowsWritten();
        ignored += o.rowsIgnored();
        committed |= o.status() == Status.COMMITTED;
        allEmpty &= o.status() == Status.EMPTY;
      }
      Status status = committed ? Status.COMMITTED : allEmpty ? Status.EMPTY : Status.SKIPPED_REPLAY;
      BatchOutcome outcome = new BatchOutcome(batchId, status, in, written, ignored, (System.nanoTime() - start) / 1_000_000);
      metrics().record(outcome);
      LOG.debug("fan-out={} batch={}: {}", name, batchId, outcome);
      return outcome;
    } finally {
      if (persistHere) {
        rows.unpersist(false);
      }
    }
  }

  private static Dataset<Row> derive(Dataset<Row> rows, Route route, long batchId) {
    if (route.query() == null) {
      return rows;
    }
    SparkSession session = rows.sparkSession();
    rows.withColumn(BATCH_ID, BatchConstant.of(batchId)).createOrReplaceTempView(VIEW);
    return session.sql(route.query());
  }

  /** Every route's {@link BatchSink#identity()}, each under its own {@code sink.<route>.} keys. */
  @Override
  public Map<String, String> identity() {
    Map<String, String> out = new LinkedHashMap<>();
    for (Route route : routes) {
      out.putAll(route.sink().identity());
    }
    return Collections.unmodifiableMap(out);
  }

  @Override
  public SinkMetrics metrics() {
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
  public String toString() {
    return "fan-out " + name + " " + routes.stream().map(r -> r.sink() + (r.query() == null ? "" : " [query]")).toList();
  }
}
