package dev.eventproc.sink;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.max_by;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.min_by;
import static org.apache.spark.sql.functions.struct;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Reduces a batch to one row per key before a MERGE or upsert: a MERGE fails when several source
 * rows match one target row, and Postgres refuses to affect a row twice in one statement.
 *
 * <p>The row kept is the greatest (or least) by the order columns, nulls lowest, with the whole row
 * as the last tie-break so the choice is deterministic: a replayed batch keeps the same row.
 * (When the row holds a map, which Spark cannot order, ties on the order columns are broken
 * arbitrarily.)
 */
public final class BatchReducer {
  private BatchReducer() {}

  /** The row with the greatest {@code orderColumns} per key (upsert: the newest version wins). */
  public static Dataset<Row> greatestPerKey(Dataset<Row> rows, List<String> keys, List<String> orderColumns) {
    return reduce(rows, keys, orderColumns, true);
  }

  /** The row with the least {@code orderColumns} per key (insert-if-absent: the first version wins). */
  public static Dataset<Row> leastPerKey(Dataset<Row> rows, List<String> keys, List<String> orderColumns) {
    return reduce(rows, keys, orderColumns, false);
  }

  private static Dataset<Row> reduce(Dataset<Row> rows, List<String> keys, List<String> orderColumns, boolean greatest) {
    String[] names = rows.columns();
    Column[] all = new Column[names.length];
    for (int i = 0; i < names.length; i++) {
      all[i] = col(quote(names[i]));
    }
    Column whole = struct(all);
    Column[] keyCols = keys.stream().map(k -> col(quote(k))).toArray(Column[]::new);
    Column picked;
    if (isOrderable(rows.schema())) {
      List<Column> ord = new ArrayList<>();
      for (int i = 0; i < orderColumns.size(); i++) {
        ord.add(col(quote(orderColumns.get(i))).as("o" + i));
      }
      ord.add(whole.as("row"));
      Column key = struct(ord.toArray(Column[]::new));
      picked = (greatest ? max(key) : min(key)).getField("row");
    } else {
      Column ord = orderColumns.isEmpty()
          ? struct(keyCols)
          : struct(orderColumns.stream().map(c -> col(quote(c))).toArray(Column[]::new));
      picked = greatest ? max_by(whole, ord) : min_by(whole, ord);
    }
    return rows.groupBy(keyCols).agg(picked.as("__eventproc_row")).select("__eventproc_row.*");
  }

  private static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }

  static boolean isOrderable(DataType t) {
    if (t instanceof MapType) {
      return false;
    }
    if (t instanceof ArrayType a) {
      return isOrderable(a.elementType());
    }
    if (t instanceof StructType s) {
      for (StructField f : s.fields()) {
        if (!isOrderable(f.dataType())) {
          return false;
        }
      }
    }
    return true;
  }
}
