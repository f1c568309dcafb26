package dev.eventproc.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.delta.DeltaSink;
import dev.eventproc.sink.files.FilesSink;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;

class FanOutTest {
  private final SparkSession spark = TestSpark.session();

  private Dataset<Row> batch(long from, long to) {
    return spark.range(from, to).selectExpr("concat('k', CAST(id AS STRING)) AS id", "id AS version", "CAST(id % 3 AS STRING) AS kind");
  }

  @Test
  void twoDeltaMergesAParquetCopyAndPerBatchMetricsInOneBatchEachExactlyOnce() {
    Path dir = TestSpark.newDir("fanout");
    SinkSpec a = SinkSpec.builder().name("a").mode(WriteMode.UPSERT).keyColumns("id").versionColumn("version").build();
    SinkSpec b = SinkSpec.builder().name("b").mode(WriteMode.INSERT_IF_ABSENT).keyColumns("id").build();
    SinkSpec files = SinkSpec.builder().name("raw").mode(WriteMode.APPEND).build();
    SinkSpec metrics = SinkSpec.builder().name("metrics").mode(WriteMode.APPEND).build();
    FanOut fan = new FanOut("p", List.of(
        new FanOut.Route(DeltaSink.atPath(a, dir.resolve("a").toString()), null),
        new FanOut.Route(DeltaSink.atPath(b, dir.resolve("b").toString()), null),
        new FanOut.Route(FilesSink.create(files, dir.resolve("raw").toString(), FilesSink.Format.PARQUET), null),
        new FanOut.Route(DeltaSink.atPath(metrics, dir.resolve("metrics").toString()),
            "SELECT batch_id, kind, count(*) AS n FROM batch GROUP BY batch_id, kind")));

    assertThat(fan.write(batch(0, 30), 0, "q").status()).isEqualTo(Status.COMMITTED);
    assertThat(fan.write(batch(20, 40), 1, "q").status()).isEqualTo(Status.COMMITTED);
    long deltaVersionA = spark.sql("DESCRIBE HISTORY delta.`" + dir.resolve("a") + "`").selectExpr("max(version)").first().getLong(0);

    assertThat(fan.write(batch(20, 40), 1, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);

    assertThat(spark.read().format("delta").load(dir.resolve("a").toString()).count()).isEqualTo(40);
    assertThat(spark.read().format("delta").load(dir.resolve("b").toString()).count()).isEqualTo(40);
    assertThat(spark.sql("DESCRIBE HISTORY delta.`" + dir.resolve("a") + "`").selectExpr("max(version)").first().getLong(0))
        .isEqualTo(deltaVersionA);
    assertThat(spark.read().parquet(dir.resolve("raw").toString()).count()).isEqualTo(50);
    List<Row> m = spark.read().format("delta").load(dir.resolve("metrics").toString())
        .groupBy("batch_id").sum("n").orderBy("batch_id").collectAsList();
    assertThat(m).extracting(r -> r.getLong(0) + ":" + r.getLong(1)).containsExactly("0:30", "1:20");
    // Delta's transaction id is a session setting: it must not survive the writes.
    assertThat(spark.conf().getOption("spark.databricks.delta.write.txnAppId").isDefined()).isFalse();
  }

  @Test
  void aCountedBatchReachesRoutesWithoutAQueryWithItsCountAndRoutesWithAQueryCountTheirOwn() {
    AbstractBatchSinkTest.InMemorySink plain = new AbstractBatchSinkTest.InMemorySink(
        SinkSpec.builder().name("plain").mode(WriteMode.INSERT_IF_ABSENT).keyColumns("id").build());
    AbstractBatchSinkTest.InMemorySink derived = new AbstractBatchSinkTest.InMemorySink(
        SinkSpec.builder().name("derived").mode(WriteMode.INSERT_IF_ABSENT).keyColumns("kind").build());
    FanOut fan = new FanOut("p", List.of(new FanOut.Route(plain, null),
        new FanOut.Route(derived, "SELECT DISTINCT kind FROM batch")));
    assertThat(fan.keyColumns()).containsExactly("id");

    // The caller's count (7, not what the batch holds, to show it is taken as given) reaches the plain route only.
    fan.writeCounted(batch(0, 30), 0, "q", new BatchCount(7, 0));
    assertThat(plain.metrics().rowsIn()).isEqualTo(7);
    assertThat(derived.metrics().rowsIn()).isEqualTo(3);

    // A count with null keys: every route counts for itself (a route keyed elsewhere must not refuse the batch).
    fan.writeCounted(batch(0, 30), 1, "q", new BatchCount(30, 1));
    assertThat(plain.metrics().rowsIn()).isEqualTo(7 + 30);
  }

  @Test
  void severalSinksFromConfig() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "pay");
    c.put("sinks", "lake,metrics");
    c.put("sink.lake.type", "delta");
    c.put("sink.lake.mode", "append");
    c.put("sink.lake.delta.path", "/tmp/lake");
    c.put("sink.metrics.type", "files");
    c.put("sink.metrics.mode", "append");
    c.put("sink.metrics.files.path", "/tmp/metrics");
    c.put("sink.metrics.query", "SELECT batch_id, count(*) AS n FROM batch GROUP BY batch_id");
    FanOut fan = (FanOut) Sinks.fromConfig(c);
    assertThat(fan.routes()).extracting(r -> r.sink().name()).containsExactly("pay_lake", "pay_metrics");
    assertThat(fan.routes().get(1).query()).startsWith("SELECT batch_id");

    Map<String, String> both = new LinkedHashMap<>(c);
    both.put("sink.type", "delta");
    assertThatThrownBy(() -> Sinks.fromConfig(both)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sinks is set, and so is sink.type.");
    Map<String, String> reserved = new LinkedHashMap<>(c);
    reserved.put("sinks", "lake,delta");
    assertThatThrownBy(() -> Sinks.fromConfig(reserved)).hasMessageContaining("sinks: 'delta' cannot name a sink");
    Map<String, String> badQuery = new LinkedHashMap<>(c);
    badQuery.put("sink.metrics.query", "SELEC nothing");
    assertThatThrownBy(() -> Sinks.fromConfig(badQuery)).hasMessageContaining("sink.metrics.query: 'SELEC nothing' is not Spark SQL");
    Map<String, String> command = new LinkedHashMap<>(c);
    command.put("sink.metrics.query", "DROP TABLE important");
    assertThatThrownBy(() -> Sinks.fromConfig(command)).hasMessageContaining("is a command, not a query");
  }
}
