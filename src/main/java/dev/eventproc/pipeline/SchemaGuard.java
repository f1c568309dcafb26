package dev.eventproc.pipeline;

import dev.eventproc.sink.SchemaChange;
import dev.eventproc.stage.SourceOptions;
import dev.eventproc.stage.StageOptions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.types.StructType;

/**
 * The checkpoint guard's view of a changed {@code source.schema}: a compatible change
 * ({@link SchemaChange}: nullable columns added, types widened) is accepted and the sinks evolve their
 * targets; anything else, and any change of a column the stage's state or the sinks' records are
 * built on, is refused column by column.
 */
final class SchemaGuard {
  /** The outcome: accepted, or refused with the reasons to add to the guard's message. */
  record Review(boolean accepted, String why) {}

  private SchemaGuard() {}

  /**
   * Reviews the stored schema (DDL) against the config's. A stored value that is not DDL (a digest of
   * a secret schema) cannot be compared column by column: any change of it is refused, as before.
   */
  static Review review(String storedDdl, PipelineConfig config) {
    StructType now = config.source().schema();
    StructType before;
    try {
      before = StructType.fromDDL(storedDdl);
    } catch (Exception e) { // Spark's ParseException: checked in Scala's eyes only
      return new Review(false, "");
    }
    SchemaChange change = SchemaChange.between(before, now, fixedColumns(config));
    List<String> refusals = new ArrayList<>(change.refusals());
    if (change.accepted()) {
      refusals.addAll(config.sink().schemaChangeRefusals(change));
    }
    if (refusals.isEmpty()) {
      return new Review(true, "");
    }
    return new Review(false, " (" + String.join("; ", refusals) + ". Set source.schema back, or migrate: "
        + "a new checkpoint.location (or --reset-checkpoint) with new target tables, filled from the old ones)");
  }

  /** The columns no schema change may touch, each with its role. */
  static Map<String, String> fixedColumns(PipelineConfig config) {
    Map<String, String> out = new LinkedHashMap<>();
    SourceOptions source = config.source();
    StageOptions stage = config.stage();
    for (String k : source.keyColumns()) {
      out.put(k, "a key column (" + SourceOptions.KEY_COLUMNS + ")");
    }
    put(out, source.eventTimeColumn(), "the event-time column (" + SourceOptions.EVENT_TIME_COLUMN + ")");
    put(out, stage.versionColumn(), "the version column (" + StageOptions.VERSION_COLUMN + ")");
    put(out, stage.tiebreakColumn(), "the tie-break column (" + StageOptions.TIEBREAK_COLUMN + ")");
    for (String key : config.raw().keys()) {
      if (key.startsWith("sink.") || key.startsWith(PipelineConfig.QUARANTINE)) {
        String role = key.endsWith(".version.column") ? "a sink's version column (" + key + ")"
            : key.endsWith(".tiebreak.column") ? "a sink's tie-break column (" + key + ")"
            : key.endsWith(".key.columns") ? "a sink's key column (" + key + ")" : null;
        if (role != null) {
          for (String c : List.of(config.raw().get(key).split(","))) {
            put(out, c.trim(), role);
          }
        }
      }
    }
    StageOptions.Aggregation agg = stage.aggregation();
    if (agg != null) {
      for (String g : agg.groupColumns()) {
        put(out, g, "a group column (" + StageOptions.GROUP_COLUMNS + ")");
      }
      // An aggregate's state buffer has its input's type (max(INT) keeps an INT): a widened input no longer fits it.
      for (String c : config.source().schema().fieldNames()) {
        if (Pattern.compile("(?<![A-Za-z0-9_])`?" + Pattern.quote(c) + "`?(?![A-Za-z0-9_])").matcher(agg.aggregates()).find()) {
          put(out, c, "an input of " + StageOptions.AGGREGATES + " (the aggregation state holds its type)");
        }
      }
    }
    return out;
  }

  private static void put(Map<String, String> out, String column, String role) {
    if (column != null && !column.isEmpty()) {
      out.putIfAbsent(column, role);
    }
  }
}
