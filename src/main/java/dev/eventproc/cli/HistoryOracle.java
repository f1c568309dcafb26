package dev.eventproc.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.cli.EventGenerator.Message;
import dev.eventproc.sink.HistoryMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code sink.mode=history} keyed on {@code payment_id}, versioned by {@code version}, with the
 * delete condition {@code op = 'd'} must hold after a feed, whatever its order: per key, every distinct
 * version that is not a delete, closed at the next version of the key (update or delete), the newest
 * current unless a delete follows it. Generated events have no tie-break: a (key, version) is one event.
 */
public final class HistoryOracle {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One expected row: the event, its {@code __start_at} (its version) and {@code __end_at} (null when current). */
  public record Row(Event event, long startAt, Long endAt) {
    /** The event's JSON plus {@value HistoryMode#START_AT} and {@value HistoryMode#END_AT}. */
    public String json() {
      try {
        ObjectNode n = (ObjectNode) JSON.readTree(event.json());
        n.put(HistoryMode.START_AT, startAt);
        if (endAt == null) {
          n.putNull(HistoryMode.END_AT);
        } else {
          n.put(HistoryMode.END_AT, endAt);
        }
        return JSON.writeValueAsString(n);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  private HistoryOracle() {}

  /** The expected rows of the valid messages, ordered by key and version. */
  public static List<Row> of(List<Message> messages) {
    Map<String, TreeMap<Long, Event>> byKey = new TreeMap<>();
    for (Message m : messages) {
      if (!m.malformed()) {
        Event e = m.event();
        byKey.computeIfAbsent(e.paymentId(), k -> new TreeMap<>()).merge(e.version(), e, (a, b) -> a.delete() ? a : b);
      }
    }
    List<Row> out = new ArrayList<>();
    for (TreeMap<Long, Event> versions : byKey.values()) {
      for (Map.Entry<Long, Event> v : versions.entrySet()) {
        if (!v.getValue().delete()) {
          out.add(new Row(v.getValue(), v.getKey(), versions.higherKey(v.getKey())));
        }
      }
    }
    out.sort(Comparator.comparing((Row r) -> r.event().paymentId()).thenComparingLong(Row::startAt));
    return out;
  }
}
