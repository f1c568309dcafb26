package dev.eventproc.sink;

import static dev.eventproc.config.Identifiers.quoteSpark;

import dev.eventproc.config.Identifiers;
import java.util.List;
import java.util.stream.Collectors;

/**
 * MERGE statements in Spark SQL, shared by the Delta and Iceberg adapters. Every identifier is a
 * validated plain name, quoted here; no data value is ever part of the text (rows come from a
 * temporary view).
 */
public final class SparkMergeSql {
  /** Name of the boolean column that marks a source row as a delete. */
  public static final String DELETE_FLAG = "__eventproc_delete";

  private SparkMergeSql() {}

  /**
   * Upsert: newer versions update, deletes remove, absent keys are inserted unless the row is a delete.
   *
   * @param columns the target's columns (source view has these, plus {@link #DELETE_FLAG} when deletes)
   * @param withDeletes whether the source view carries {@link #DELETE_FLAG}
   * @param taskPoint a fault point's SQL function for the written values (a test hook, see WriteTaskFaultPoint), or null
   */
  public static String upsert(String target, String sourceView, List<String> columns, SinkSpec spec, boolean withDeletes,
      String taskPoint) {
    String newer = newer(spec.orderColumns(), "s", "t");
    String guard = newer == null ? "" : " AND " + newer;
    String isDelete = "s." + quoteSpark(DELETE_FLAG);
    StringBuilder sb = new StringBuilder();
    sb.append("MERGE INTO ").append(target).append(" AS t USING ").append(quoteSpark(sourceView)).append(" AS s ON ")
        .append(keyMatch(spec.keyColumns()));
    if (withDeletes) {
      sb.append(" WHEN MATCHED AND ").append(isDelete).append(guard).append(" THEN DELETE");
      sb.append(" WHEN MATCHED AND NOT ").append(isDelete).append(guard).append(" THEN UPDATE SET ").append(setAll(columns, taskPoint));
      sb.append(" WHEN NOT MATCHED AND NOT ").append(isDelete).append(" THEN ").append(insertAll(columns, taskPoint));
    } else {
      sb.append(" WHEN MATCHED").append(guard).append(" THEN UPDATE SET ").append(setAll(columns, taskPoint));
      sb.append(" WHEN NOT MATCHED THEN ").append(insertAll(columns, taskPoint));
    }
    return sb.toString();
  }

  /** Insert-if-absent: only keys not in the target are inserted; {@code taskPoint} as in {@link #upsert}. */
  public static String insertIfAbsent(String target, String sourceView, List<String> columns, List<String> keys, String taskPoint) {
    return "MERGE INTO " + target + " AS t USING " + quoteSpark(sourceView) + " AS s ON " + keyMatch(keys)
        + " WHEN NOT MATCHED THEN " + insertAll(columns, taskPoint);
  }

  /**
   * Tombstones: remember the newest deleting version of each key (the table has the key columns,
   * the order columns and {@code deleted_at}).
   */
  public static String upsertTombstones(String target, String sourceView, List<String> columns, SinkSpec spec) {
    String newer = newer(spec.orderColumns(), "s", "t");
    return "MERGE INTO " + target + " AS t USING " + quoteSpark(sourceView) + " AS s ON " + keyMatch(spec.keyColumns())
        + " WHEN MATCHED" + (newer == null ? "" : " AND " + newer) + " THEN UPDATE SET " + setAll(columns, null)
        + " WHEN NOT MATCHED THEN " + insertAll(columns, null);
  }

  /**
   * {@code struct(s.v, s.tb) > struct(t.v, t.tb)}: struct comparison orders nulls first, so a null
   * version ranks below every version and never replaces anything. Null when there is no version.
   */
  public static String newer(List<String> orderColumns, String left, String right) {
    if (orderColumns.isEmpty()) {
      return null;
    }
    return "struct(" + qualified(orderColumns, left) + ") > struct(" + qualified(orderColumns, right) + ")";
  }

  static String keyMatch(List<String> keys) {
    return keys.stream().map(k -> "t." + quoteSpark(k) + " = s." + quoteSpark(k)).collect(Collectors.joining(" AND "));
  }

  private static String setAll(List<String> columns, String taskPoint) {
    return columns.stream().map(c -> "t." + quoteSpark(c) + " = " + written(c, columns, taskPoint))
        .collect(Collectors.joining(", "));
  }

  private static String insertAll(List<String> columns, String taskPoint) {
    return "INSERT (" + columns.stream().map(Identifiers::quoteSpark).collect(Collectors.joining(", "))
        + ") VALUES (" + columns.stream().map(c -> written(c, columns, taskPoint)).collect(Collectors.joining(", ")) + ")";
  }

  /**
   * The source value a MERGE writes to column {@code c}. With a fault point's function (a test hook, see
   * {@code WriteTaskFaultPoint}), the first column's value is {@code IF(fn(), s.c, NULL)}: the function
   * returns true, and Spark evaluates it in the task that writes the row into the commit's data file.
   */
  private static String written(String c, List<String> columns, String taskPoint) {
    String value = "s." + quoteSpark(c);
    return taskPoint == null || !c.equals(columns.get(0)) ? value : "IF(" + taskPoint + "(), " + value + ", NULL)";
  }

  private static String qualified(List<String> columns, String alias) {
    return columns.stream().map(c -> alias + "." + quoteSpark(c)).collect(Collectors.joining(", "));
  }
}
