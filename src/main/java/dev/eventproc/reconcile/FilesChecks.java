package dev.eventproc.reconcile;

import dev.eventproc.config.Identifiers;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.files.FilesSink;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** A files sink's checks: the key checks over its files, and continuity of its commit markers, rows per batch against them. */
final class FilesChecks extends SinkChecks<FilesSink> {
  /** The files sink's commit markers, as files_batch_continuity.sql reads them. */
  private static final StructType MARKERS = new StructType().add("writer", DataTypes.StringType)
      .add("batch_id", DataTypes.LongType).add("rows_written", DataTypes.LongType).add("writer_dir", DataTypes.StringType);

  FilesChecks() {
    super(FilesSink.class);
  }

  @Override
  List<Result> check(SparkSession spark, FilesSink sink, ReconcileOptions o) {
    String ref = sink.format().name().toLowerCase(Locale.ROOT) + "." + Identifiers.quoteSparkPath(sink.target());
    List<Result> out = new ArrayList<>(SparkChecks.keyChecks(spark, sink, ref, o));
    // Spark lists no file starting with _: the markers are listed here and handed over as a view.
    String markers = "eventproc_files_markers_" + sink.name();
    List<Row> rows = sink.markers(spark).stream()
        .map(m -> RowFactory.create(m.writer(), m.batchId(), m.rowsWritten(), m.writerDir())).toList();
    spark.createDataFrame(rows, MARKERS).createOrReplaceTempView(markers);
    out.addAll(SparkChecks.run(spark, sink, "files_batch_continuity.sql", Map.of("table", ref, "markers", Identifiers.quoteSpark(markers)),
        Map.of("accept_gaps", o.acceptGaps())));
    return out;
  }
}
