package dev.eventproc.bench;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * The raw-COPY baseline's encoder: the bench rows in PostgreSQL's binary COPY format, written the way
 * a user who hand-tunes a loader would (no per-value text formatting or parsing). Written for the
 * bench's own columns only: text, numeric, bigint and timestamptz.
 */
final class BinaryCopyRows {
  private static final byte[] HEADER = {'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0};
  /** Microseconds between the Unix epoch and PostgreSQL's (2000-01-01 UTC). */
  private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
  private static final BigInteger TEN_THOUSAND = BigInteger.valueOf(10_000);

  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 17);
  private final DataOutputStream out = new DataOutputStream(bytes);

  BinaryCopyRows() throws IOException {
    out.write(HEADER);
  }

  /** One bench row: id, account_id, amount, currency, version, op, event_time. */
  void add(Row r) throws IOException {
    out.writeShort(7);
    text(r.getString(0));
    text(r.getString(1));
    numeric(r.getDecimal(2));
    text(r.getString(3));
    out.writeInt(8);
    out.writeLong(r.getLong(4));
    text(r.getString(5));
    Timestamp ts = r.getTimestamp(6);
    out.writeInt(8);
    out.writeLong(ts.getTime() / 1000 * 1_000_000 + ts.getNanos() / 1000 - PG_EPOCH_MICROS);
  }

  /** The bytes written since the last call (the header first), for one {@code writeToCopy}. */
  byte[] drain() {
    byte[] b = bytes.toByteArray();
    bytes.reset();
    return b;
  }

  int size() {
    return bytes.size();
  }

  /** The end-of-data marker. */
  byte[] trailer() throws IOException {
    out.writeShort(-1);
    return drain();
  }

  private void text(String s) throws IOException {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  /** NUMERIC on the wire: base-10000 digits with a weight, a sign and the display scale. */
  private void numeric(BigDecimal v) throws IOException {
    int scale = Math.max(0, v.scale());
    BigInteger unscaled = v.setScale(scale).unscaledValue().abs();
    // Align the fraction to whole base-10000 digits, then cut the integer into base-10000 digits.
    int fracDigits = (scale + 3) / 4;
    BigInteger aligned = unscaled.multiply(BigInteger.TEN.pow(fracDigits * 4 - scale));
    List<Short> digits = new ArrayList<>();
    while (aligned.signum() > 0) {
      BigInteger[] qr = aligned.divideAndRemainder(TEN_THOUSAND);
      digits.add(0, qr[1].shortValue());
      aligned = qr[0];
    }
    int weight = digits.size() - fracDigits - 1;
    while (!digits.isEmpty() && digits.get(digits.size() - 1) == 0) {
      digits.remove(digits.size() - 1);
    }
    while (!digits.isEmpty() && digits.get(0) == 0) {
      digits.remove(0);
      weight--;
    }
    out.writeInt(8 + 2 * digits.size());
    out.writeShort(digits.size());
    out.writeShort(digits.isEmpty() ? 0 : weight);
    out.writeShort(v.signum() < 0 ? 0x4000 : 0);
    out.writeShort(scale);
    for (short d : digits) {
      out.writeShort(d);
    }
  }
}
