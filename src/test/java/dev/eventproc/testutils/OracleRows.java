package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.EventGenerator.Event;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.types.StructType;

/**
 * Whole rows of the generated events as a sink must hold them: every column of
 * {@link EventGenerator#SCHEMA}, the event time as an instant, rendered the same way from the oracle
 * and from a sink's own types (PostgreSQL, Spark, JSON text), so that a lost, shifted or extra
 * column fails a comparison, not only a wrong key, version or amount.
 */
public final class OracleRows {
  /** The columns every sink row must have, in the order a row is rendered. */
  public static final List<String> COLUMNS = List.of(StructType.fromDDL(EventGenerator.SCHEMA).fieldNames());

  private OracleRows() {}

  /** {@code payment_id|account_id|amount|currency|version|op|event_time} of an event. */
  public static String of(Event e) {
    return String.join("|", e.paymentId(), e.accountId(), e.amount().setScale(2).toPlainString(), e.currency(),
        Long.toString(e.version()), e.delete() ? "d" : "u", e.eventTime().toString());
  }

  /**
   * A sink's row rendered as {@link #of}: {@code columns} maps each column name to its value as read
   * (a number, a decimal, a timestamp of java.sql, java.time or ISO text); it must hold exactly {@link #COLUMNS}.
   */
  public static String of(Map<String, Object> columns) {
    assertThat(columns.keySet()).as("the sink's columns").containsExactlyInAnyOrderElementsOf(COLUMNS);
    Object amount = columns.get("amount");
    BigDecimal a = amount instanceof BigDecimal d ? d : new BigDecimal(String.valueOf(amount));
    return String.join("|", text(columns.get("payment_id")), text(columns.get("account_id")), a.setScale(2).toPlainString(),
        text(columns.get("currency")), Long.toString(((Number) columns.get("version")).longValue()), text(columns.get("op")),
        String.valueOf(instant(columns.get("event_time"))));
  }

  /** Per key, the row upsert with deletes keeps: the newest version unless it is a delete. */
  public static Map<String, String> latest(EventGenerator.Oracle oracle) {
    Map<String, String> out = new TreeMap<>();
    oracle.latest().forEach((key, e) -> out.put(key, of(e)));
    return out;
  }

  /** Every valid message's row with how many times it was sent: what an append keeps. */
  public static Map<String, Long> appended(List<EventGenerator.Message> messages) {
    Map<String, Long> out = new TreeMap<>();
    for (EventGenerator.Message m : messages) {
      if (!m.malformed()) {
        out.merge(of(m.event()), 1L, Long::sum);
      }
    }
    return out;
  }

  private static String text(Object v) {
    return v == null ? "null" : v.toString();
  }

  private static Instant instant(Object v) {
    if (v == null) {
      return null;
    }
    if (v instanceof Instant i) {
      return i;
    }
    if (v instanceof Timestamp t) {
      return t.toInstant();
    }
    if (v instanceof OffsetDateTime o) {
      return o.toInstant();
    }
    return OffsetDateTime.parse(v.toString()).toInstant();
  }
}
