package dev.eventproc.pipeline;

import dev.eventproc.config.ConfigException;
import dev.eventproc.stage.StageOptions;
import java.util.Map;
import java.util.Objects;

/**
 * The layout of a dedupe stage's state, recorded in the checkpoint's fingerprint. Spark cannot read
 * state across a change of it (and says so only as a state schema error once the query runs), so a
 * checkpoint written under another layout is refused up front, with the way out.
 *
 * <p>Layout 2: both dedupe stages group on the typed key columns and pass quarantined rows through
 * their group function (earlier versions grouped {@code dedupe-latest} on the key's JSON text, and
 * {@code dedupe-first-seen} ran Spark's own dedupe).
 */
final class StageStateLayout {
  /** The fingerprint's key for it: not a config key. */
  static final String KEY = "eventproc.stage.state.layout";
  static final String CURRENT = "2";

  private StageStateLayout() {}

  /** Whether {@code layout} is newer than this version's: written by a later eventproc, then rolled back. */
  private static boolean isLater(String layout) {
    try {
      return Integer.parseInt(layout.trim()) > Integer.parseInt(CURRENT);
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** Records the layout of this config's stage, if it keeps eventproc's dedupe state. */
  static void record(Map<String, String> fingerprint, PipelineConfig config) {
    if (config.stage().type() == StageOptions.Type.DEDUPE_FIRST_SEEN || config.stage().type() == StageOptions.Type.DEDUPE_LATEST) {
      fingerprint.put(KEY, CURRENT);
    }
  }

  /**
   * Refuses a checkpoint whose stage of the same type kept its state in another layout, an earlier
   * eventproc's or a later one's (a changed stage type is reported with the other changed keys).
   */
  static void check(Map<String, String> before, Map<String, String> now, String checkpoint) {
    String wanted = now.get(KEY);
    if (wanted == null || !Objects.equals(before.get(StageOptions.TYPE), now.get(StageOptions.TYPE))
        || wanted.equals(before.get(KEY))) {
      return;
    }
    String stage = now.get(StageOptions.TYPE);
    String written = before.getOrDefault(KEY, "1");
    boolean later = isLater(written);
    throw new ConfigException("checkpoint " + checkpoint + " holds " + StageOptions.TYPE + "=" + stage + " state written by "
        + (later ? "a later" : "an earlier") + " eventproc (state layout " + written + "); this version keeps it in layout "
        + wanted + " (keys grouped on their typed columns, quarantined rows passed through) and cannot read that one. "
        + (later ? "Run the pipeline with the version that wrote it" : "Finish the old pipeline with the earlier version")
        + ", or run with --reset-checkpoint to delete the checkpoint and read the source again from its starting offsets "
        + "(a new writer: an append sink then gets the events again), or start on a new checkpoint.location.");
  }
}
