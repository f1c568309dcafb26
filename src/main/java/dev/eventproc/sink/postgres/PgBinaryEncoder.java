package dev.eventproc.sink.postgres;

import dev.eventproc.util.Utf8Text;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import org.apache.spark.sql.catalyst.InternalRow;
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
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.apache.spark.unsafe.types.UTF8String;
import org.postgresql.util.ByteConverter;

/**
 * Encodes Spark's internal rows in PostgreSQL's binary COPY format: no text parsing on the server (numerics and
 * timestamps are costly to parse), and values are data, never SQL. Each column's bytes must match
 * the staging column's type exactly; {@link PgTypes} maps Spark types to those column types.
 *
 * <p>Columns flagged as JSON (nested Spark types, already turned into JSON text) are written as
 * {@code jsonb} (a version byte, then the text). U+0000 is handled by {@link NulRule}: replaced in
 * text and nested values, refused in key columns.
 */
final class PgBinaryEncoder {
  private static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0};
  /** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in seconds and days since 1970. */
  private static final long PG_EPOCH_SECONDS = 946_684_800L;
  private static final long PG_EPOCH_DAYS = 10_957L;

  private enum Kind { TEXT, JSONB, INT8, INT4, INT2, FLOAT8, FLOAT4, BOOL, NUMERIC, TIMESTAMP, DATE, BYTEA }

  private static final UTF8String JSON_NUL = UTF8String.fromString("\\u0000");

  private final Kind[] kinds;
  private final DataType[] types;
  private final String[] keyNames;
  private final int fields;
  private final int extra;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream(1 << 17);
  private final byte[] scratch = new byte[8];
  private boolean started;

  /**
   * @param schema the rows' schema
   * @param json which columns hold JSON text for a jsonb column
   * @param keys which columns are key columns (never changed; U+0000 in them is refused)
   * @param extraInt8AndInt4 true when every row is followed by an int8 and an int4 given to {@link #append}
   */
  PgBinaryEncoder(StructType schema, boolean[] json, boolean[] keys, boolean extraInt8AndInt4) {
    this(schema, json, keys, schema.fields().length, extraInt8AndInt4);
  }

  /** As above, encoding only the first {@code fields} columns of each row. */
  PgBinaryEncoder(StructType schema, boolean[] json, boolean[] keys, int fields, boolean extraInt8AndInt4) {
    this.fields = fields;
    kinds = new Kind[fields];
    types = new DataType[fields];
    keyNames = new String[fields];
    for (int i = 0; i < fields; i++) {
      types[i] = schema.fields()[i].dataType();
      kinds[i] = json[i] ? Kind.JSONB : kind(types[i]);
      keyNames[i] = keys[i] ? schema.fields()[i].name() : null;
    }
    extra = extraInt8AndInt4 ? 2 : 0;
  }

  private static Kind kind(DataType t) {
    if (t instanceof StringType) {
      return Kind.TEXT;
    } else if (t instanceof LongType) {
      return Kind.INT8;
    } else if (t instanceof IntegerType) {
      return Kind.INT4;
    } else if (t instanceof ShortType || t instanceof ByteType) {
      return Kind.INT2;
    } else if (t instanceof DoubleType) {
      return Kind.FLOAT8;
    } else if (t instanceof FloatType) {
      return Kind.FLOAT4;
    } else if (t instanceof BooleanType) {
      return Kind.BOOL;
    } else if (t instanceof DecimalType) {
      return Kind.NUMERIC;
    } else if (t instanceof TimestampType || t instanceof TimestampNTZType) {
      return Kind.TIMESTAMP;
    } else if (t instanceof DateType) {
      return Kind.DATE;
    } else if (t instanceof BinaryType) {
      return Kind.BYTEA;
    }
    throw new IllegalArgumentException("no binary COPY encoding for Spark type " + t.sql());
  }

  /**
   * Appends one row, plus the two trailing integers when the encoder was built for them. Reads
   * Spark's internal row as it is: text as its UTF-8 bytes, timestamps and dates as the numbers
   * Spark keeps, with no Java objects in between.
   */
  void append(InternalRow row, long int8, int int4) {
    if (!started) {
      out.write(HEADER, 0, HEADER.length);
      started = true;
    }
    writeShort(fields + extra);
    for (int i = 0; i < fields; i++) {
      if (row.isNullAt(i)) {
        writeInt(-1);
      } else {
        value(row, i);
      }
    }
    if (extra > 0) {
      writeInt(8);
      writeLong(int8);
      writeInt(4);
      writeInt(int4);
    }
  }

  private void value(InternalRow row, int i) {
    switch (kinds[i]) {
      case TEXT -> text(row.getUTF8String(i), i, false);
      case JSONB -> text(row.getUTF8String(i), i, true);
      case INT8 -> {
        writeInt(8);
        writeLong(row.getLong(i));
      }
      case INT4 -> {
        writeInt(4);
        writeInt(row.getInt(i));
      }
      case INT2 -> {
        writeInt(2);
        writeShort(types[i] instanceof ByteType ? row.getByte(i) : row.getShort(i));
      }
      case FLOAT8 -> {
        writeInt(8);
        writeLong(Double.doubleToLongBits(row.getDouble(i)));
      }
      case FLOAT4 -> {
        writeInt(4);
        writeInt(Float.floatToIntBits(row.getFloat(i)));
      }
      case BOOL -> {
        writeInt(1);
        out.write(row.getBoolean(i) ? 1 : 0);
      }
      case NUMERIC -> {
        DecimalType t = (DecimalType) types[i];
        byte[] b = ByteConverter.numeric(row.getDecimal(i, t.precision(), t.scale()).toJavaBigDecimal());
        writeInt(b.length);
        out.write(b, 0, b.length);
      }
      case TIMESTAMP -> { // microseconds since 1970 in UTC (a TIMESTAMP_NTZ's wall time taken as UTC)
        writeInt(8);
        writeLong(row.getLong(i) - PG_EPOCH_SECONDS * 1_000_000L);
      }
      case DATE -> {
        writeInt(4);
        writeInt((int) (row.getInt(i) - PG_EPOCH_DAYS));
      }
      case BYTEA -> {
        byte[] b = row.getBinary(i);
        writeInt(b.length);
        out.write(b, 0, b.length);
      }
    }
  }

  /**
   * Text or JSON text, as UTF-8 bytes: plain ASCII as Spark holds it; anything else through a Java
   * String, which makes invalid UTF-8 U+FFFD ({@link Utf8Text}), and U+0000 (the byte 0, or the JSON
   * escape) takes the {@link NulRule} path: replaced, or refused in a key column.
   */
  private void text(UTF8String v, int i, boolean jsonb) {
    if (Utf8Text.plainAscii(v) && !(jsonb && v.contains(JSON_NUL))) {
      writeInt(v.numBytes() + (jsonb ? 1 : 0));
      if (jsonb) {
        out.write(1); // jsonb binary format version
      }
      try {
        v.writeTo(out);
      } catch (IOException e) {
        throw new UncheckedIOException(e); // an in-memory stream does not fail
      }
      return;
    }
    String s = v.toString();
    if (keyNames[i] != null && (jsonb ? NulRule.inJson(s) : NulRule.inText(s))) {
      throw new NulRule.NulInKeyException(keyNames[i]);
    }
    bytes((jsonb ? NulRule.json(s) : NulRule.text(s)).getBytes(StandardCharsets.UTF_8), jsonb);
  }

  private void bytes(byte[] b, boolean jsonb) {
    writeInt(b.length + (jsonb ? 1 : 0));
    if (jsonb) {
      out.write(1); // jsonb binary format version
    }
    out.write(b, 0, b.length);
  }

  /** Bytes buffered so far. */
  int size() {
    return out.size();
  }

  /** Hands the buffered bytes to {@code sink} and clears the buffer; with {@code last}, the trailer too. */
  void drainTo(PgCopyChunks sink, boolean last) throws SQLException {
    if (last) {
      if (!started) {
        out.write(HEADER, 0, HEADER.length);
        started = true;
      }
      writeShort(-1);
    }
    if (out.size() > 0) {
      sink.write(out.toByteArray(), out.size());
      out.reset();
    }
  }

  /** Where encoded bytes go (a COPY in progress). */
  @FunctionalInterface
  interface PgCopyChunks {
    void write(byte[] bytes, int length) throws SQLException;
  }

  private void writeShort(int v) {
    out.write((v >>> 8) & 0xff);
    out.write(v & 0xff);
  }

  private void writeInt(int v) {
    ByteConverter.int4(scratch, 0, v);
    out.write(scratch, 0, 4);
  }

  private void writeLong(long v) {
    ByteConverter.int8(scratch, 0, v);
    out.write(scratch, 0, 8);
  }
}
