package dev.eventproc.sink.postgres;

import static org.apache.spark.sql.functions.col;

import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.DriverRowStream;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.postgres.NulRule.NulInKeyException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.Iterator;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The direct path, for a batch whose keys are all new and that deletes nothing (the common case of
 * event streams): the driver streams the batch through one binary COPY straight into the target,
 * inside the transaction that inserts the ledger row; no staging, no MERGE. A savepoint guards it: a
 * key already present or repeated (unique violation) or a delete row rolls it back and the batch
 * takes the staging path. After such a miss the path rests for 1, 2, 4 ... 64 batches, so an
 * update-heavy stream stops paying for attempts. Batch commit shape only.
 */
final class DirectCopyPath implements CommitPath {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(DirectCopyPath.class);
  private static final int SAMPLE_KEYS = 64;

  private final SinkSpec spec;
  private final PostgresOptions options;
  private final Staging staging;
  private final Ledger ledger;
  private final AtomicLong commits = new AtomicLong();
  /** Batches to skip the path for after a miss, and how many misses in a row. */
  private transient int skip;
  private transient int misses;

  DirectCopyPath(SinkSpec spec, PostgresOptions options, Staging staging, Ledger ledger) {
    this.spec = spec;
    this.options = options;
    this.staging = staging;
    this.ledger = ledger;
  }

  /** Batches committed through this path by this sink object. */
  long commits() {
    return commits.get();
  }

  @Override
  public Optional<CommitResult> commit(Connection c, BatchPlan plan) throws SQLException {
    if (!tryNow()) {
      return Optional.empty();
    }
    BatchContext batch = plan.batch();
    PgSql sql = plan.sql();
    if (batch.rowsIn() > options.directMaxRows() || (sql.hasDeletes() && anyTombstone(c, sql)) || sampleKeysExist(c, batch, sql)) {
      return Optional.empty();
    }
    long start = System.nanoTime();
    StructType schema = plan.schema();
    Dataset<Row> rows = staging.copyRows(batch.rows(), schema, 1);
    if (FaultInjection.armed(FaultInjection.Point.TASK_WRITTEN)) {
      rows = rows.mapPartitions(new TaskFaultPoint(spec.name(), batch.batchId()), Encoders.row(rows.schema()));
    }
    int fields = schema.fields().length;
    Savepoint savepoint = c.setSavepoint();
    long n;
    boolean conflict = false;
    try (DriverRowStream stream = DriverRowStream.of(rows, options.directPrefetch())) { // internal rows
      PgBinaryEncoder encoder = new PgBinaryEncoder(rows.schema(), Staging.jsonColumns(schema), staging.keyColumns(schema), fields,
          false);
      n = CopyStream.copy(c, sql.copyIntoTarget(), encoder, stream, 0, 0, r -> !r.getBoolean(fields));
    } catch (NulInKeyException e) {
      throw e.of(spec.name(), batch.batchId());
    } catch (SQLException e) {
      if (!"23505".equals(e.getSQLState())) {
        throw e;
      }
      n = 0;
      conflict = true; // reported while sending or at the end of the COPY
    }
    if (n < 0 || conflict || n != batch.rowsIn()) {
      c.rollback(savepoint);
      c.commit();
      missed();
      LOG.debug("sink={} batch={}: direct path missed ({}); staging path, direct path skipped for {} batches",
          spec.name(), batch.batchId(), n < 0 ? "a delete" : "a key already present or repeated", skip);
      return Optional.empty();
    }
    misses = 0;
    FaultInjection.at(FaultInjection.Point.AFTER_STAGING, spec.name(), batch.batchId());
    ledger.insert(c, Ledger.Entry.wholeBatch(batch.writer(), batch.batchId(), batch.rowsIn(), n));
    c.commit();
    commits.incrementAndGet();
    LOG.debug("sink={} batch={}: direct path, {} rows in {} ms", spec.name(), batch.batchId(), n, (System.nanoTime() - start) / 1_000_000);
    return Optional.of(CommitResult.written(n));
  }

  /**
   * Test hook: the task-written fault point in the direct COPY's Spark tasks, after a task handed all
   * its rows to the driver. Added to the job only when a test arms that point (it costs a row copy).
   */
  static final class TaskFaultPoint implements MapPartitionsFunction<Row, Row> {
    private static final long serialVersionUID = 1L;
    private final String sinkName;
    private final long batchId;

    TaskFaultPoint(String sinkName, long batchId) {
      this.sinkName = sinkName;
      this.batchId = batchId;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          boolean more = rows.hasNext();
          if (!more) {
            FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, sinkName, batchId);
          }
          return more;
        }

        @Override
        public Row next() {
          return rows.next();
        }
      };
    }
  }

  private boolean tryNow() {
    if (options.directMaxRows() == 0) {
      return false;
    }
    if (skip > 0) {
      skip--;
      return false;
    }
    return true;
  }

  private void missed() {
    misses = Math.min(6, misses + 1);
    skip = (1 << misses) - 1;
  }

  private static boolean anyTombstone(Connection c, PgSql sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql.anyTombstone())) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  /**
   * Looks up the keys of the batch's first rows in the target (a single key column of a plain type):
   * when one exists, the batch updates rows and the direct path would fail, so it is not tried.
   */
  private boolean sampleKeysExist(Connection c, BatchContext batch, PgSql sql) throws SQLException {
    if (spec.mode() == WriteMode.APPEND || spec.keyColumns().size() != 1) {
      return false;
    }
    String key = spec.keyColumns().get(0);
    String arrayType = switch (batch.rows().schema().apply(key).dataType().typeName()) {
      case "string" -> "text";
      case "long" -> "int8";
      case "integer" -> "int4";
      default -> null;
    };
    if (arrayType == null) {
      return false;
    }
    // A key holding U+0000 cannot be a text[] element; it is left out here and refused by the COPY.
    Object[] sample = batch.rows().select(col(Identifiers.quoteSpark(key))).limit(SAMPLE_KEYS).collectAsList().stream()
        .map(r -> r.get(0)).filter(v -> !(v instanceof String s && s.indexOf('\0') >= 0)).toArray();
    try (PreparedStatement q = c.prepareStatement(sql.anyKeyExists(key))) {
      q.setArray(1, c.createArrayOf(arrayType, sample));
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        boolean exists = rs.getBoolean(1);
        c.commit();
        if (exists) {
          missed();
        }
        return exists;
      }
    }
  }
}
