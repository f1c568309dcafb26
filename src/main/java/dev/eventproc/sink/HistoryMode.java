package dev.eventproc.sink;

import dev.eventproc.config.ConfigReader;
import java.util.HashSet;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The rules of {@code sink.mode=history} (SCD type 2) that every adapter shares: the names of its two
 * interval columns and what it needs of the config and of the stage before it.
 *
 * <p>The table equals the one built from all events of a key sorted by (version, tie-break), whatever
 * their arrival order: each distinct non-delete (version, tie-break) is one row; a row's
 * {@value #START_AT} is its own version and its {@value #END_AT} the version of the next event of its
 * key, update or delete (null when nothing newer exists). The tie-break of a row's start is the row's
 * own tie-break column; {@value #END_AT} holds the closing version only, so a row superseded at the same
 * version (a higher tie-break) has {@code __start_at = __end_at}. Deletes are remembered in the
 * {@code __tombstones} sibling with their (version, tie-break), all of them and for good: a late version
 * before a delete is closed by it. An exact repeat of a stored (key, version, tie-break) adds nothing
 * (the row stored first stays; within one batch the greatest whole row is taken); a delete and an
 * update at the same (version, tie-break) resolve to the delete.
 */
public final class HistoryMode {
  /** The version that opens a row (its own version). */
  public static final String START_AT = "__start_at";
  /** The version of the next event of the row's key, or null while the row is current. */
  public static final String END_AT = "__end_at";

  private HistoryMode() {}

  /** Config rules between keys of a history sink; each problem as (option, message). */
  static void validate(List<String> keys, String version, String tiebreak, SinkSpec.ProblemSink report) {
    if (version == null) {
      report.add(SinkSpec.VERSION_COLUMN, "is required with mode history: it orders the versions of a key and fills "
          + START_AT + "/" + END_AT + ". Set it to the column that orders changes, e.g. updated_at or lsn.");
    }
    for (String k : keys) {
      reserved(SinkSpec.KEY_COLUMNS, k, report);
    }
    reserved(SinkSpec.VERSION_COLUMN, version, report);
    reserved(SinkSpec.TIEBREAK_COLUMN, tiebreak, report);
  }

  private static void reserved(String option, String column, SinkSpec.ProblemSink report) {
    if (START_AT.equals(column) || END_AT.equals(column)) {
      report.add(option, "'" + column + "' is a column the history mode adds. Rename the column.");
    }
  }

  /**
   * The stage before a history sink must hand over every version: {@code dedupe-latest} drops the older
   * versions that history keeps, and {@code dedupe-first-seen} on the key alone drops every later version.
   * {@code none}, and {@code dedupe-first-seen} on keys that include the version column, are fine.
   */
  public static void checkStage(SinkSpec spec, StageGuarantee stage, BiConsumer<String, String> problem) {
    if (spec.mode() != WriteMode.HISTORY) {
      return;
    }
    String mode = spec.key(SinkSpec.MODE) + "=" + ConfigReader.configName(WriteMode.HISTORY);
    if (!stage.latestKeys().isEmpty()) {
      problem.accept(spec.key(SinkSpec.MODE), "'history' cannot follow stage.type=dedupe-latest: that stage keeps only the "
          + "newest version of each key and drops the older ones, which are the rows " + mode + " keeps. Use stage.type=none, "
          + "or dedupe-first-seen on the key and version (source.key.columns=" + String.join(",", spec.keyColumns()) + ","
          + spec.versionColumn() + ") to drop redelivered copies.");
    }
    List<String> firstSeen = stage.firstSeenKeys();
    if (!firstSeen.isEmpty() && !new HashSet<>(firstSeen).contains(spec.versionColumn())) {
      problem.accept(spec.key(SinkSpec.MODE), "'history' cannot follow stage.type=dedupe-first-seen on "
          + String.join(",", firstSeen) + " alone: it keeps the first version of each key and drops the later ones, which "
          + mode + " keeps. Add the version column to the stage's keys (source.key.columns=" + String.join(",", firstSeen) + ","
          + spec.versionColumn() + "), or use stage.type=none.");
    }
  }
}
