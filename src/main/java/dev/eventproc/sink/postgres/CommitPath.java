package dev.eventproc.sink.postgres;

import dev.eventproc.sink.CommitResult;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * One way to commit a batch with its ledger row(s), run by the driver while it holds the writer lock
 * on {@code locked}: the direct COPY ({@link DirectCopyPath}), one transaction over staging
 * ({@link SingleTransactionPath}), or parallel slice transactions over staging ({@link SlicedPath}).
 */
interface CommitPath extends Serializable {
  /** Commits the batch, or returns empty when this path cannot take it (the next path will). */
  Optional<CommitResult> commit(Connection locked, BatchPlan plan) throws SQLException;
}
