package dev.eventproc.sink.postgres;

import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.postgres.Staging.StagedRows;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code partition} commit shape: staged rows carry a key-hash slice; the driver applies the
 * slices in parallel transactions on pooled connections, each with its own ledger row, and skips the
 * slices already in the ledger (a replay finishes what an earlier attempt began). Readers may see
 * some slices of a batch before others.
 */
final class SlicedPath implements CommitPath {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SlicedPath.class);

  private final Staging staging;
  private final Ledger ledger;
  private final DriverPool pool;
  private final PostgresOptions options;
  private final String sinkName;

  SlicedPath(Staging staging, Ledger ledger, DriverPool pool, PostgresOptions options, String sinkName) {
    this.staging = staging;
    this.ledger = ledger;
    this.pool = pool;
    this.options = options;
    this.sinkName = sinkName;
  }

  /** What one slice transaction did. */
  private record SliceResult(long written, boolean applied) {}

  @Override
  public Optional<CommitResult> commit(Connection c, BatchPlan plan) throws SQLException {
    StagedRows staged = staging.stage(c, plan);
    BatchContext batch = plan.batch();
    long start = System.nanoTime();
    int threads = Math.max(1, Math.min(plan.slices(), options.poolSize() - 1));
    ExecutorService workers = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "eventproc-" + sinkName + "-slice");
      t.setDaemon(true);
      return t;
    });
    List<Future<SliceResult>> results = new ArrayList<>();
    try {
      for (int s = 0; s < plan.slices(); s++) {
        if (plan.ledger().has(s)) {
          continue;
        }
        int slice = s;
        results.add(workers.submit(() -> applySlice(plan, staged, slice)));
      }
      long written = 0;
      long applied = 0;
      for (Future<SliceResult> f : results) {
        SliceResult r = f.get();
        written += r.written();
        applied += r.applied() ? 1 : 0;
      }
      staging.clear(c, batch.writer());
      c.commit();
      LOG.debug("sink={} batch={}: {} slices applied on {} threads in {} ms", sinkName, batch.batchId(), applied, threads,
          (System.nanoTime() - start) / 1_000_000);
      return Optional.of(applied == 0 ? CommitResult.skipped() : CommitResult.written(written));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("sink " + sinkName + " batch " + batch.batchId() + ": interrupted while applying slices", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    } finally {
      workers.shutdownNow();
    }
  }

  /**
   * One slice in its own transaction with its ledger row, unless the ledger has it already. The slice
   * connections do not hold the writer lock, and the lock's session can end at any moment (a DBA,
   * idle_session_timeout, a proxy): another attempt of this writer may then take the lock and empty
   * staging. So the transaction itself checks that staging holds every row Spark staged for this slice
   * and attempt before it applies them and records the slice; the check's read lock on staging keeps a
   * TRUNCATE out until the transaction ends.
   */
  private SliceResult applySlice(BatchPlan plan, StagedRows staged, int slice) {
    BatchContext batch = plan.batch();
    return pool.run("commit slice " + slice + " of batch " + batch.batchId(), c -> {
      if (ledger.read(c, batch.writer(), batch.batchId()).has(slice)) {
        c.rollback();
        return new SliceResult(0, false);
      }
      MergeApplier merge = new MergeApplier(plan.sql(), sinkName, options.tombstoneRetention());
      merge.checkStaged(c, batch.batchId(), staged.attempt(), OptionalInt.of(slice), staged.ofSlice(slice));
      long written = merge.apply(c, staged.attempt(), OptionalInt.of(slice));
      if (slice == 0) {
        merge.purgeTombstones(c, batch.batchId());
      }
      ledger.insert(c, Ledger.Entry.slice(batch.writer(), batch.batchId(), slice, plan.slices(), staged.ofSlice(slice), written));
      c.commit();
      FaultInjection.at(FaultInjection.Point.BETWEEN_COMMITS, sinkName, batch.batchId());
      return new SliceResult(written, true);
    });
  }
}
