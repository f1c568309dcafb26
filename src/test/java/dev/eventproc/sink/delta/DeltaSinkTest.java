package dev.eventproc.sink.delta;

import dev.eventproc.sink.LakehouseSinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SparkTableSink;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** The lakehouse contract on Delta tables addressed by path. */
class DeltaSinkTest extends LakehouseSinkContract {
  private final Path dir = TestSpark.newDir("delta-sink");

  private String path(String name) {
    return dir.resolve(name).toString();
  }

  @Override
  protected SparkTableSink newSink(SinkSpec spec, String name) {
    return DeltaSink.atPath(spec, path(name));
  }

  @Override
  protected Dataset<Row> read(String name) {
    return spark.read().format("delta").load(path(name));
  }

  @Override
  protected long commits(String name) {
    return spark.sql("DESCRIBE HISTORY delta.`" + path(name) + "`").selectExpr("max(version)").first().getLong(0);
  }

  @Override
  protected boolean exists(String name) {
    return Files.exists(dir.resolve(name));
  }
}
