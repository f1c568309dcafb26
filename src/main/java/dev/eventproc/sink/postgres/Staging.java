package dev.eventproc.sink.postgres;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.hash;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.to_json;

import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import java.io.Serializable;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Driver side of staging: empties the writer's staging table, runs the Spark job whose tasks COPY the
 * batch into it ({@link StageTask}), and empties it again in the transaction that commits. Every row
 * carries the attempt (a random token of this try of the batch) and its key-hash slice.
 */
final class Staging implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(Staging.class);

  private final SinkSpec spec;
  private final PostgresOptions options;
  private final PgSql sql;

  Staging(SinkSpec spec, PostgresOptions options, PgSql sql) {
    this.spec = spec;
    this.options = options;
    this.sql = sql;
  }

  /** What Spark staged for one attempt: rows in all, and per slice. */
  record StagedRows(long attempt, long total, long[] perSlice) {
    long ofSlice(int slice) {
      return perSlice[slice];
    }
  }

  /**
   * Empties staging (leftovers of a crashed attempt of this writer) on the writer lock's connection,
   * then COPYs the batch into it from the executors under a new attempt token.
   */
  StagedRows stage(Connection locked, BatchPlan plan) throws SQLException {
    StagingTruncate.run(locked, sql, options, spec.name());
    locked.commit();
    long attempt = new SecureRandom().nextLong() & Long.MAX_VALUE;
    BatchContext batch = plan.batch();
    int slices = plan.slices();
    Dataset<Row> rows = copyRows(batch.rows(), plan.schema(), slices);
    StageTask task = new StageTask(options, plan.sql(), spec.name(), batch.batchId(), attempt, rows.schema(),
        jsonColumns(plan.schema()), keyColumns(plan.schema()), slices);
    long start = System.nanoTime();
    long[] perSlice = new long[slices];
    List<Long> counts = rows.queryExecution().toRdd().toJavaRDD().mapPartitions(task).collect(); // Spark's internal rows: no Row objects
    for (int i = 0; i < counts.size(); i++) {
      perSlice[i % slices] += counts.get(i); // each task reports its rows per slice, in slice order
    }
    long total = 0;
    for (long n : perSlice) {
      total += n;
    }
    LOG.debug("sink={} batch={}: staged {} rows in {} ms", spec.name(), batch.batchId(), total, (System.nanoTime() - start) / 1_000_000);
    FaultInjection.at(FaultInjection.Point.AFTER_STAGING, spec.name(), batch.batchId());
    return new StagedRows(attempt, total, perSlice);
  }

  /** Empties the writer's staging and its task markers, in the caller's (committing) transaction. */
  void clear(Connection c, WriterId writer) throws SQLException {
    StagingTruncate.run(c, sql, options, spec.name());
    try (PreparedStatement del = c.prepareStatement(sql.deleteTaskMarkers())) {
      del.setString(1, writer.sinkName());
      del.executeUpdate();
    }
  }

  /** Target columns (nested ones as JSON text), the delete flag and the key-hash slice. */
  Dataset<Row> copyRows(Dataset<Row> batch, StructType schema, int slices) {
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

  /** Which columns of {@link #copyRows} are key columns of a keyed mode (values the sink must not change). */
  boolean[] keyColumns(StructType schema) {
    boolean[] keys = new boolean[schema.fields().length + 2];
    for (int i = 0; i < schema.fields().length; i++) {
      keys[i] = spec.mode() != WriteMode.APPEND && spec.keyColumns().contains(schema.fields()[i].name());
    }
    return keys;
  }

  /** Which columns of {@link #copyRows} hold JSON text for a jsonb column. */
  static boolean[] jsonColumns(StructType schema) {
    boolean[] json = new boolean[schema.fields().length + 2];
    for (int i = 0; i < schema.fields().length; i++) {
      json[i] = PgTypes.isNested(schema.fields()[i].dataType());
    }
    return json;
  }
}
