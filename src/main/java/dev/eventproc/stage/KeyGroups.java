package dev.eventproc.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import dev.eventproc.config.Identifiers;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.apache.spark.api.java.function.FlatMapGroupsWithStateFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoder;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.streaming.GroupStateTimeout;
import org.apache.spark.sql.streaming.OutputMode;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What the stateful stages over parsed events share: one group per key on the typed key columns, a
 * quarantined row in a group of its own (its {@link ParsedEvents#PASS_THROUGH_ID} holds a random UUID,
 * and is null on valid rows) that the group function passes through without touching state, and an
 * output of the input's columns plus {@link ParsedEvents#DROPPED} for accounting rows.
 */
final class KeyGroups {
  private KeyGroups() {}

  /**
   * {@code flatMapGroupsWithState} (append, event-time timeout) over watermarked rows that carry
   * {@link ParsedEvents#PASS_THROUGH_ID}; {@code function} gets the input and output schemas.
   */
  static <S> Dataset<Row> flatMap(Dataset<Row> rows, List<String> keyColumns, Encoder<S> stateEncoder,
      BiFunction<StructType, StructType, FlatMapGroupsWithStateFunction<Row, Row, S, Row>> function) {
    // Typed columns, not text: text would merge timestamps that differ in microseconds and depend on
    // the session time zone.
    StructType in = rows.schema();
    List<String> groupColumns = new ArrayList<>();
    groupColumns.add(ParsedEvents.PASS_THROUGH_ID);
    groupColumns.addAll(keyColumns);
    StructType keySchema = new StructType();
    List<Column> keys = new ArrayList<>();
    for (String name : groupColumns) {
      StructField field = in.fields()[in.fieldIndex(name)];
      keySchema = keySchema.add(field);
      keys.add(groupKey(field));
    }
    StructType out = nullable(in).add(ParsedEvents.DROPPED, DataTypes.LongType, true);
    // Grouped on columns, not by a function of the row, which would turn every row into a JVM object once
    // more only to find its key. The key's columns, types and values are state layout 2 (StageStateLayout):
    // a change to them must change the layout (StageStateResumeIT resumes a checkpoint of it).
    return rows.groupBy(keys.toArray(Column[]::new))
        .as(Encoders.row(keySchema), Encoders.row(in))
        .flatMapGroupsWithState(function.apply(in, out), OutputMode.Append(), stateEncoder, Encoders.row(out),
            GroupStateTimeout.EventTimeTimeout());
  }

  /**
   * A key column as the group sees it. -0.0 becomes 0.0 (and every NaN one NaN), since the sinks' MERGE
   * sees them as one key: two groups would emit two rows for it. The value keeps its column's name and
   * type, so the state's key schema is the key columns' own.
   */
  private static Column groupKey(StructField field) {
    Column c = col(Identifiers.quoteSpark(field.name()));
    DataType type = field.dataType();
    if (!(type instanceof DoubleType || type instanceof FloatType)) {
      return c;
    }
    return when(isnan(c), lit(Double.NaN).cast(type)).otherwise(c.plus(lit(0).cast(type))).as(field.name());
  }

  /** A row of the output: the input row's first {@code width} columns and a null drop count. */
  static Row output(Row r, int width) {
    Object[] values = new Object[width + 1];
    for (int i = 0; i < width; i++) {
      values[i] = r.get(i);
    }
    return RowFactory.create(values);
  }

  /** An accounting row: every column null but the drop count. */
  static Row dropCount(long dropped, int width) {
    Object[] values = new Object[width + 1];
    values[width] = dropped;
    return RowFactory.create(values);
  }

  /** Accounting rows hold nulls in every column. */
  private static StructType nullable(StructType schema) {
    StructType out = new StructType();
    for (StructField f : schema.fields()) {
      out = out.add(f.name(), f.dataType(), true, f.metadata());
    }
    return out;
  }
}
