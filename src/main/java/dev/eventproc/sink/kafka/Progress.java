package dev.eventproc.sink.kafka;

import java.io.Serializable;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;

/**
 * One writer partition's committed progress: the offset of its progress group and the tag recorded
 * with it. Offset {@code n} without a {@code done} slice means batches up to {@code n - 1} are
 * committed; with one, batch {@code n} is committed in part (its slices below {@code done}).
 */
record Progress(long offset, ProgressTag tag) implements Serializable {
  /** The progress of a group's offset, or null when the group has none. */
  static Progress of(OffsetAndMetadata o) {
    return o == null ? null : new Progress(o.offset(), ProgressTag.parse(o.metadata()));
  }

  /** Whether the batch is committed in full. */
  boolean includes(long batchId) {
    return offset - 1 >= batchId;
  }

  /** Whether the batch is committed in part: some of its slices, not all. */
  boolean partOf(long batchId) {
    return offset == batchId && tag.partial();
  }

  /** The first slice of the batch still to write: 0 unless the batch is committed in part. */
  int resumeSlice(long batchId) {
    return partOf(batchId) ? tag.done() : 0;
  }
}
