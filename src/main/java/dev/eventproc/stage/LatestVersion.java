package dev.eventproc.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import dev.eventproc.config.Durations;
import java.io.Serializable;
import java.sql.Date;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapGroupsWithStateFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.GroupState;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Latest-version dedupe: per key, emit a row only when its (version, tie-break) is higher than any
 * seen for that key so far; equal or older rows are dropped, whether they arrive in the same batch
 * or later. State per key holds the highest (version, tie-break) and expires when the watermark
 * passes the key's newest event time, so state is bounded by rate times {@code stage.watermark.delay};
 * rows older than the watermark are dropped as late by Spark.
 *
 * <p>Keys are grouped on their typed columns (-0.0 and 0.0 as one key, as the sinks see them). An exact
 * tie on (version, tie-break) within a batch goes to the greater whole row, as in the sinks' own
 * reduction, so every run emits the same row.
 *
 * <p>Null versions rank below every version (as in the sinks' MERGE); a pipeline quarantines them at
 * parse time unless {@code stage.version.allow.null} is set. A null-version row is emitted
 * only for a key not in state, any versioned row replaces it, and a second null-version row is a
 * duplicate. A delete marker (for example {@code op = 'd'}) is an ordinary version here: it is
 * emitted when newest, the sink's {@code delete.condition} removes the row, and the state keeps its
 * version so an older update arriving later is dropped.
 *
 * <p>Each group call that drops rows also emits one accounting row (all columns null except
 * {@link ParsedEvents#DROPPED}), so the batch itself carries its exact count of dropped duplicates,
 * replay-safe unlike an accumulator. In a pipeline, quarantined rows pass through untouched and hold no
 * state.
 */
public final class LatestVersion {
  private LatestVersion() {}

  /**
   * Whether a column of this type can be a version or tie-break column: integers, timestamps and
   * dates, which order the same in the stage and in every sink (strings do not, see
   * {@code SinkSpec.stringOrder}).
   */
  public static boolean isOrderable(DataType t) {
    return StageOptions.isIntegral(t);
  }

  /**
   * Latest-version dedupe of a plain stream of valid rows, for use in your own query: the output has
   * the input's columns, one row per key and batch at most, only when newer than what came before.
   *
   * @param tiebreakColumn may be null
   */
  public static Dataset<Row> apply(Dataset<Row> events, List<String> keyColumns, String versionColumn, String tiebreakColumn,
      String eventTimeColumn, Duration delay) {
    Dataset<Row> rows = events.withColumn(ParsedEvents.PASS_THROUGH_ID, lit(null).cast("string"));
    return latest(rows, keyColumns, versionColumn, tiebreakColumn, eventTimeColumn, delay)
        .filter(col(ParsedEvents.DROPPED).isNull())
        .drop(ParsedEvents.PASS_THROUGH_ID, ParsedEvents.DROPPED);
  }

  /**
   * {@link #apply(Dataset, List, String, String, String, Duration)} over the valid rows of parsed
   * events, on their key and event-time columns: the schema's columns, what a sink takes. The
   * quarantined rows are {@link ParsedEvents#quarantined()}.
   *
   * @param tiebreakColumn may be null
   */
  public static Dataset<Row> apply(ParsedEvents events, String versionColumn, String tiebreakColumn, Duration delay) {
    return apply(events.valid(), events.keyColumns(), versionColumn, tiebreakColumn, events.eventTimeColumn(), delay);
  }

  /**
   * The stage of a pipeline over all parsed rows, quarantined ones passing through without state: the
   * input's columns plus {@link ParsedEvents#DROPPED} (see {@link PipelineStage}).
   */
  static Dataset<Row> passThrough(ParsedEvents events, String versionColumn, String tiebreakColumn, Duration delay) {
    return latest(Dedupe.withPassThroughIds(events), events.keyColumns(), versionColumn, tiebreakColumn,
        events.eventTimeColumn(), delay);
  }

  private static Dataset<Row> latest(Dataset<Row> input, List<String> keyColumns, String versionColumn, String tiebreakColumn,
      String eventTime, Duration delay) {
    requireOrderable(input.schema(), versionColumn);
    requireOrderable(input.schema(), tiebreakColumn);
    Dataset<Row> rows = input.withWatermark(eventTime, Durations.toSparkInterval(delay));
    return KeyGroups.flatMap(rows, keyColumns, Encoders.bean(KeyState.class),
        (in, out) -> new Keep(in, out, versionColumn, tiebreakColumn, eventTime));
  }

  /**
   * Refuses, before the query starts, a version or tie-break column the stage cannot order: its order
   * is a long (or text), so a fractional number would be truncated (1.2 and 1.5 equal, the newer row
   * dropped as a duplicate).
   */
  private static void requireOrderable(StructType schema, String column) {
    if (column == null) {
      return;
    }
    DataType type = schema.apply(column).dataType();
    if (!isOrderable(type) && !type.equals(DataTypes.StringType)) {
      throw new IllegalArgumentException("LatestVersion: version or tie-break column " + column + " is " + type.simpleString()
          + ", which the stage cannot order (it would compare whole numbers: 1.2 and 1.5 equal, the newer row dropped as a "
          + "duplicate). Order by an integer, timestamp or date column.");
    }
  }

  /** What state holds per key: the highest order seen, and the newest event time (for expiry). */
  public static final class KeyState implements Serializable {
    private static final long serialVersionUID = 1L;
    private Long versionNumber;
    private String versionText;
    private Long tiebreakNumber;
    private String tiebreakText;
    private long eventTimeMillis;

    public Long getVersionNumber() {
      return versionNumber;
    }

    public void setVersionNumber(Long v) {
      versionNumber = v;
    }

    public String getVersionText() {
      return versionText;
    }

    public void setVersionText(String v) {
      versionText = v;
    }

    public Long getTiebreakNumber() {
      return tiebreakNumber;
    }

    public void setTiebreakNumber(Long v) {
      tiebreakNumber = v;
    }

    public String getTiebreakText() {
      return tiebreakText;
    }

    public void setTiebreakText(String v) {
      tiebreakText = v;
    }

    public long getEventTimeMillis() {
      return eventTimeMillis;
    }

    public void setEventTimeMillis(long v) {
      eventTimeMillis = v;
    }
  }

  /** A row's order as comparable values: numbers for integral/time types, text for strings, null for null. */
  record Order(Object version, Object tiebreak) implements Comparable<Order> {
    static Order of(KeyState s) {
      return new Order(s.versionNumber != null ? s.versionNumber : s.versionText,
          s.tiebreakNumber != null ? s.tiebreakNumber : s.tiebreakText);
    }

    void store(KeyState s) {
      s.versionNumber = version instanceof Long l ? l : null;
      s.versionText = version instanceof String t ? t : null;
      s.tiebreakNumber = tiebreak instanceof Long l ? l : null;
      s.tiebreakText = tiebreak instanceof String t ? t : null;
    }

    @Override
    public int compareTo(Order o) {
      int c = compare(version, o.version);
      return c != 0 ? c : compare(tiebreak, o.tiebreak);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compare(Object a, Object b) {
      if (a == null || b == null) {
        return a == null ? (b == null ? 0 : -1) : 1; // nulls first
      }
      return ((Comparable) a).compareTo(b);
    }
  }

  /** The group function: keeps the newest row of a key's rows in this batch if it beats the state. */
  static final class Keep implements FlatMapGroupsWithStateFunction<Row, Row, KeyState, Row> {
    private static final long serialVersionUID = 1L;
    private final int width;
    private final int version;
    private final int tiebreak;
    private final int eventTime;
    private final int passThrough;

    Keep(StructType in, StructType out, String versionColumn, String tiebreakColumn, String eventTimeColumn) {
      this.width = out.size() - 1;
      this.version = in.fieldIndex(versionColumn);
      this.tiebreak = tiebreakColumn == null ? -1 : in.fieldIndex(tiebreakColumn);
      this.eventTime = in.fieldIndex(eventTimeColumn);
      this.passThrough = in.fieldIndex(ParsedEvents.PASS_THROUGH_ID);
    }

    @Override
    public Iterator<Row> call(Row key, Iterator<Row> rows, GroupState<KeyState> state) {
      if (state.hasTimedOut()) {
        state.remove();
        return List.<Row>of().iterator();
      }
      List<Row> out = new ArrayList<>(1);
      Row best = null;
      Order bestOrder = state.exists() ? Order.of(state.get()) : null;
      boolean beatState = false;
      long newest = state.exists() ? state.get().getEventTimeMillis() : Long.MIN_VALUE;
      long dropped = 0;
      while (rows.hasNext()) {
        Row r = rows.next();
        if (!r.isNullAt(passThrough)) {
          out.add(KeyGroups.output(r, width));
          continue;
        }
        newest = Math.max(newest, millis(r.get(eventTime)));
        Order o = new Order(comparable(r.get(version)), tiebreak < 0 ? null : comparable(r.get(tiebreak)));
        int c = bestOrder == null ? 1 : o.compareTo(bestOrder);
        // An exact tie within the batch goes to the greater whole row, as in the sinks' reduction, so
        // every run and every replay emits the same row; a tie with the state is a duplicate.
        if (c > 0 || c == 0 && best != null && WholeRowOrder.compare(r, best) > 0) {
          if (best != null) {
            dropped++;
          }
          best = r;
          bestOrder = o;
          beatState = true;
        } else {
          dropped++;
        }
      }
      if (best != null && beatState) {
        out.add(KeyGroups.output(best, width));
        KeyState s = state.exists() ? state.get() : new KeyState();
        bestOrder.store(s);
        s.setEventTimeMillis(newest);
        state.update(s);
      } else if (state.exists() && newest > state.get().getEventTimeMillis()) {
        KeyState s = state.get();
        s.setEventTimeMillis(newest);
        state.update(s);
      }
      if (state.exists()) {
        // Spark refuses a timeout before the watermark (or at/below 0 for pre-1970 event times).
        state.setTimeoutTimestamp(Math.max(state.get().getEventTimeMillis(), Math.max(state.getCurrentWatermarkMs(), 1)));
      }
      if (dropped > 0) {
        out.add(KeyGroups.dropCount(dropped, width));
      }
      return out.iterator();
    }
  }

  static Object comparable(Object v) {
    if (v == null || v instanceof String) {
      return v;
    }
    if (v instanceof Number n) {
      return n.longValue();
    }
    if (v instanceof Timestamp t) {
      return t.getTime() * 1000 + (t.getNanos() / 1000) % 1000;
    }
    if (v instanceof Instant i) {
      return i.getEpochSecond() * 1_000_000 + i.getNano() / 1000;
    }
    if (v instanceof LocalDateTime t) {
      return comparable(t.toInstant(ZoneOffset.UTC));
    }
    if (v instanceof Date d) {
      return d.toLocalDate().toEpochDay();
    }
    if (v instanceof LocalDate d) {
      return d.toEpochDay();
    }
    throw new IllegalArgumentException("cannot order by a value of " + v.getClass().getName());
  }

  static long millis(Object eventTime) {
    if (eventTime instanceof Timestamp t) {
      return t.getTime();
    }
    if (eventTime instanceof Instant i) {
      return i.toEpochMilli();
    }
    throw new IllegalStateException("event time must be a TIMESTAMP, got " + eventTime);
  }
}
