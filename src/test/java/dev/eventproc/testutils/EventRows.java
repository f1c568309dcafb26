package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.EventGenerator.Event;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Rows with every column of the generated events ({@code EventGenerator.SCHEMA}), rendered alike from the
 * oracle's events and from what a sink holds (a Spark row, a JDBC row, a Kafka JSON value), so a
 * comparison with the oracle sees a wrong value in any column, the event time included (as an instant).
 */
public final class EventRows {
  /** The columns of an event, in the generator's order. */
  public static final List<String> COLUMNS = List.of("payment_id", "account_id", "amount", "currency", "version", "op", "event_time");
  /** The columns of the second schema ({@code EventGenerator.SCHEMA_V2}): the event's plus {@code channel}. */
  public static final List<String> COLUMNS_V2 = List.of("payment_id", "account_id", "amount", "currency", "version", "op",
      "event_time", "channel");

  private EventRows() {}

  /** An oracle event as a row. */
  public static String of(Event e) {
    return render(e.paymentId(), e.accountId(), e.amount(), e.currency(), e.version(), e.delete() ? "d" : "u", e.eventTime());
  }

  /** An oracle event as a row of the second schema: its row, then its {@code channel} (null for a first-schema event). */
  public static String ofV2(Event e) {
    return of(e) + "|" + e.channel();
  }

  /** The current row of a JDBC result whose columns must be exactly the second schema's ({@link #COLUMNS_V2}). */
  public static String ofV2(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= md.getColumnCount(); i++) {
      names.add(md.getColumnName(i));
    }
    assertThat(names).as("columns of the sink's table").containsExactlyInAnyOrderElementsOf(COLUMNS_V2);
    OffsetDateTime time = rs.getObject("event_time", OffsetDateTime.class);
    return render(rs.getString("payment_id"), rs.getString("account_id"), rs.getBigDecimal("amount"), rs.getString("currency"),
        rs.getLong("version"), rs.getString("op"), time == null ? null : time.toInstant()) + "|" + rs.getString("channel");
  }

  /**
   * The rows of a Spark table; its columns must be the event's, besides {@code metadata} columns a sink
   * adds on purpose (e.g. the files sink's {@code batch_id}).
   */
  public static List<String> of(Dataset<Row> table, String... metadata) {
    List<String> expected = new ArrayList<>(COLUMNS);
    expected.addAll(List.of(metadata));
    assertThat(table.columns()).as("columns of the sink's table").containsExactlyInAnyOrderElementsOf(expected);
    List<String> out = new ArrayList<>();
    for (Row r : table.selectExpr(COLUMNS.toArray(String[]::new)).collectAsList()) {
      Object t = r.get(6);
      Instant time = t instanceof Timestamp ts ? ts.toInstant() : (Instant) t;
      out.add(render(r.getString(0), r.getString(1), r.getDecimal(2), r.getString(3), r.getLong(4), r.getString(5), time));
    }
    return out;
  }

  /** The current row of a JDBC result whose columns must be exactly the event's. */
  public static String of(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    List<String> names = new ArrayList<>();
    for (int i = 1; i <= md.getColumnCount(); i++) {
      names.add(md.getColumnName(i));
    }
    assertThat(names).as("columns of the sink's table").containsExactlyInAnyOrderElementsOf(COLUMNS);
    OffsetDateTime time = rs.getObject("event_time", OffsetDateTime.class);
    return render(rs.getString("payment_id"), rs.getString("account_id"), rs.getBigDecimal("amount"), rs.getString("currency"),
        rs.getLong("version"), rs.getString("op"), time == null ? null : time.toInstant());
  }

  /** A JSON object (a Kafka record's value) whose fields must be exactly the event's. */
  public static String of(JsonNode v) {
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = v.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    assertThat(names).as("fields of the record's value %s", v).containsExactlyInAnyOrderElementsOf(COLUMNS);
    return render(v.get("payment_id").asText(), v.get("account_id").asText(), v.get("amount").decimalValue(),
        v.get("currency").asText(), v.get("version").asLong(), v.get("op").asText(),
        OffsetDateTime.parse(v.get("event_time").asText()).toInstant());
  }

  /** Per key, the row an upsert with deletes keeps: the newest version unless it is a delete. */
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

  /** {@code payment_id|account_id|amount|currency|version|op|event_time}; the amount at the schema's scale, exactly. */
  private static String render(String id, String account, BigDecimal amount, String currency, long version, String op, Instant time) {
    String a = amount == null ? "null" : amount.setScale(2, RoundingMode.UNNECESSARY).toPlainString();
    return String.join("|", id, account, a, currency, Long.toString(version), op, String.valueOf(time));
  }
}
