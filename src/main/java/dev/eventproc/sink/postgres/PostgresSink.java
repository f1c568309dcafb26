package dev.eventproc.sink.postgres;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.hash;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.to_json;

import com.zaxxer.hikari.HikariDataSource;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Exactly-once writes to PostgreSQL. The commit record is a row in the ledger table, inserted in
 * the same transaction as the data; a batch already in the ledger is skipped.
 *
 * <p>One batch: the driver takes this writer's session advisory lock (writers of one sink are
 * serialized; a second one waits, then finds the batch in the ledger), empties the writer's UNLOGGED
 * staging table, and executors COPY their part of the batch into it in binary form (a retried or
 * speculative task replaces only its own slice). Then, in the {@code batch} commit shape, ONE
 * transaction checks that staging holds exactly the rows Spark staged, records tombstones, applies a
 * MERGE (delete / update when newer / insert), inserts the ledger row and empties staging: readers see
 * the batch whole or not at all. In the {@code partition} shape the staged rows carry a key-hash
 * slice; the driver applies the slices in parallel transactions, each with its own ledger row, and a
 * replay applies only the slices missing from the ledger, with the slice count recorded there.
 *
 * <p>A key that repeats within a batch contributes one row (the newest; the oldest for
 * insert-if-absent), picked by PostgreSQL only when a key does repeat: the MERGE runs once without
 * sorting and, if PostgreSQL refuses a key affected twice, again over one row per key after a rollback
 * to a savepoint. Deletes leave tombstones in {@code <table>__tombstones} so an older update arriving
 * later cannot bring the key back. Empty batches are committed too (a ledger row), so the ledger of a
 * writer has no gaps.
 */
public final class PostgresSink extends AbstractBatchSink implements AutoCloseable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(PostgresSink.class);
  static final int PURGE_EVERY_BATCHES = 100;
  private static final int COPY_CHUNK = 1 << 17;

  private final PostgresOptions options;
  private final PostgresTables tables;
  private transient volatile HikariDataSource pool;
  private transient volatile StructType readySchema;
  /** Direct path backoff: batches to skip it for after a miss, and how many misses in a row. */
  private transient int directSkip;
  private transient int directMisses;
  private final java.util.concurrent.atomic.AtomicLong directCommits = new java.util.concurrent.atomic.AtomicLong();

  private PostgresSink(SinkSpec spec, PostgresOptions options) {
    super(spec);
    this.options = options;
    this.tables = new PostgresTables(options, spec.name());
  }

  /** Reads the {@code postgres.*} keys of a sink scope. */
  public static PostgresSink fromConfig(SinkSpec spec, ConfigReader scope) {
    PostgresOptions o = PostgresOptions.read(scope);
    return spec == null || o == null ? null : new PostgresSink(spec, o);
  }

  public static PostgresSink create(SinkSpec spec, PostgresOptions options) {
    return new PostgresSink(spec, options);
  }

  /** A new connection to the sink's database (autocommit off), for tools such as reconciliation; the caller closes it. */
  public java.sql.Connection openConnection() {
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
    boolean slices = options.commit() == PostgresOptions.CommitShape.PARTITION;
    return shapeOf(dev.eventproc.sink.SinkType.POSTGRES, PostgresOptions.SCHEMA, options.schema(), PostgresOptions.TABLE,
        options.table(), PostgresOptions.LEDGER_TABLE, options.ledgerTable(), PostgresOptions.COMMIT,
        ConfigReader.configName(options.commit()), PostgresOptions.PARTITIONS, slices ? String.valueOf(options.partitions()) : null);
  }

  @Override
  protected boolean commitsEmptyBatches() {
    return true;
  }

  @Override
  protected boolean isCommitted(SparkSession session, WriterId writer, long batchId) {
    try (Connection c = pool().getConnection()) {
      if (!exists(c, tables.ledger)) {
        return false;
      }
      Ledger ledger = ledger(c, writer, batchId);
      c.rollback();
      return ledger.complete();
    } catch (SQLException e) {
      throw PgConnections.explain(options, name(), e, "read the ledger");
    }
  }

  @Override
  protected CommitResult commit(BatchContext batch) {
    StructType schema = batch.rows().schema();
    ensureTables(schema);
    try (Connection c = pool().getConnection()) {
      lockWriter(c, batch.writer());
      try {
        Ledger ledger = ledger(c, batch.writer(), batch.batchId());
        c.commit();
        if (ledger.complete()) {
          return CommitResult.skipped(); // another attempt of this writer committed it while we waited
        }
        int slices = options.commit() == CommitShape.PARTITION ? ledger.partitionsOr(options.partitions()) : 1;
        if (slices != options.partitions() && options.commit() == CommitShape.PARTITION) {
          LOG.warn("sink={} batch={}: replaying with the {} slices it was first written with (configured: {})",
              name(), batch.batchId(), slices, options.partitions());
        }
        if (batch.rowsIn() == 0) {
          return commitEmpty(c, batch);
        }
        PgSql sql = new PgSql(tables, spec, List.of(schema.fieldNames()), options.commit() == CommitShape.PARTITION);
        if (tryDirect()) {
          CommitResult direct = commitDirect(c, batch, schema, sql);
          if (direct != null) {
            return direct;
          }
        }
        try (Statement st = c.createStatement()) {
          st.execute("TRUNCATE " + tables.stageRef()); // leftovers of a crashed attempt of this writer
        }
        c.commit();
        long attempt = new SecureRandom().nextLong() & Long.MAX_VALUE;
        long[] staged = stage(batch, schema, sql, attempt, slices);
        FaultInjection.at(FaultInjection.Point.AFTER_STAGING, name(), batch.batchId());
        return options.commit() == CommitShape.PARTITION
            ? applySlices(c, batch, sql, attempt, slices, staged, ledger)
            : applyBatch(c, batch, sql, attempt, staged[0]);
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      } finally {
        unlockWriter(c, batch.writer());
      }
    } catch (SQLException e) {
      throw PgConnections.explain(options, name(), e, "commit batch " + batch.batchId());
    }
  }

  // ---------------------------------------------------------------- the direct path

  private boolean tryDirect() {
    if (options.commit() != CommitShape.BATCH || options.directMaxRows() == 0) {
      return false;
    }
    if (directSkip > 0) {
      directSkip--;
      return false;
    }
    return true;
  }

  /**
   * The direct path, for a batch whose keys are all new and that deletes nothing (the common case of
   * event streams): the driver streams the batch through one binary COPY straight into the target,
   * inside the transaction that inserts the ledger row; no staging, no MERGE. A savepoint guards it:
   * a key already present or repeated (unique violation) or a delete row rolls it back and the batch
   * takes the staging path. After such a miss the path is skipped for 1, 2, 4 ... 64 batches, so an
   * update-heavy stream stops paying for attempts. Returns null when the batch must take the staging
   * path.
   */
  private CommitResult commitDirect(Connection c, BatchContext batch, StructType schema, PgSql sql) throws SQLException {
    if (batch.rowsIn() > options.directMaxRows() || (sql.hasDeletes() && anyTombstone(c, sql)) || sampleKeysExist(c, batch)) {
      return null;
    }
    long start = System.nanoTime();
    Dataset<Row> rows = copyRows(batch.rows(), schema, 1);
    boolean[] json = jsonColumns(schema);
    int fields = schema.fields().length;
    java.sql.Savepoint savepoint = c.setSavepoint();
    org.postgresql.copy.CopyIn in = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn(sql.copyIntoTarget());
    long n = 0;
    boolean deletes = false;
    boolean conflict = false;
    try {
      PgBinaryEncoder encoder = new PgBinaryEncoder(rows.schema(), json, fields, false);
      Iterator<Row> it = rows.toLocalIterator();
      while (it.hasNext()) {
        Row r = it.next();
        if (r.getBoolean(fields)) {
          deletes = true;
          break;
        }
        encoder.append(r, 0, 0);
        n++;
        if (encoder.size() >= COPY_CHUNK) {
          encoder.drainTo((b, len) -> in.writeToCopy(b, 0, len), false);
        }
      }
      if (!deletes) {
        encoder.drainTo((b, len) -> in.writeToCopy(b, 0, len), true);
        in.endCopy();
      }
    } catch (SQLException e) {
      if (!"23505".equals(e.getSQLState())) {
        throw e;
      }
      conflict = true; // reported while sending or at the end of the COPY
    } finally {
      if (in.isActive()) {
        in.cancelCopy();
      }
    }
    if (deletes || conflict || n != batch.rowsIn()) {
      c.rollback(savepoint);
      c.commit();
      directMisses = Math.min(6, directMisses + 1);
      directSkip = (1 << directMisses) - 1;
      LOG.debug("sink={} batch={}: direct path missed ({}); staging path, direct path skipped for {} batches",
          name(), batch.batchId(), deletes ? "a delete" : "a key already present or repeated", directSkip);
      return null;
    }
    directMisses = 0;
    FaultInjection.at(FaultInjection.Point.AFTER_STAGING, name(), batch.batchId());
    insertLedger(c, sql, batch.writer(), batch.batchId(), -1, 1, batch.rowsIn(), n);
    c.commit();
    directCommits.incrementAndGet();
    LOG.debug("sink={} batch={}: direct path, {} rows in {} ms", name(), batch.batchId(), n, (System.nanoTime() - start) / 1_000_000);
    return CommitResult.written(n);
  }

  /**
   * Looks up the keys of the batch's first rows in the target (a single key column of a plain type):
   * when one exists, the batch updates rows and the direct path would fail, so it is not tried.
   */
  private boolean sampleKeysExist(Connection c, BatchContext batch) throws SQLException {
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
    Object[] sample = batch.rows().select(col(Identifiers.quoteSpark(key))).limit(64).collectAsList().stream()
        .map(r -> r.get(0)).toArray();
    try (PreparedStatement q = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM " + tables.targetRef() + " WHERE "
        + Identifiers.quotePostgres(key) + " = ANY(?))")) {
      q.setArray(1, c.createArrayOf(arrayType, sample));
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        boolean exists = rs.getBoolean(1);
        c.commit();
        if (exists) {
          directMisses = Math.min(6, directMisses + 1);
          directSkip = (1 << directMisses) - 1;
        }
        return exists;
      }
    }
  }

  /** Batches this sink object committed through the direct path. */
  long directCommits() {
    return directCommits.get();
  }

  private boolean anyTombstone(Connection c, PgSql sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql.anyTombstone())) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  // ---------------------------------------------------------------- staging

  /** Target columns (nested ones as JSON text), the delete flag and the key-hash slice. */
  private Dataset<Row> copyRows(Dataset<Row> batch, StructType schema, int slices) {
    List<Column> cols = new ArrayList<>();
    for (StructField f : schema.fields()) {
      Column c = col(Identifiers.quoteSpark(f.name()));
      cols.add(PgTypes.isNested(f.dataType()) ? to_json(c).as(f.name()) : c);
    }
    cols.add(spec.deleteCondition() == null ? lit(false).as(PostgresTables.DELETE_FLAG)
        : coalesce(expr(spec.deleteCondition()), lit(false)).as(PostgresTables.DELETE_FLAG));
    Column[] keys = spec.keyColumns().stream().map(k -> col(Identifiers.quoteSpark(k))).toArray(Column[]::new);
    cols.add(slices <= 1 || keys.length == 0 ? lit(0).as(PostgresTables.SLICE)
        : pmod(hash(keys), lit(slices)).as(PostgresTables.SLICE));
    return batch.select(cols.toArray(Column[]::new));
  }

  private static boolean[] jsonColumns(StructType schema) {
    boolean[] json = new boolean[schema.fields().length + 2];
    for (int i = 0; i < schema.fields().length; i++) {
      json[i] = PgTypes.isNested(schema.fields()[i].dataType());
    }
    return json;
  }

  /** COPYs the batch into staging from the executors; returns {rows staged, rows of slice 0, of slice 1, ...}. */
  private long[] stage(BatchContext batch, StructType schema, PgSql sql, long attempt, int slices) {
    boolean[] json = jsonColumns(schema);
    Dataset<Row> rows = copyRows(batch.rows(), schema, slices);
    StageTask task = new StageTask(options, tables, sql.copyIntoStage(), name(), batch.writer().sinkName(), batch.batchId(), attempt,
        rows.schema(), json, slices);
    long start = System.nanoTime();
    long[] staged = new long[slices + 1];
    List<Long> counts = rows.mapPartitions(task, Encoders.LONG()).collectAsList();
    for (int i = 0; i < counts.size(); i++) {
      staged[i % (slices + 1)] += counts.get(i); // each task reports its total, then its rows per slice
    }
    LOG.debug("sink={} batch={}: staged {} rows in {} ms", name(), batch.batchId(), staged[0], (System.nanoTime() - start) / 1_000_000);
    return staged;
  }

  /** Executor side: COPY one Spark partition into staging, replacing an earlier attempt of the same task. */
  static final class StageTask implements MapPartitionsFunction<Row, Long> {
    private static final long serialVersionUID = 1L;
    private final PostgresOptions options;
    private final PostgresTables tables;
    private final String copySql;
    private final String sinkName;
    private final String writer;
    private final long batchId;
    private final long attempt;
    private final StructType schema;
    private final boolean[] json;
    private final int slices;

    StageTask(PostgresOptions options, PostgresTables tables, String copySql, String sinkName, String writer, long batchId,
        long attempt, StructType schema, boolean[] json, int slices) {
      this.options = options;
      this.tables = tables;
      this.copySql = copySql;
      this.sinkName = sinkName;
      this.writer = writer;
      this.batchId = batchId;
      this.attempt = attempt;
      this.schema = schema;
      this.json = json;
      this.slices = slices;
    }

    /** Yields the rows staged, then the rows staged per slice. */
    @Override
    public Iterator<Long> call(Iterator<Row> rows) {
      int partition = TaskContext.getPartitionId();
      try (Connection c = PgConnections.open(options, sinkName)) {
        try {
          try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            lock.setLong(1, PgConnections.lockKey("eventproc-slice:" + attempt + ":" + partition));
            lock.execute();
          }
          replaceEarlierSlice(c, partition);
          long[] perSlice = new long[slices];
          long n = copy(c, rows, partition, perSlice);
          try (PreparedStatement marker = c.prepareStatement("INSERT INTO " + tables.slicesRef()
              + " (writer, attempt, partition_id, row_count) VALUES (?, ?, ?, ?)")) {
            marker.setString(1, writer);
            marker.setLong(2, attempt);
            marker.setInt(3, partition);
            marker.setLong(4, n);
            marker.executeUpdate();
          }
          FaultInjection.at(FaultInjection.Point.TASK_WRITTEN, sinkName, batchId);
          c.commit();
          List<Long> out = new ArrayList<>(slices + 1);
          out.add(n);
          for (long k : perSlice) {
            out.add(k);
          }
          return out.iterator();
        } catch (SQLException | RuntimeException e) {
          rollbackQuietly(c);
          throw PgConnections.explain(options, sinkName, e, "stage partition " + partition);
        }
      } catch (SQLException e) {
        throw PgConnections.explain(options, sinkName, e, "stage partition " + partition);
      }
    }

    /** A marker for (attempt, partition) means an earlier run of this task staged rows: delete them first. */
    private void replaceEarlierSlice(Connection c, int partition) throws SQLException {
      try (PreparedStatement marker = c.prepareStatement("DELETE FROM " + tables.slicesRef()
          + " WHERE attempt = ? AND partition_id = ? RETURNING row_count")) {
        marker.setLong(1, attempt);
        marker.setInt(2, partition);
        try (ResultSet rs = marker.executeQuery()) {
          if (!rs.next()) {
            return;
          }
        }
      }
      try (PreparedStatement del = c.prepareStatement("DELETE FROM " + tables.stageRef() + " WHERE "
          + Identifiers.quotePostgres(PostgresTables.ATTEMPT) + " = ? AND " + Identifiers.quotePostgres(PostgresTables.PARTITION) + " = ?")) {
        del.setLong(1, attempt);
        del.setInt(2, partition);
        del.executeUpdate();
      }
    }

    private long copy(Connection c, Iterator<Row> rows, int partition, long[] perSlice) throws SQLException {
      org.postgresql.copy.CopyIn in = c.unwrap(org.postgresql.PGConnection.class).getCopyAPI().copyIn(copySql);
      int sliceColumn = schema.fields().length - 1;
      long n = 0;
      try {
        PgBinaryEncoder encoder = new PgBinaryEncoder(schema, json, true);
        while (rows.hasNext()) {
          Row r = rows.next();
          encoder.append(r, attempt, partition);
          perSlice[r.getInt(sliceColumn)]++;
          n++;
          if (encoder.size() >= COPY_CHUNK) {
            encoder.drainTo((b, len) -> in.writeToCopy(b, 0, len), false);
          }
        }
        encoder.drainTo((b, len) -> in.writeToCopy(b, 0, len), true); // header (if no row came) and trailer
        in.endCopy();
        return n;
      } finally {
        if (in.isActive()) {
          in.cancelCopy();
        }
      }
    }
  }

  // ---------------------------------------------------------------- applying

  /** Batch shape: the whole batch in one transaction with one ledger row. */
  private CommitResult applyBatch(Connection c, BatchContext batch, PgSql sql, long attempt, long staged) throws SQLException {
    long start = System.nanoTime();
    checkStaged(c, sql, batch, attempt, null, staged);
    long written = applyStatements(c, sql, attempt, null);
    purgeTombstones(c, sql, batch.batchId());
    insertLedger(c, sql, batch.writer(), batch.batchId(), -1, 1, batch.rowsIn(), written);
    clearStaging(c, batch.writer());
    c.commit();
    LOG.debug("sink={} batch={}: transaction {} ms", name(), batch.batchId(), (System.nanoTime() - start) / 1_000_000);
    return CommitResult.written(written);
  }

  /** Partition shape: each key-hash slice in its own transaction, in parallel, skipping slices already in the ledger. */
  private CommitResult applySlices(Connection c, BatchContext batch, PgSql sql, long attempt, int slices, long[] staged,
      Ledger ledger) throws SQLException {
    long start = System.nanoTime();
    checkStaged(c, sql, batch, attempt, null, staged[0]);
    c.rollback();
    int threads = Math.max(1, Math.min(slices, options.poolSize() - 1));
    ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
      Thread t = new Thread(r, "eventproc-" + name() + "-slice");
      t.setDaemon(true);
      return t;
    });
    List<Future<long[]>> results = new ArrayList<>();
    try {
      for (int s = 0; s < slices; s++) {
        if (ledger.has(s)) {
          continue;
        }
        int slice = s;
        long rowsIn = staged[slice + 1];
        results.add(pool.submit(() -> applySlice(batch, sql, attempt, slice, slices, rowsIn)));
      }
      long written = 0;
      long applied = 0;
      for (Future<long[]> f : results) {
        long[] r = f.get();
        written += r[0];
        applied += r[1];
      }
      clearStaging(c, batch.writer());
      c.commit();
      LOG.debug("sink={} batch={}: {} slices applied on {} threads in {} ms", name(), batch.batchId(), applied, threads,
          (System.nanoTime() - start) / 1_000_000);
      return applied == 0 ? CommitResult.skipped() : CommitResult.written(written);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("sink " + name() + " batch " + batch.batchId() + ": interrupted while applying slices", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
    } finally {
      pool.shutdownNow();
    }
  }

  /** One slice: {written rows, 1 if applied here or 0 if it was in the ledger already}. */
  private long[] applySlice(BatchContext batch, PgSql sql, long attempt, int slice, int slices, long in) {
    try (Connection c = pool().getConnection()) {
      try {
        Ledger ledger = ledger(c, batch.writer(), batch.batchId());
        if (ledger.has(slice)) {
          c.rollback();
          return new long[] {0, 0};
        }
        long written = applyStatements(c, sql, attempt, slice);
        if (slice == 0) {
          purgeTombstones(c, sql, batch.batchId());
        }
        insertLedger(c, sql, batch.writer(), batch.batchId(), slice, slices, in, written);
        c.commit();
        FaultInjection.at(FaultInjection.Point.BETWEEN_COMMITS, name(), batch.batchId());
        return new long[] {written, 1};
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      }
    } catch (SQLException e) {
      throw PgConnections.explain(options, name(), e, "commit slice " + slice + " of batch " + batch.batchId());
    }
  }

  /**
   * Tombstones, then one MERGE (or INSERT for append). A keyed MERGE first runs without sorting the
   * source; if a key repeats in the batch PostgreSQL refuses it (21000: a row affected twice; 23505: a
   * new key inserted twice) and it runs again over one row per key after a rollback to a savepoint.
   * Insert-if-absent with a version sorts always (the oldest must win).
   */
  static long applyStatements(Connection c, PgSql sql, long attempt, Integer slice) throws SQLException {
    if (sql.hasDeletes()) {
      execute(c, sql.upsertTombstones(), attempt, slice);
    }
    if (sql.mode() == WriteMode.APPEND || (sql.mode() == WriteMode.INSERT_IF_ABSENT && sql.ordered())) {
      return execute(c, sql.apply(sql.mode() != WriteMode.APPEND), attempt, slice);
    }
    java.sql.Savepoint savepoint = c.setSavepoint();
    try {
      long n = execute(c, sql.apply(false), attempt, slice);
      c.releaseSavepoint(savepoint);
      return n;
    } catch (SQLException e) {
      if (!"21000".equals(e.getSQLState()) && !"23505".equals(e.getSQLState())) {
        throw e;
      }
      c.rollback(savepoint);
      try (Statement st = c.createStatement()) {
        st.execute("SET LOCAL work_mem = '256MB'"); // the sort of a large batch stays in memory
      }
      return execute(c, sql.apply(true), attempt, slice);
    }
  }

  private static int execute(Connection c, String statement, long attempt, Integer slice) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(statement)) {
      st.setLong(1, attempt);
      if (slice != null) {
        st.setInt(2, slice);
      }
      return st.executeUpdate();
    }
  }

  private static long count(Connection c, String statement, long attempt, Integer slice) throws SQLException {
    try (PreparedStatement st = c.prepareStatement(statement)) {
      st.setLong(1, attempt);
      if (slice != null) {
        st.setInt(2, slice);
      }
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /** Staging must hold exactly what Spark staged (nothing lost in between, nothing left from another attempt). */
  private void checkStaged(Connection c, PgSql sql, BatchContext batch, long attempt, Integer slice, long staged) throws SQLException {
    PgSql whole = new PgSql(tables, spec, sql.columns(), false);
    long inStaging = count(c, whole.countStaged(), attempt, slice);
    if (inStaging != staged) {
      throw new IllegalStateException("sink " + name() + " batch " + batch.batchId() + ": staging holds " + inStaging
          + " rows of this attempt but Spark staged " + staged + ". The batch is not committed; Spark will retry it.");
    }
  }

  private void purgeTombstones(Connection c, PgSql sql, long batchId) throws SQLException {
    if (spec.deleteCondition() == null || batchId == 0 || batchId % PURGE_EVERY_BATCHES != 0) {
      return;
    }
    try (PreparedStatement purge = c.prepareStatement(sql.purgeTombstones())) {
      purge.setDouble(1, options.tombstoneRetention().toSeconds());
      int n = purge.executeUpdate();
      LOG.info("sink={} batch={}: purged {} tombstones older than {}", name(), batchId, n, options.tombstoneRetention());
    }
  }

  private void clearStaging(Connection c, WriterId writer) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("TRUNCATE " + tables.stageRef());
    }
    try (PreparedStatement del = c.prepareStatement("DELETE FROM " + tables.slicesRef() + " WHERE writer = ?")) {
      del.setString(1, writer.sinkName());
      del.executeUpdate();
    }
  }

  private CommitResult commitEmpty(Connection c, BatchContext batch) throws SQLException {
    insertLedger(c, new PgSql(tables, spec, List.of(), false), batch.writer(), batch.batchId(), -1, 1, 0, 0);
    c.commit();
    return CommitResult.written(0);
  }

  // ---------------------------------------------------------------- the writer lock and the ledger

  /**
   * Takes this writer's session advisory lock, waiting while another attempt of the writer (a zombie
   * driver, a concurrent run) holds it. Held from staging to commit, so the writer owns its staging.
   */
  private void lockWriter(Connection c, WriterId writer) throws SQLException {
    long key = writerLockKey(writer);
    long deadline = System.nanoTime() + options.lockTimeout().toNanos();
    long waitMs = 20;
    while (true) {
      try (PreparedStatement lock = c.prepareStatement("SELECT pg_try_advisory_lock(?)")) {
        lock.setLong(1, key);
        try (ResultSet rs = lock.executeQuery()) {
          rs.next();
          if (rs.getBoolean(1)) {
            c.commit();
            return;
          }
        }
      }
      c.rollback();
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("sink " + name() + ": another writer named " + writer.sinkName() + " has held the lock on "
            + tables.describe() + " for over " + options.lockTimeout() + " (a second pipeline with the same sink name?). "
            + "Stop it, or raise " + options.key(PostgresOptions.LOCK_TIMEOUT) + ".");
      }
      try {
        Thread.sleep(waitMs);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("sink " + name() + ": interrupted while waiting for the writer lock", e);
      }
      waitMs = Math.min(1000, waitMs * 2);
    }
  }

  private void unlockWriter(Connection c, WriterId writer) {
    try (PreparedStatement unlock = c.prepareStatement("SELECT pg_advisory_unlock(?)")) {
      unlock.setLong(1, writerLockKey(writer));
      unlock.execute();
      c.commit();
    } catch (SQLException e) {
      // a broken connection: PostgreSQL releases session locks when it goes
      LOG.debug("sink={}: unlock failed ({}); the lock goes with the connection", name(), e.toString());
    }
  }

  private long writerLockKey(WriterId writer) {
    return PgConnections.lockKey("eventproc-writer:" + tables.describe() + ":" + writer.sinkName());
  }

  /** The ledger rows of one batch. */
  record Ledger(Map<Integer, Integer> partitions) {
    boolean has(int partition) {
      return partitions.containsKey(partition);
    }

    /** The slice count the batch was first written with, or the given default when it has no rows yet. */
    int partitionsOr(int defaultCount) {
      return partitions.values().stream().findFirst().orElse(defaultCount);
    }

    boolean complete() {
      return !partitions.isEmpty() && partitions.size() >= partitionsOr(1);
    }
  }

  private Ledger ledger(Connection c, WriterId writer, long batchId) throws SQLException {
    Map<Integer, Integer> rows = new HashMap<>();
    try (PreparedStatement q = c.prepareStatement(new PgSql(tables, spec, List.of(), false).ledgerOfBatch())) {
      q.setString(1, writer.sinkName());
      q.setString(2, writer.queryId());
      q.setLong(3, batchId);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          rows.put(rs.getInt(1), rs.getInt(2));
        }
      }
    }
    return new Ledger(rows);
  }

  private void insertLedger(Connection c, PgSql sql, WriterId writer, long batchId, int partition, int partitions, long in,
      long written) throws SQLException {
    try (PreparedStatement ins = c.prepareStatement(sql.insertLedger())) {
      ins.setString(1, writer.sinkName());
      ins.setString(2, writer.queryId());
      ins.setLong(3, batchId);
      ins.setInt(4, partition);
      ins.setInt(5, partitions);
      ins.setString(6, tables.describe());
      ins.setLong(7, in);
      ins.setLong(8, written);
      ins.setLong(9, Math.max(0, in - written));
      ins.executeUpdate();
    }
  }

  static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; closing it discards the transaction anyway
    }
  }

  // ---------------------------------------------------------------- tables

  /** Creates missing tables (or explains which DDL to run), and checks an existing target once per schema. */
  private void ensureTables(StructType schema) {
    if (schema.equals(readySchema)) {
      return;
    }
    try (Connection c = pool().getConnection()) {
      try {
        try (PreparedStatement lock = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
          lock.setLong(1, PgConnections.lockKey("eventproc-ddl:" + tables.schema));
          lock.execute();
        }
        ensure(c, tables.ledger, tables.ledgerDdl(), "sql/postgres/ledger.sql (psql -v schema=" + tables.schema
            + " -v ledger=" + tables.ledger + " -f sql/postgres/ledger.sql)");
        ensure(c, tables.table, tables.targetDdl(schema, spec, options.fillfactor()), null);
        checkTarget(c, schema);
        if (spec.deleteCondition() != null) {
          ensure(c, tables.tombstones, tables.tombstonesDdl(schema, spec), null);
        }
        ensure(c, PostgresTables.SLICES, tables.slicesDdl(), null);
        ensureStage(c, schema);
        c.commit();
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(c);
        throw e;
      }
    } catch (SQLException e) {
      throw PgConnections.explain(options, name(), e, "prepare its tables");
    }
    readySchema = schema;
  }

  private void ensure(Connection c, String table, String ddl, String ddlFile) throws SQLException {
    if (exists(c, table)) {
      return;
    }
    if (!options.createTables()) {
      throw new IllegalStateException("sink " + name() + ": table " + tables.schema + "." + table + " does not exist and "
          + options.key(PostgresOptions.CREATE_TABLES) + "=false. Create it" + (ddlFile == null ? " with:\n  " + ddl + ";"
          : " with " + ddlFile) + "\nor set " + options.key(PostgresOptions.CREATE_TABLES) + "=true.");
    }
    try (Statement st = c.createStatement()) {
      st.execute(ddl);
    }
    LOG.info("sink={}: created table {}.{}", name(), tables.schema, table);
  }

  /** Staging is the sink's own scratch table: (re)created whenever its columns do not match the batch. */
  private void ensureStage(Connection c, StructType schema) throws SQLException {
    if (exists(c, tables.stage) && columnTypes(c, tables.stage).equals(PostgresTables.stageSignature(schema))) {
      return;
    }
    try (Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS " + tables.stageRef());
      st.execute(tables.stageDdl(schema));
    }
  }

  /** The target must hold every batch column and, in keyed modes, a unique index on exactly the key columns. */
  private void checkTarget(Connection c, StructType schema) throws SQLException {
    List<String> have = new ArrayList<>();
    for (PostgresTables.Column col : columnTypes(c, tables.table)) {
      have.add(col.name());
    }
    List<String> missing = new ArrayList<>();
    for (String f : schema.fieldNames()) {
      if (!have.contains(f)) {
        missing.add(f);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException("sink " + name() + ": table " + tables.describe() + " lacks column(s) " + missing
          + " of the batch (it has " + have + "). Add them (ALTER TABLE ... ADD COLUMN), or write to another table.");
    }
    if (spec.mode() == WriteMode.APPEND) {
      return;
    }
    try (PreparedStatement q = c.prepareStatement("SELECT array_agg(a.attname::text ORDER BY a.attname) FROM pg_index i "
        + "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        + "WHERE i.indrelid = to_regclass(?) AND i.indisunique GROUP BY i.indexrelid")) {
      q.setString(1, tables.targetRef());
      List<String> keys = new ArrayList<>(spec.keyColumns());
      java.util.Collections.sort(keys);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          if (List.of((String[]) rs.getArray(1).getArray()).equals(keys)) {
            return;
          }
        }
      }
    }
    throw new IllegalStateException("sink " + name() + ": table " + tables.describe() + " has no primary key or unique index on "
        + spec.keyColumns() + ", which " + spec.key(SinkSpec.MODE) + "=" + ConfigReader.configName(spec.mode())
        + " needs. Add one: ALTER TABLE " + tables.targetRef() + " ADD PRIMARY KEY (" + String.join(", ",
        spec.keyColumns().stream().map(Identifiers::quotePostgres).toList()) + ");");
  }

  private boolean exists(Connection c, String table) throws SQLException {
    try (PreparedStatement q = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      q.setString(1, tables.ref(table));
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Name and type of each column, in order, types as {@code format_type} writes them. */
  private List<PostgresTables.Column> columnTypes(Connection c, String table) throws SQLException {
    List<PostgresTables.Column> out = new ArrayList<>();
    try (PreparedStatement q = c.prepareStatement("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
        + "WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum")) {
      q.setString(1, tables.ref(table));
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          out.add(new PostgresTables.Column(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return out;
  }

  private HikariDataSource pool() {
    HikariDataSource p = pool;
    if (p == null) {
      synchronized (this) {
        if (pool == null) {
          pool = PgConnections.pool(options, name());
        }
        p = pool;
      }
    }
    return p;
  }

  /** Closes the driver's connection pool. */
  @Override
  public synchronized void close() {
    if (pool != null) {
      pool.close();
      pool = null;
    }
  }
}
