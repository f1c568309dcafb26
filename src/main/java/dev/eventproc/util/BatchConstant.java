package dev.eventproc.util;

import static org.apache.spark.sql.functions.udf;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.api.java.UDF0;
import org.apache.spark.sql.types.DataTypes;

/**
 * A per-batch constant as a column whose value Spark's generated code looks up instead of spelling out.
 *
 * <p>{@code lit(batchId)} puts the number into the Java source that whole-stage codegen writes
 * ({@code 42L}): every batch then has different source, misses Spark's compiled-code cache and pays a
 * Janino compile of each stage that carries it. The column here is a deterministic zero-argument
 * function (not foldable, so the optimizer keeps it); the generated code calls the function object
 * passed in at run time, so batches share one compiled class. Value, type and nullability are those
 * of {@code lit(batchId)}.
 */
public final class BatchConstant {
  private BatchConstant() {}

  /** A non-null {@code bigint} column holding {@code value} in every row. */
  public static Column of(long value) {
    return udf(new Value(value), DataTypes.LongType).asNonNullable().apply();
  }

  /** The function object the generated code calls through its reference (Spark wraps it as a {@code Function0}). */
  private record Value(long value) implements UDF0<Long> {
    @Override
    public Long call() {
      return value;
    }
  }
}
