package dev.eventproc.testutils;

import java.util.Collections;
import java.util.List;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What one run of a child pipeline did with one sink's batches, read from the lines the child logs:
 * {@code AbstractBatchSink}'s progress lines ("committed", "already committed by this writer, skipped")
 * and {@code FaultInjection}'s "pausing until killed" at the point after the sink's commit.
 *
 * @param committed batches the sink committed in this run
 * @param skipped batches this run found committed already (replays after a restart)
 * @param heldAfterCommit batches the sink committed and then held at {@code after-commit:pause}, before
 *     Spark's checkpoint commit (the commit window)
 */
public record ChildLog(SortedSet<Long> committed, SortedSet<Long> skipped, SortedSet<Long> heldAfterCommit) {

  /** Reads the lines of sink {@code sink} (its exact name: {@code orders} is not {@code orders_quarantine}). */
  public static ChildLog of(String log, String sink) {
    String name = Pattern.quote(sink);
    return new ChildLog(
        batches(log, "sink=" + name + " target=[^\\n]*? batch=(\\d+): committed,"),
        batches(log, "sink=" + name + " target=[^\\n]*? batch=(\\d+): already committed by this writer, skipped"),
        batches(log, "at after-commit of sink " + name + " batch (\\d+): pausing until killed"));
  }

  /** Whether the run did anything with a batch: committed it, skipped it as a replay, or committed and held it. */
  public boolean hadWork() {
    return !committed.isEmpty() || !skipped.isEmpty() || !heldAfterCommit.isEmpty();
  }

  /** Whether the sink committed at least one batch in this run (held ones included). */
  public boolean committedAny() {
    return !committed.isEmpty() || !heldAfterCommit.isEmpty();
  }

  /** The highest batch id this run touched, or -1. */
  public long lastBatch() {
    long last = -1;
    for (SortedSet<Long> s : List.of(committed, skipped, heldAfterCommit)) {
      if (!s.isEmpty()) {
        last = Math.max(last, s.last());
      }
    }
    return last;
  }

  @Override
  public String toString() {
    return "committed " + committed + ", skipped as replays " + skipped + ", held after commit " + heldAfterCommit;
  }

  private static SortedSet<Long> batches(String log, String regex) {
    SortedSet<Long> out = new TreeSet<>();
    Matcher m = Pattern.compile(regex).matcher(log);
    while (m.find()) {
      out.add(Long.parseLong(m.group(1)));
    }
    return Collections.unmodifiableSortedSet(out);
  }
}
