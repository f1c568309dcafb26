package dev.eventproc.sink.iceberg;

import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.HistorySinkContract;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.testutils.TestSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** The history contract on Iceberg tables of a local Hadoop catalog. */
class IcebergHistoryTest extends HistorySinkContract {
  private final String namespace = "hist" + Long.toHexString(System.nanoTime());

  private String qualified(String name) {
    return TestSpark.ICEBERG_CATALOG + "." + namespace + "." + name;
  }

  @Override
  protected int batchesPerOrder() {
    return 2;
  }

  @Override
  protected BatchSink newSink(SinkSpec spec, String name) {
    return IcebergSink.forTable(spec, qualified(name), null);
  }

  @Override
  protected Dataset<Row> read(String name) {
    return spark.table(qualified(name));
  }
}
