package dev.eventproc.reconcile;

import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.iceberg.IcebergSink;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** An Iceberg sink's checks: the key checks, and continuity of the batch ids in the snapshot summaries. */
final class IcebergChecks extends SinkChecks<IcebergSink> {
  IcebergChecks() {
    super(IcebergSink.class);
  }

  @Override
  List<Result> check(SparkSession spark, IcebergSink sink, ReconcileOptions o) {
    sink.useCatalog(spark);
    String ref = sink.table().sqlRef();
    List<Result> out = new ArrayList<>(SparkChecks.keyChecks(spark, sink, ref, o));
    Map<String, String> v = new HashMap<>();
    v.put("writer", sink.name());
    v.put("accept_gaps", o.acceptGaps());
    out.addAll(SparkChecks.run(spark, sink, "iceberg_snapshot_continuity.sql", Map.of("table", ref), v));
    return out;
  }
}
