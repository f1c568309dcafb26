package dev.eventproc.sink;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * What changed between two schemas (old and new), column by column, compared by name (order does not
 * matter), and whether a running pipeline can take it:
 * <ul>
 *   <li>accepted: a nullable column added (at any position), and a widened type: {@code INT -> BIGINT},
 *       {@code FLOAT -> DOUBLE}, {@code DECIMAL(p,s) -> DECIMAL(p',s)} with {@code p' > p};
 *   <li>refused, each naming the column, why and the fix: a column removed (a rename looks the same),
 *       a column added as NOT NULL, a narrowed or otherwise changed type (nested types included), and any
 *       change of a fixed column (key, version, tie-break, event time, group column).
 * </ul>
 * The checkpoint guard classifies a change of {@code source.schema}; the sinks classify a table's
 * schema against a batch's to evolve the table.
 */
public final class SchemaChange {
  /** A column the new schema adds (nullable). */
  public record Added(StructField field) {}

  /** A column whose type the new schema widens. */
  public record Widened(String name, DataType from, DataType to) {}

  private final List<Added> added;
  private final List<Widened> widened;
  private final List<String> refusals;

  private SchemaChange(List<Added> added, List<Widened> widened, List<String> refusals) {
    this.added = List.copyOf(added);
    this.widened = List.copyOf(widened);
    this.refusals = List.copyOf(refusals);
  }

  /**
   * Compares two schemas.
   *
   * @param fixed columns no change may touch (keys, version, tie-break, event time, group columns), each
   *     with the role it plays, for refusals ("a key column (source.key.columns)")
   */
  public static SchemaChange between(StructType before, StructType after, Map<String, String> fixed) {
    List<Added> added = new ArrayList<>();
    List<Widened> widened = new ArrayList<>();
    List<String> refusals = new ArrayList<>();
    for (StructField old : before.fields()) {
      StructField now = field(after, old.name());
      if (now == null) {
        refusals.add("column '" + old.name() + "' (" + old.dataType().sql() + ") was removed or renamed: rows and state "
            + "already written hold it. Keep it in the schema (a producer may stop sending it: it then reads as null)");
      } else if (!now.dataType().sameType(old.dataType())) {
        String change = "column '" + old.name() + "' changed from " + old.dataType().sql() + " to " + now.dataType().sql();
        if (fixed.containsKey(old.name())) {
          refusals.add(change + ": it is " + fixed.get(old.name()) + ", which the stage's state and the sinks' "
              + "records are built on");
        } else if (isWidening(old.dataType(), now.dataType())) {
          widened.add(new Widened(old.name(), old.dataType(), now.dataType()));
        } else {
          refusals.add(change + ": only INT -> BIGINT, FLOAT -> DOUBLE and DECIMAL(p,s) -> DECIMAL(p',s) with p' > p "
              + "widen a type; anything else may not hold the values already written");
        }
      }
    }
    for (StructField now : after.fields()) {
      if (field(before, now.name()) != null) {
        continue;
      }
      if (!now.nullable()) {
        refusals.add("column '" + now.name() + "' was added as NOT NULL: rows already written have no value for it. "
            + "Add it without NOT NULL");
      } else if (fixed.containsKey(now.name())) {
        refusals.add("column '" + now.name() + "' was added as " + fixed.get(now.name()) + ": rows already written "
            + "have no value for it");
      } else {
        added.add(new Added(now));
      }
    }
    return new SchemaChange(added, widened, refusals);
  }

  /** Whether {@code to} holds every value of {@code from} in a type change this project accepts. */
  public static boolean isWidening(DataType from, DataType to) {
    if (from.sameType(DataTypes.IntegerType)) {
      return to.sameType(DataTypes.LongType);
    }
    if (from.sameType(DataTypes.FloatType)) {
      return to.sameType(DataTypes.DoubleType);
    }
    return from instanceof DecimalType a && to instanceof DecimalType b && a.scale() == b.scale() && b.precision() > a.precision();
  }

  private static StructField field(StructType schema, String name) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  /** Columns added, in the new schema's order. */
  public List<Added> added() {
    return added;
  }

  /** Columns widened, in the old schema's order. */
  public List<Widened> widened() {
    return widened;
  }

  /** Why the change is refused, one sentence per column; empty when it is accepted. */
  public List<String> refusals() {
    return refusals;
  }

  public boolean accepted() {
    return refusals.isEmpty();
  }

  /** Whether nothing is to be done (no column added or widened, nothing refused). */
  public boolean none() {
    return added.isEmpty() && widened.isEmpty() && refusals.isEmpty();
  }
}
