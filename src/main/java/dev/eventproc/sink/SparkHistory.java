package dev.eventproc.sink;

import static dev.eventproc.config.Identifiers.quoteSpark;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lead;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.struct;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code mode=history} on a lakehouse table (see {@link HistoryMode}), for {@link SparkTableSink}: the
 * batch's deletes go to the tombstones table in a commit that records the batch; then the intervals of
 * the keys the batch touches are recomputed from their stored rows, their stored deletes and the batch,
 * and one MERGE (recording the batch) on (key, {@code __start_at}, tie-break) inserts the new rows,
 * updates the {@code __end_at} that changed and removes a row that a delete at its very version replaced.
 * Cost per batch: a read of the target and the tombstones joined with the batch's keys, and a MERGE over
 * the rows of those keys; other keys are neither rewritten nor compared.
 */
final class SparkHistory implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final String SOURCE = "__eventproc_source";
  private static final String RANK = "__eventproc_rank";

  private final SparkTableSink sink;
  private final SinkSpec spec;
  private final SparkTable table;
  private final SparkTable tombstones;

  SparkHistory(SparkTableSink sink, SinkSpec spec, SparkTable table, SparkTable tombstones) {
    this.sink = sink;
    this.spec = spec;
    this.table = table;
    this.tombstones = tombstones;
  }

  CommitResult commit(BatchContext batch) {
    SparkSession session = batch.session();
    List<String> columns = List.of(batch.rows().columns());
    Column isDelete = spec.deleteCondition() == null ? lit(false) : coalesce(expr(spec.deleteCondition()), lit(false));
    Dataset<Row> incoming = batch.rows().withColumn(SparkMergeSql.DELETE_FLAG, isDelete).withColumn(SOURCE, lit(1))
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      if (tombstones != null) {
        recordDeletes(session, batch, incoming);
      }
      // Computed once: the MERGE reads its source twice, and the source reads the target it changes.
      Dataset<Row> source = intervals(session, incoming, columns).persist(StorageLevel.MEMORY_AND_DISK());
      try {
        source.count();
        sink.ensureTable(session, table, source.drop(SparkMergeSql.DELETE_FLAG).schema());
        String statement = merge(sink.view(source, "history"), columns);
        Row result = table.withCommitRecord(session, batch.writer(), batch.batchId(), () -> SparkTableSink.sql(session, statement));
        if (table.mergeSkipped(result)) {
          return CommitResult.skipped();
        }
        long changed = result == null ? -1 : table.changedRows(result);
        return CommitResult.written(changed >= 0 ? changed : batch.rowsIn());
      } finally {
        source.unpersist(false);
      }
    } finally {
      incoming.unpersist(false);
    }
  }

  /** Every delete of the batch, by key and (version, tie-break), kept once and for good. */
  private void recordDeletes(SparkSession session, BatchContext batch, Dataset<Row> incoming) {
    Dataset<Row> deletes = incoming.filter(col(SparkMergeSql.DELETE_FLAG)).select(cols(keyAndOrder())).distinct()
        .withColumn(SparkTableSink.DELETED_AT, current_timestamp());
    if (deletes.isEmpty() || tombstones.committedBatch(session, batch.writer()) >= batch.batchId()) {
      return;
    }
    sink.ensureTable(session, tombstones, deletes.schema());
    String statement = "MERGE INTO " + tombstones.sqlRef() + " AS t USING " + quoteSpark(sink.view(deletes, "tombstones"))
        + " AS s ON " + same(keyAndOrder()) + " WHEN NOT MATCHED THEN INSERT *";
    tombstones.withCommitRecord(session, batch.writer(), batch.batchId(), () -> SparkTableSink.sql(session, statement));
    FaultInjection.at(FaultInjection.Point.BETWEEN_COMMITS, sink.name(), batch.batchId());
  }

  /**
   * One row per (key, version, tie-break) of the affected keys (a delete over an update, a stored row
   * over the batch's, then the greatest whole row), each with the next one's version as
   * {@code __end_at}; deletes stay in, flagged, so the MERGE can remove a row one replaced.
   */
  private Dataset<Row> intervals(SparkSession session, Dataset<Row> incoming, List<String> columns) {
    Dataset<Row> keys = incoming.select(cols(spec.keyColumns())).distinct();
    Dataset<Row> events = incoming;
    if (table.exists(session)) {
      Dataset<Row> target = table.read(session);
      List<String> have = List.of(target.columns());
      if (!have.contains(HistoryMode.START_AT) || !have.contains(HistoryMode.END_AT)) {
        throw new IllegalStateException("sink " + spec.name() + ": table " + table.describe() + " lacks the columns "
            + HistoryMode.START_AT + " and " + HistoryMode.END_AT + " that " + spec.key(SinkSpec.MODE) + "=history keeps (it has "
            + have + "). Write the history to a new table: the sink creates it.");
      }
      Dataset<Row> stored = ofKeys(target, keys).select(cols(columns)).withColumn(SparkMergeSql.DELETE_FLAG, lit(false)).withColumn(SOURCE, lit(0));
      events = events.unionByName(stored);
    }
    if (tombstones != null && tombstones.exists(session)) {
      Dataset<Row> deleted = ofKeys(tombstones.read(session), keys).select(cols(keyAndOrder())).withColumn(SparkMergeSql.DELETE_FLAG, lit(true)).withColumn(SOURCE, lit(0));
      events = events.unionByName(deleted, true);
    }
    Column[] keyCols = cols(spec.keyColumns());
    List<Column> preference = new ArrayList<>(List.of(col(SparkMergeSql.DELETE_FLAG).desc(), col(SOURCE).asc()));
    if (BatchReducer.isOrderable(incoming.schema())) {
      preference.add(struct(cols(columns)).desc());
    }
    WindowSpec sameEvent = Window.partitionBy(cols(keyAndOrder())).orderBy(preference.toArray(Column[]::new));
    Column[] order = spec.orderColumns().stream().map(c -> col(quoteSpark(c)).asc_nulls_first()).toArray(Column[]::new);
    WindowSpec next = Window.partitionBy(keyCols).orderBy(order);
    return events.withColumn(RANK, row_number().over(sameEvent)).filter(col(RANK).equalTo(1))
        .withColumn(HistoryMode.START_AT, col(quoteSpark(spec.versionColumn())))
        .withColumn(HistoryMode.END_AT, lead(col(quoteSpark(spec.versionColumn())), 1).over(next))
        .select(selectList(columns));
  }

  /** The rows whose key is one of {@code keys}. */
  private Dataset<Row> ofKeys(Dataset<Row> rows, Dataset<Row> keys) {
    Column on = lit(true);
    for (String k : spec.keyColumns()) {
      on = on.and(rows.col(quoteSpark(k)).equalTo(keys.col(quoteSpark(k))));
    }
    return rows.join(keys, on, "left_semi");
  }

  private Column[] selectList(List<String> columns) {
    List<Column> out = new ArrayList<>(List.of(cols(columns)));
    out.add(col(HistoryMode.START_AT));
    out.add(col(HistoryMode.END_AT));
    out.add(col(SparkMergeSql.DELETE_FLAG));
    return out.toArray(Column[]::new);
  }

  private String merge(String view, List<String> columns) {
    List<String> match = new ArrayList<>(spec.keyColumns());
    match.add(HistoryMode.START_AT);
    if (spec.tiebreakColumn() != null) {
      match.add(spec.tiebreakColumn());
    }
    List<String> target = new ArrayList<>(columns);
    target.addAll(List.of(HistoryMode.START_AT, HistoryMode.END_AT));
    String end = quoteSpark(HistoryMode.END_AT);
    String deleted = "s." + quoteSpark(SparkMergeSql.DELETE_FLAG);
    return "MERGE INTO " + table.sqlRef() + " AS t USING " + quoteSpark(view) + " AS s ON " + same(match)
        + " WHEN MATCHED AND " + deleted + " THEN DELETE"
        + " WHEN MATCHED AND NOT (t." + end + " <=> s." + end + ") THEN UPDATE SET t." + end + " = s." + end
        + " WHEN NOT MATCHED AND NOT " + deleted + " THEN INSERT (" + target.stream().map(c -> quoteSpark(c))
        .collect(Collectors.joining(", ")) + ") VALUES (" + target.stream().map(c -> "s." + quoteSpark(c))
        .collect(Collectors.joining(", ")) + ")";
  }

  /** Key columns equal, the other columns null-safe equal. */
  private String same(List<String> columns) {
    return columns.stream().map(c -> "t." + quoteSpark(c) + (spec.keyColumns().contains(c) ? " = " : " <=> ") + "s." + quoteSpark(c))
        .collect(Collectors.joining(" AND "));
  }

  private List<String> keyAndOrder() {
    List<String> out = new ArrayList<>(spec.keyColumns());
    out.addAll(spec.orderColumns());
    return out;
  }

  private static Column[] cols(List<String> names) {
    return names.stream().map(c -> col(quoteSpark(c))).toArray(Column[]::new);
  }
}
