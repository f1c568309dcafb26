package dev.eventproc.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.window;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.Durations;
import dev.eventproc.config.Identifiers;
import dev.eventproc.stage.StageOptions.Aggregation;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Watermarked window aggregation: valid events (optionally deduplicated first-seen) grouped by event
 * time window and {@code stage.group.columns}, with the {@code stage.aggregates} expressions. In
 * append mode each window is emitted once, after the watermark passes its end; the output columns are
 * {@code window_start, window_end}, the group columns, then the aggregates. A sink writes it
 * idempotently keyed by {@code window_start} plus the group columns (upsert or insert-if-absent).
 *
 * <p>Quarantined rows cannot pass through an aggregation, so they are added back to the batch with a
 * union ({@link ParsedEvents#withQuarantine}), and Spark reads the source once for each side (so its
 * {@code numInputRows} counts every row twice; a pipeline counts the rows entering each side instead, see
 * {@link PipelineStage}). Spark 3.5 allows several stateful operators in one query
 * only in append mode, and this stage uses append: a first-seen dedupe followed by the aggregation is
 * allowed. Spark's own check still runs when the query starts; its refusal is reported with the
 * stage's keys.
 */
public final class WindowAggregate {
  public static final String WINDOW_START = "window_start";
  public static final String WINDOW_END = "window_end";

  private WindowAggregate() {}

  /**
   * The aggregation of the valid rows of {@code events}, for use in your own query: the columns
   * {@code window_start, window_end}, the group columns, then the aggregates, what a sink keyed by the
   * window and group columns takes. The quarantined rows are {@link ParsedEvents#quarantined()}.
   */
  public static Dataset<Row> apply(ParsedEvents events, Aggregation a, Duration delay) {
    return aggregate(events, events.valid(), a, delay);
  }

  /**
   * The stage of a pipeline: the aggregation over {@code validRows} (the valid rows of {@code events},
   * observed by the caller) with the quarantined rows added back (see {@link PipelineStage}).
   */
  static Dataset<Row> withQuarantine(ParsedEvents events, Dataset<Row> validRows, Aggregation a, Duration delay) {
    return events.withQuarantine(aggregate(events, validRows, a, delay));
  }

  private static Dataset<Row> aggregate(ParsedEvents events, Dataset<Row> validRows, Aggregation a, Duration delay) {
    String eventTime = events.eventTimeColumn();
    Dataset<Row> valid = validRows.withWatermark(eventTime, Durations.toSparkInterval(delay));
    if (a.dedupe() == StageOptions.AggregateDedupe.FIRST_SEEN) {
      valid = valid.dropDuplicatesWithinWatermark(events.keyColumns().toArray(String[]::new));
    }
    List<Column> groups = new ArrayList<>();
    groups.add(window(col(Identifiers.quoteSpark(eventTime)), Durations.toSparkInterval(a.windowDuration()),
        Durations.toSparkInterval(a.windowSlide())).as("w"));
    for (String g : a.groupColumns()) {
      groups.add(col(Identifiers.quoteSpark(g)));
    }
    List<String> texts = splitTopLevel(a.aggregates());
    if (texts.isEmpty()) {
      throw new ConfigException(StageOptions.AGGREGATES + ": no expression given.");
    }
    Dataset<Row> aggregated;
    try {
      List<Column> aggs = new ArrayList<>();
      for (String e : texts) {
        aggs.add(expr(e));
      }
      aggregated = valid.groupBy(groups.toArray(Column[]::new))
          .agg(aggs.get(0), aggs.subList(1, aggs.size()).toArray(Column[]::new));
    } catch (Exception e) { // AnalysisException (ParseException too) is checked, thrown through Scala
      if (!(e instanceof AnalysisException)) {
        throw e;
      }
      throw new ConfigException(StageOptions.AGGREGATES + ": '" + a.aggregates() + "' does not work on source.schema: "
          + e.getMessage());
    }
    List<Column> out = new ArrayList<>();
    out.add(col("w.start").as(WINDOW_START));
    out.add(col("w.end").as(WINDOW_END));
    for (String c : aggregated.columns()) {
      if (!c.equals("w")) {
        out.add(col(Identifiers.quoteSpark(c)));
      }
    }
    return aggregated.select(out.toArray(Column[]::new));
  }

  /** Splits {@code a, f(b, c) AS x, 'p,q'} at commas outside parentheses and quotes (restricted mode checks these parts). */
  public static List<String> splitTopLevel(String text) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    char quote = 0;
    StringBuilder current = new StringBuilder();
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '\'' || c == '"' || c == '`') {
        quote = c;
      } else if (c == '(') {
        depth++;
      } else if (c == ')') {
        depth--;
      } else if (c == ',' && depth == 0) {
        add(out, current);
        current.setLength(0);
        continue;
      }
      current.append(c);
    }
    add(out, current);
    return out;
  }

  private static void add(List<String> out, StringBuilder part) {
    String s = part.toString().trim();
    if (!s.isEmpty()) {
      out.add(s);
    }
  }
}
