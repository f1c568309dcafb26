package dev.eventproc.sink.kafka;

import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.WriterId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What a Kafka sink's progress groups say about one writer, for {@code eventproc status}. */
final class ProgressStatus {
  private ProgressStatus() {}

  /**
   * The batch every writer part has committed in full (the least of them), its records where the parts
   * at that batch recorded them; parts ahead of it, in the middle of a batch, or without progress are
   * named in {@link CommitRecord#partly()}.
   *
   * @param progress each writer part's committed progress (absent when its group has none)
   */
  static CommitRecord of(Map<Integer, Progress> progress, KafkaSinkOptions options, WriterId writer) {
    long last = Long.MAX_VALUE;
    for (int p = 0; p < options.partitions(); p++) {
      Progress o = progress.get(p);
      last = Math.min(last, o == null ? -1 : o.offset() - 1);
    }
    long rows = 0;
    List<String> partly = new ArrayList<>();
    for (int p = 0; p < options.partitions(); p++) {
      Progress o = progress.get(p);
      String part = options.partitions() > 1 ? "part " + p + ": " : "";
      if (o == null) {
        partly.add(part + "no progress in group " + KafkaSink.group(writer, p, options.writers()) + " (none committed, or "
            + "expired: the next run recovers it from the topic's records)");
      } else if (o.tag().partial()) {
        partly.add(part + "batch " + o.offset() + " is committed in part: slices below " + o.tag().done() + " of " + o.tag().slices());
      } else if (o.offset() - 1 > last) {
        partly.add(part + "batch " + (o.offset() - 1) + " is committed");
      }
      if (o != null && o.offset() - 1 == last && !o.tag().partial()) {
        rows += o.tag().rows();
      }
    }
    return new CommitRecord(last, null, last < 0 ? -1 : rows, String.join("; ", partly));
  }
}
