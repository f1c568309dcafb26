package dev.eventproc.sink.kafka;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;

import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.BatchReducer;
import dev.eventproc.sink.JsonTimestamps;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/** A batch's rows as the Kafka sink's records: columns {@value #KEY} and {@value #VALUE}. */
final class KafkaRecords {
  static final String KEY = "key";
  static final String VALUE = "value";

  private KafkaRecords() {}

  /** The batch as Kafka records: key and value as JSON text (value null for a delete in upsert mode). */
  static Dataset<Row> of(SinkSpec spec, Dataset<Row> rows) {
    Dataset<Row> chosen = spec.mode() == WriteMode.UPSERT && !spec.keysUniquePerBatch()
        ? BatchReducer.greatestPerKey(rows, spec.keyColumns(), spec.orderColumns()) : rows;
    Column[] all = Arrays.stream(rows.columns()).map(c -> col(Identifiers.quoteSpark(c))).toArray(Column[]::new);
    Column key;
    List<String> keys = spec.keyColumns();
    if (keys.isEmpty()) {
      key = lit(null).cast("string");
    } else if (keys.size() == 1) {
      key = col(Identifiers.quoteSpark(keys.get(0))).cast("string");
    } else {
      key = to_json(struct(keys.stream().map(k -> col(Identifiers.quoteSpark(k))).toArray(Column[]::new)), JsonTimestamps.OPTIONS);
    }
    Column value = to_json(struct(all), JsonTimestamps.OPTIONS);
    if (spec.deleteCondition() != null) {
      value = when(coalesce(expr(spec.deleteCondition()), lit(false)), lit(null).cast("string")).otherwise(value);
    }
    return chosen.select(key.as(KEY), value.as(VALUE));
  }
}
