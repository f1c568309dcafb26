package dev.eventproc.reconcile;

import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.iceberg.IcebergSink;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;

/**
 * An Iceberg sink's checks: the key checks on the branch it writes, and continuity of the batch ids in the
 * snapshot summaries of that branch's ancestry (the table's metadata tables, which name no branch, and the
 * branch's lineage from its head).
 */
final class IcebergChecks extends SinkChecks<IcebergSink> {
  IcebergChecks() {
    super(IcebergSink.class);
  }

  @Override
  List<Result> check(SparkSession spark, IcebergSink sink, ReconcileOptions o) {
    sink.useCatalog(spark);
    List<Result> out = new ArrayList<>(SparkChecks.keyChecks(spark, sink, sink.table().sqlRef(), o));
    Map<String, String> v = new HashMap<>();
    v.put("writer", sink.name());
    v.put("accept_gaps", o.acceptGaps());
    v.put("ancestors", sink.branchLineage(spark).stream().map(String::valueOf).collect(Collectors.joining(",")));
    // the metadata tables belong to the table, not to a branch: its name without the branch
    out.addAll(SparkChecks.run(spark, sink, "iceberg_snapshot_continuity.sql", Map.of("table", sink.table().ddlRef()), v));
    return out;
  }
}
