package dev.eventproc.reconcile;

import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.delta.DeltaSink;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** A Delta sink's checks: the key checks, and continuity of the transaction ids in the table's log (a gap FAILs unless accepted). */
final class DeltaChecks extends SinkChecks<DeltaSink> {
  DeltaChecks() {
    super(DeltaSink.class);
  }

  @Override
  List<Result> check(SparkSession spark, DeltaSink sink, ReconcileOptions o) {
    String ref = sink.table().sqlRef();
    List<Result> out = new ArrayList<>(SparkChecks.keyChecks(spark, sink, ref, o));
    Map<String, String> v = new HashMap<>();
    v.put("writer", sink.name());
    v.put("accept_gaps", o.acceptGaps());
    String location = spark.sql("DESCRIBE DETAIL " + ref).select("location").first().getString(0);
    v.put("table_path", location.endsWith("/") ? location.substring(0, location.length() - 1) : location);
    out.addAll(SparkChecks.run(spark, sink, "delta_txn_continuity.sql", Map.of(), v));
    return out;
  }
}
