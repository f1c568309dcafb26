package dev.eventproc.sink.postgres;

import dev.eventproc.util.Utf8Text;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.util.Arrays;
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
import org.apache.spark.unsafe.Platform;
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
  /** The encoded bytes not yet handed on: a plain array, not a ByteArrayOutputStream, whose every write takes a lock. */
  private byte[] buffer = new byte[1 << 17];
  private int length;
  private final PgNumeric numeric = new PgNumeric();
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
      write(HEADER, HEADER.length);
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
        writeByte(row.getBoolean(i) ? 1 : 0);
      }
      case NUMERIC -> {
        DecimalType t = (DecimalType) types[i];
        if (t.precision() <= PgNumeric.MAX_DIGITS && t.scale() >= 0) { // Spark holds it as an unscaled long
          ensure(4 + PgNumeric.MAX_BYTES);
          int n = numeric.write(row.getDecimal(i, t.precision(), t.scale()).toUnscaledLong(), t.scale(), buffer, length + 4);
          writeInt(n);
          length += n;
        } else {
          byte[] b = ByteConverter.numeric(row.getDecimal(i, t.precision(), t.scale()).toJavaBigDecimal());
          writeInt(b.length);
          write(b, b.length);
        }
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
        write(b, b.length);
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
      int n = v.numBytes();
      writeInt(n + (jsonb ? 1 : 0));
      if (jsonb) {
        writeByte(1); // jsonb binary format version
      }
      ensure(n);
      Platform.copyMemory(v.getBaseObject(), v.getBaseOffset(), buffer, Platform.BYTE_ARRAY_OFFSET + length, n);
      length += n;
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
      writeByte(1); // jsonb binary format version
    }
    write(b, b.length);
  }

  /** Bytes buffered so far. */
  int size() {
    return length;
  }

  /** Hands the buffered bytes to {@code sink} and clears the buffer; with {@code last}, the trailer too. */
  void drainTo(PgCopyChunks sink, boolean last) throws SQLException {
    if (last) {
      if (!started) {
        write(HEADER, HEADER.length);
        started = true;
      }
      writeShort(-1);
    }
    if (length > 0) {
      sink.write(buffer, length); // the sink copies or sends them before it returns
      length = 0;
    }
  }

  /** Where encoded bytes go (a COPY in progress); it must not keep {@code bytes}, which the encoder reuses. */
  @FunctionalInterface
  interface PgCopyChunks {
    void write(byte[] bytes, int length) throws SQLException;
  }

  private void ensure(int more) {
    if (buffer.length - length < more) {
      buffer = Arrays.copyOf(buffer, Math.max(buffer.length * 2, length + more));
    }
  }

  private void write(byte[] b, int n) {
    ensure(n);
    System.arraycopy(b, 0, buffer, length, n);
    length += n;
  }

  private void writeByte(int v) {
    ensure(1);
    buffer[length++] = (byte) v;
  }

  private void writeShort(int v) {
    ensure(2);
    ByteConverter.int2(buffer, length, v);
    length += 2;
  }

  private void writeInt(int v) {
    ensure(4);
    ByteConverter.int4(buffer, length, v);
    length += 4;
  }

  private void writeLong(long v) {
    ensure(8);
    ByteConverter.int8(buffer, length, v);
    length += 8;
  }
}
