package dev.eventproc.reconcile;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.kafka.KafkaSink;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;

/** A Kafka sink's checks: the topic read {@code read_committed}, duplicate keys by the sink's mode, and no lost batch in the chain of eventproc.previous headers. */
final class KafkaChecks extends SinkChecks<KafkaSink> {
  KafkaChecks() {
    super(KafkaSink.class);
  }

  @Override
  List<Result> check(SparkSession spark, KafkaSink sink, ReconcileOptions o) {
    String dump = "eventproc_kafka_dump_" + sink.name();
    Map<String, String> v = new HashMap<>();
    v.put("bootstrap", sink.options().bootstrapServers());
    v.put("topic", sink.options().topic());
    v.put("dump", dump);
    SparkChecks.run(spark, sink, "kafka_dump_view.sql", Map.of(), v);
    List<Result> out = new ArrayList<>(SparkChecks.run(spark, sink, "kafka_duplicate_keys.sql",
        Map.of("dump", Identifiers.quoteSpark(dump)), Map.of("mode", ConfigReader.configName(sink.spec().mode()))));
    out.addAll(SparkChecks.run(spark, sink, "kafka_batch_continuity.sql", Map.of("dump", Identifiers.quoteSpark(dump)),
        Map.of("accept_gaps", o.acceptGaps())));
    return out;
  }
}
