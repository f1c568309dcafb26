package dev.eventproc.reconcile;

import dev.eventproc.config.Identifiers;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.files.FilesSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** A files sink's checks: the key checks over its files, and continuity of its batch directories. */
final class FilesChecks extends SinkChecks<FilesSink> {
  FilesChecks() {
    super(FilesSink.class);
  }

  @Override
  List<Result> check(SparkSession spark, FilesSink sink, ReconcileOptions o) {
    String ref = sink.format().name().toLowerCase(Locale.ROOT) + "." + Identifiers.quoteSparkPath(sink.target());
    List<Result> out = new ArrayList<>(SparkChecks.keyChecks(spark, sink, ref, o));
    out.addAll(SparkChecks.run(spark, sink, "files_batch_continuity.sql", Map.of("table", ref), Map.of("allow_gaps", "true")));
    return out;
  }
}
