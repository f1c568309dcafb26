package dev.eventproc.stage;

import dev.eventproc.config.Durations;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapGroupsWithStateFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.streaming.GroupState;
import org.apache.spark.sql.types.StructType;

/**
 * First-seen dedupe of a pipeline, over all parsed rows in one pass: the semantics of
 * {@link Dedupe#firstSeen(Dataset, List, String, Duration)} for valid rows (the first row of a key is
 * emitted and its key kept until the watermark passes its event time plus the delay; later copies are
 * dropped without extending that; rows older than the watermark are dropped as late by Spark), while
 * quarantined rows pass through without reaching state. Spark's own dedupe stores every row it sees,
 * so a quarantined row there held a state entry that, on a stream of only bad rows (no watermark),
 * never expired.
 *
 * <p>Of a key's copies in one batch the earliest event time wins, an exact tie the greater whole row, so
 * every run emits the same row. Dropped copies are counted in accounting rows ({@link ParsedEvents#DROPPED}),
 * as in {@link LatestVersion}. State per key: the time (ms) at which it expires.
 */
final class FirstSeen {
  private FirstSeen() {}

  /** The stage's output: the input's columns plus {@link ParsedEvents#DROPPED}. */
  static Dataset<Row> passThrough(ParsedEvents events, Duration delay) {
    String eventTime = events.eventTimeColumn();
    Dataset<Row> rows = Dedupe.withPassThroughIds(events).withWatermark(eventTime, Durations.toSparkInterval(delay));
    long delayMillis = delay.toMillis();
    return KeyGroups.flatMap(rows, events.keyColumns(), Encoders.LONG(),
        (in, out) -> new KeepFirst(in, out, eventTime, delayMillis));
  }

  /** The group function: emits a key's first row unless state holds the key. */
  static final class KeepFirst implements FlatMapGroupsWithStateFunction<Row, Row, Long, Row> {
    private static final long serialVersionUID = 1L;
    private final int width;
    private final int eventTime;
    private final int passThrough;
    private final long delayMillis;

    KeepFirst(StructType in, StructType out, String eventTimeColumn, long delayMillis) {
      this.width = out.size() - 1;
      this.eventTime = in.fieldIndex(eventTimeColumn);
      this.passThrough = in.fieldIndex(ParsedEvents.PASS_THROUGH_ID);
      this.delayMillis = delayMillis;
    }

    @Override
    public Iterator<Row> call(Row key, Iterator<Row> rows, GroupState<Long> state) {
      if (state.hasTimedOut()) {
        state.remove();
        return List.<Row>of().iterator();
      }
      List<Row> out = new ArrayList<>(1);
      boolean held = state.exists();
      Row first = null;
      long dropped = 0;
      while (rows.hasNext()) {
        Row r = rows.next();
        if (!r.isNullAt(passThrough)) {
          out.add(KeyGroups.output(r, width));
        } else if (held) {
          dropped++;
        } else if (first == null) {
          first = r;
        } else {
          dropped++;
          if (before(r, first)) {
            first = r;
          }
        }
      }
      if (first != null) {
        out.add(KeyGroups.output(first, width));
        state.update(LatestVersion.millis(first.get(eventTime)) + delayMillis);
      }
      if (state.exists()) {
        // Set on every call (Spark clears it otherwise); never before the watermark, nor at or below 0.
        state.setTimeoutTimestamp(Math.max(state.get(), Math.max(state.getCurrentWatermarkMs(), 1)));
      }
      if (dropped > 0) {
        out.add(KeyGroups.dropCount(dropped, width));
      }
      return out.iterator();
    }

    /** Whether {@code a} is seen before {@code b}: an earlier event time, or on a tie the greater row. */
    private boolean before(Row a, Row b) {
      int c = Long.compare((Long) LatestVersion.comparable(a.get(eventTime)), (Long) LatestVersion.comparable(b.get(eventTime)));
      return c != 0 ? c < 0 : WholeRowOrder.compare(a, b) > 0;
    }
  }
}
