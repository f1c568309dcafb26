package dev.eventproc.sink.files;

import dev.eventproc.sink.SchemaChange;
import java.util.ArrayList;
import java.util.List;

/**
 * Schema evolution of a files sink: each batch is written with its own schema, so added columns need
 * nothing (files written before read back with nulls in them: {@code spark.read.option("mergeSchema",
 * "true")}). A widened type cannot be taken: files already written keep the old Parquet type, and Spark
 * 3.5 neither merges INT with BIGINT nor reads INT32 as BIGINT.
 */
final class FilesEvolution {
  private FilesEvolution() {}

  /** One refusal per widened column, with the fix. */
  static List<String> refusals(String sinkName, String path, SchemaChange change) {
    List<String> out = new ArrayList<>();
    for (SchemaChange.Widened w : change.widened()) {
      out.add("sink " + sinkName + ": files under " + path + " cannot widen column '" + w.name() + "' from " + w.from().sql()
          + " to " + w.to().sql() + " (files already written hold " + w.from().sql() + ", and Spark 3.5 reads Parquet files "
          + "of both types neither merged nor as " + w.to().sql() + "). Keep the type, or write to a new path from a new "
          + "checkpoint");
    }
    return out;
  }
}
