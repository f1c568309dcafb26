package dev.eventproc.pipeline;

import dev.eventproc.sink.BatchCount;
import dev.eventproc.sink.BatchOutcome;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.stage.ParsedEvents;
import dev.eventproc.util.BatchConstant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;

/**
 * The {@code foreachBatch} function of a pipeline: splits each batch (stage output plus quarantined
 * rows, see {@link ParsedEvents#withQuarantine}) and writes both parts, each exactly once under the
 * same batch id. The batch is persisted once. If either write fails the batch fails, Spark replays
 * it after restart, and the sink that had already committed it skips. A graceful stop
 * ({@link Pipeline#stop()}) closes its {@link BatchGate}: the batch inside finishes, the next one is
 * held back unwritten until the query stops.
 */
public final class QuarantineSplit implements VoidFunction2<Dataset<Row>, Long> {
  private static final long serialVersionUID = 1L;
  /** Column added to quarantined rows: the batch that carried them. */
  public static final String BATCH_ID = "batch_id";

  private final BatchSink main;
  private final BatchSink quarantine;
  private static final int KEPT = 64;
  private final AtomicReference<Split> last = new AtomicReference<>();
  private final Map<Long, Split> recent = new ConcurrentHashMap<>();
  private final BatchGate gate = new BatchGate();

  /**
   * What a batch did in each sink.
   *
   * @param duplicatesDropped rows the stage dropped as duplicates, counted in the batch itself
   *     ({@link ParsedEvents#DROPPED}); 0 for stages whose operator reports them to Spark instead
   */
  public record Split(long batchId, BatchOutcome main, BatchOutcome quarantine, long duplicatesDropped) {}

  public QuarantineSplit(BatchSink main, BatchSink quarantine) {
    this.main = main;
    this.quarantine = quarantine;
  }

  @Override
  public void call(Dataset<Row> batch, Long batchId) throws InterruptedException {
    gate.enter(batchId);
    boolean done = false;
    try {
      write(batch, batchId);
      done = true;
    } finally {
      gate.leave(batchId, done);
    }
  }

  private void write(Dataset<Row> batch, long batchId) {
    String queryId = batch.sparkSession().sparkContext().getLocalProperty("sql.streaming.queryId");
    Dataset<Row> rows = batch.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // One job counts both parts, their rows with null keys and the stage's drops; it is also the job that
      // runs the stage. The sinks take these counts instead of counting again.
      ParsedEvents.Census census = ParsedEvents.census(rows, main.keyColumns(), quarantine.keyColumns());
      BatchOutcome q = quarantine.writeCounted(ParsedEvents.quarantineRows(rows).withColumn(BATCH_ID, BatchConstant.of(batchId)),
          batchId, queryId, new BatchCount(census.quarantined(), census.quarantinedNullKeys()));
      BatchOutcome m = main.writeCounted(ParsedEvents.mainRows(rows), batchId, queryId,
          new BatchCount(census.main(), census.mainNullKeys()));
      Split split = new Split(batchId, m, q, census.dropped());
      last.set(split);
      recent.put(batchId, split);
      recent.keySet().removeIf(b -> b < batchId - KEPT);
    } finally {
      rows.unpersist(false);
    }
  }

  /** Where a graceful stop waits for the batch in flight. */
  BatchGate gate() {
    return gate;
  }

  public BatchSink main() {
    return main;
  }

  public BatchSink quarantine() {
    return quarantine;
  }

  /** The outcomes of a recent batch of this run, or null. */
  public Split outcome(long batchId) {
    return recent.get(batchId);
  }

  /** The outcomes of the latest batch, or null before the first. */
  public Split last() {
    return last.get();
  }
}
