package dev.eventproc.sink.postgres;

import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.postgres.Staging.StagedRows;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code batch} commit shape: the batch is staged, then ONE transaction on the writer lock's
 * connection checks staging, records tombstones, applies the MERGE, inserts the ledger row and
 * empties staging. Readers see the batch whole or not at all; the lock's session dying aborts it.
 */
final class SingleTransactionPath implements CommitPath {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(SingleTransactionPath.class);

  private final Staging staging;
  private final Ledger ledger;
  private final String sinkName;
  private final Duration tombstoneRetention;

  SingleTransactionPath(Staging staging, Ledger ledger, String sinkName, Duration tombstoneRetention) {
    this.staging = staging;
    this.ledger = ledger;
    this.sinkName = sinkName;
    this.tombstoneRetention = tombstoneRetention;
  }

  @Override
  public Optional<CommitResult> commit(Connection c, BatchPlan plan) throws SQLException {
    StagedRows staged = staging.stage(c, plan);
    BatchContext batch = plan.batch();
    long start = System.nanoTime();
    MergeApplier merge = new MergeApplier(plan.sql(), sinkName, tombstoneRetention);
    merge.checkStaged(c, batch.batchId(), staged.attempt(), OptionalInt.empty(), staged.total());
    long written = merge.apply(c, staged.attempt(), OptionalInt.empty());
    merge.purgeTombstones(c, batch.batchId());
    ledger.insert(c, Ledger.Entry.wholeBatch(batch.writer(), batch.batchId(), batch.rowsIn(), written));
    staging.clear(c, batch.writer());
    c.commit();
    LOG.debug("sink={} batch={}: transaction {} ms", sinkName, batch.batchId(), (System.nanoTime() - start) / 1_000_000);
    return Optional.of(CommitResult.written(written));
  }
}
