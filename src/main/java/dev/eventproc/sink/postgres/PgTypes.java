package dev.eventproc.sink.postgres;

import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.MapType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;

/** Spark SQL types as PostgreSQL column types, for tables the sink creates. */
final class PgTypes {
  private PgTypes() {}

  /** The PostgreSQL type of a Spark type; nested types become {@code jsonb} (written as JSON text). */
  static String of(DataType t) {
    if (t instanceof StringType) {
      return "text";
    } else if (t instanceof LongType) {
      return "bigint";
    } else if (t instanceof IntegerType) {
      return "integer";
    } else if (t instanceof ShortType || t instanceof ByteType) {
      return "smallint";
    } else if (t instanceof DoubleType) {
      return "double precision";
    } else if (t instanceof FloatType) {
      return "real";
    } else if (t instanceof DecimalType d) {
      return "numeric(" + d.precision() + "," + d.scale() + ")";
    } else if (t instanceof BooleanType) {
      return "boolean";
    } else if (t instanceof TimestampType) {
      return "timestamptz";
    } else if (t instanceof TimestampNTZType) {
      return "timestamp";
    } else if (t instanceof DateType) {
      return "date";
    } else if (t instanceof BinaryType) {
      return "bytea";
    } else if (isNested(t)) {
      return "jsonb";
    }
    throw new IllegalArgumentException("no PostgreSQL type for Spark type " + t.sql());
  }

  /** The type as PostgreSQL's {@code format_type} spells it (to compare with an existing table). */
  static String formatted(DataType t) {
    String pg = of(t);
    return switch (pg) {
      case "timestamptz" -> "timestamp with time zone";
      case "timestamp" -> "timestamp without time zone";
      default -> pg;
    };
  }

  static boolean isNested(DataType t) {
    return t instanceof StructType || t instanceof ArrayType || t instanceof MapType;
  }
}
