package dev.eventproc.cli;

import dev.eventproc.pipeline.Pipeline;
import dev.eventproc.pipeline.ProgressListener.BatchStats;
import dev.eventproc.sink.SinkMetrics;
import java.util.Locale;

/** Human lines for batches and runs. */
final class Progress {
  private Progress() {}

  static String line(String pipeline, BatchStats s) {
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%s batch %d: %,d rows in, %,d to the sink", pipeline,
        s.batchId(), s.inputRows(), s.written()));
    if (s.duplicatesDropped() > 0) {
      sb.append(String.format(Locale.ROOT, ", %,d duplicates dropped", s.duplicatesDropped()));
    }
    if (s.lateDropped() > 0) {
      sb.append(String.format(Locale.ROOT, ", %,d late dropped", s.lateDropped()));
    }
    if (s.quarantined() > 0) {
      sb.append(String.format(Locale.ROOT, ", %,d quarantined", s.quarantined()));
    }
    if (s.replaysSkipped() > 0) {
      sb.append(", replay skipped");
    }
    if (s.kafkaOffsetsBehind() > 0) {
      sb.append(String.format(Locale.ROOT, ", %,d offsets behind", s.kafkaOffsetsBehind()));
    }
    if (s.stateRows() > 0) {
      sb.append(String.format(Locale.ROOT, ", state %,d keys", s.stateRows()));
    }
    if (s.watermark() != null && !s.watermark().startsWith("1970-01-01")) {
      sb.append(", watermark ").append(s.watermark());
    }
    sb.append(String.format(Locale.ROOT, " (%.1f s, commit %.1f s)", s.durationMillis() / 1000.0, s.commitMillis() / 1000.0));
    return sb.toString();
  }

  static String summary(Pipeline p) {
    return "pipeline " + p.config().name() + " stopped. " + sink("sink", p.split().main().name(), p.split().main().metrics())
        + "; " + sink("quarantine", p.split().quarantine().name(), p.split().quarantine().metrics());
  }

  private static String sink(String role, String name, SinkMetrics m) {
    return String.format(Locale.ROOT, "%s %s: %,d batches committed, %,d replays skipped, %,d rows written",
        role, name, m.batchesCommitted(), m.replaysSkipped(), m.rowsWritten());
  }
}
