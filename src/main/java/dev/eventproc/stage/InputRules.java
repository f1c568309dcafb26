package dev.eventproc.stage;

import java.io.Serializable;
import java.util.List;

/**
 * What the parse step checks beyond the source's own keys, so that no row reaches a sink that would
 * refuse it and fail the batch on every restart, and no row is dropped without a trace.
 *
 * <ul>
 *   <li>{@code sinkKeyColumns}: columns of the source schema that a sink keys on or the stage groups by.
 *       A null in one sends the row to quarantine as {@code missing-key} (sinks refuse null keys).
 *   <li>{@code versionColumns}: the version and tie-break columns of the stage and of the sinks. A null
 *       in one sends the row to quarantine as {@code missing-version} (a renamed field would otherwise
 *       rank lowest and be dropped as a duplicate); empty when the pipeline accepts null versions.
 *   <li>A key column (source or sink) holding U+0000 sends the row to quarantine as {@code nul-in-key}:
 *       PostgreSQL stores no U+0000, and a key is never changed, since it could become another key.
 * </ul>
 */
public record InputRules(List<String> sinkKeyColumns, List<String> versionColumns) implements Serializable {
  /** Only the source's own checks. */
  public static final InputRules NONE = new InputRules(List.of(), List.of());

  public InputRules {
    sinkKeyColumns = List.copyOf(sinkKeyColumns);
    versionColumns = List.copyOf(versionColumns);
  }
}
