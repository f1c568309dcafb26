package dev.eventproc.sink;

import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.function.BiConsumer;

/**
 * What the streaming stage before a sink promises across batches, for sinks that cannot guard a
 * promise themselves (a Kafka topic cannot refuse an older record). The pipeline hands it to each
 * sink through {@link BatchSink#checkStage} when it validates its config.
 *
 * @param latestKeys the keys on which the stage emits, per key, only versions newer than any it
 *     emitted before ({@code dedupe-latest}, for as long as its state holds the key); empty when the
 *     stage promises no order
 * @param versionColumn the version column of that order, or null
 * @param tiebreakColumn the tie-break column of that order, or null
 * @param firstSeenKeys the keys on which the stage drops every later copy ({@code dedupe-first-seen},
 *     within its watermark); empty for other stages
 */
public record StageGuarantee(List<String> latestKeys, String versionColumn, String tiebreakColumn, List<String> firstSeenKeys) {
  /** A stage (or none, or a route's query) that promises nothing about versions across batches. */
  public static final StageGuarantee NONE = new StageGuarantee(List.of(), null, null, List.of());

  public StageGuarantee {
    latestKeys = List.copyOf(latestKeys);
    firstSeenKeys = List.copyOf(firstSeenKeys);
  }

  /** {@code dedupe-latest} on {@code keys}, ordered by {@code version} (and {@code tiebreak}). */
  public static StageGuarantee latest(List<String> keys, String version, String tiebreak) {
    return new StageGuarantee(keys, version, tiebreak, List.of());
  }

  /** {@code dedupe-first-seen} on {@code keys}. */
  public static StageGuarantee firstSeen(List<String> keys) {
    return new StageGuarantee(List.of(), null, null, keys);
  }

  /**
   * Reports a keyed sink on the stage's keys whose order is not the stage's. When a key's state
   * expires, {@code dedupe-latest} emits an older version that is still on time; only a sink that
   * compares the same version and tie-break ignores it, so an {@code upsert} sink on those keys must
   * carry both.
   */
  public void checkOrder(SinkSpec spec, BiConsumer<String, String> problem) {
    if (latestKeys.isEmpty() || spec.mode() != WriteMode.UPSERT || !new HashSet<>(latestKeys).equals(new HashSet<>(spec.keyColumns()))) {
      return;
    }
    String consequence = ": once a key leaves the stage's state (the watermark passed it), an older version that is "
        + "still on time is emitted again, and only a sink that compares the same version ignores it.";
    if (!Objects.equals(versionColumn, spec.versionColumn())) {
      problem.accept(spec.key(SinkSpec.VERSION_COLUMN), (spec.versionColumn() == null ? "is required" : "must be " + versionColumn)
          + " behind stage.type=dedupe-latest (stage.version.column=" + versionColumn + ")" + consequence);
    }
    if (!Objects.equals(tiebreakColumn, spec.tiebreakColumn())) {
      problem.accept(spec.key(SinkSpec.TIEBREAK_COLUMN), "must be " + (tiebreakColumn == null ? "unset" : tiebreakColumn)
          + ", as stage.tiebreak.column, behind stage.type=dedupe-latest" + consequence);
    }
  }

  /**
   * Whether the stage emits only newer versions per key of a sink keyed on {@code keys} and ordered
   * by {@code version} (and {@code tiebreak}, when the sink has one): same key columns, same order.
   */
  public boolean newerVersionsOnly(List<String> keys, String version, String tiebreak) {
    return !latestKeys.isEmpty() && new HashSet<>(latestKeys).equals(new HashSet<>(keys))
        && Objects.equals(versionColumn, version) && (tiebreak == null || tiebreak.equals(tiebreakColumn));
  }
}
