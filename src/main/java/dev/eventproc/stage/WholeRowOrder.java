package dev.eventproc.stage;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.sql.Row;
import scala.collection.Seq;
import scala.jdk.javaapi.CollectionConverters;

/**
 * Orders two rows the way Spark orders structs, which is how the sinks break exact ties when they
 * reduce a batch to one row per key ({@code max(struct(..., row))}): field by field, nulls first,
 * strings by their UTF-8 bytes, binary by unsigned bytes, doubles with -0.0 equal to 0.0 and NaN
 * greatest, arrays element by element then by length. Maps have no order in Spark; they compare equal.
 */
final class WholeRowOrder {
  private WholeRowOrder() {}

  /** Negative, zero or positive as {@code a} sorts before, with or after {@code b}. */
  static int compare(Row a, Row b) {
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      int c = value(a.get(i), b.get(i));
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(a.length(), b.length());
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static int value(Object a, Object b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : -1) : 1;
    }
    if (a instanceof Double || a instanceof Float) {
      return doubles(((Number) a).doubleValue(), ((Number) b).doubleValue());
    }
    if (a instanceof BigDecimal x) {
      return x.compareTo((BigDecimal) b);
    }
    if (a instanceof Number x) {
      return Long.compare(x.longValue(), ((Number) b).longValue());
    }
    if (a instanceof String x) {
      return bytes(x.getBytes(StandardCharsets.UTF_8), ((String) b).getBytes(StandardCharsets.UTF_8));
    }
    if (a instanceof byte[] x) {
      return bytes(x, (byte[]) b);
    }
    if (a instanceof Row x) {
      return compare(x, (Row) b);
    }
    if (a instanceof Seq<?> x) {
      return lists(CollectionConverters.asJava(x), CollectionConverters.asJava((Seq<?>) b));
    }
    if (a instanceof List<?> x) {
      return lists(x, (List<?>) b);
    }
    if (a instanceof Comparable x) { // booleans, timestamps, dates, instants
      return x.compareTo(b);
    }
    return 0; // maps: unordered, as in Spark
  }

  private static int doubles(double x, double y) {
    return x == y ? 0 : Double.compare(x, y); // -0.0 == 0.0; NaN above everything, equal to NaN
  }

  private static int bytes(byte[] x, byte[] y) {
    return Arrays.compareUnsigned(x, y);
  }

  private static int lists(List<?> x, List<?> y) {
    Iterator<?> i = x.iterator();
    Iterator<?> j = y.iterator();
    while (i.hasNext() && j.hasNext()) {
      int c = value(i.next(), j.next());
      if (c != 0) {
        return c;
      }
    }
    return Integer.compare(x.size(), y.size());
  }
}
