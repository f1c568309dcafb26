package dev.eventproc.sink.delta;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.HistorySinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** The history contract on Delta tables addressed by path. */
class DeltaHistoryTest extends HistorySinkContract {
  private final Path dir = TestSpark.newDir("delta-history");

  @Override
  protected int batchesPerOrder() {
    return 2;
  }

  @Override
  protected BatchSink newSink(SinkSpec spec, String name) {
    return DeltaSink.atPath(spec, dir.resolve(name).toString());
  }

  @Override
  protected Dataset<Row> read(String name) {
    return spark.read().format("delta").load(dir.resolve(name).toString());
  }
}
