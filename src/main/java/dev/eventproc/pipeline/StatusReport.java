package dev.eventproc.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.WriterId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code eventproc status}: for each sink of a pipeline (each fan-out route, and the quarantine), what
 * its own commit records say about this checkpoint's writer next to what the checkpoint says, with a
 * verdict a person can act on. Reads only: no query starts, no producer or lock is taken.
 *
 * @param pipeline the pipeline name
 * @param checkpointLocation where the checkpoint is
 * @param checkpoint what the checkpoint says
 * @param sinks one status per sink
 */
public record StatusReport(String pipeline, String checkpointLocation, CheckpointState checkpoint, List<SinkStatus> sinks) {
  private static final Logger LOG = LoggerFactory.getLogger(StatusReport.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  public StatusReport {
    sinks = List.copyOf(sinks);
  }

  /**
   * Reads the checkpoint and every sink's records. A sink whose records cannot be read is reported as
   * {@link SinkStatus.State#UNREADABLE} with the error's first line, passed through {@code redact}
   * (which masks the config's secrets); the others are still read.
   */
  public static StatusReport check(SparkSession spark, PipelineConfig config, UnaryOperator<String> redact) {
    CheckpointState cp = CheckpointState.read(spark, config.checkpoint());
    List<SinkStatus> out = new ArrayList<>();
    for (BatchSink sink : config.sinksAndQuarantine()) {
      String target = sink instanceof AbstractBatchSink a ? a.target() : sink.toString();
      try {
        CommitRecord r = cp.started() ? sink.lastCommit(spark, new WriterId(sink.name(), cp.queryId())) : CommitRecord.NONE;
        out.add(SinkStatus.of(sink.name(), target, r, cp, sink.recordsEveryBatch()));
      } catch (Exception e) { // Spark's AnalysisException is checked, thrown through Scala
        String why = redact.apply(String.valueOf(e.getMessage()).lines().findFirst().orElse(e.getClass().getSimpleName()));
        LOG.warn("pipeline={} sink={}: cannot read its commit records: {}", config.name(), sink.name(), why);
        out.add(SinkStatus.unreadable(sink.name(), target, cp, why));
      } finally {
        if (sink instanceof AutoCloseable c) {
          try {
            c.close();
          } catch (Exception e) {
            LOG.debug("sink={}: close failed: {}", sink.name(), e.toString());
          }
        }
      }
    }
    return new StatusReport(config.name(), config.checkpoint(), cp, out);
  }

  /** The worst level of any sink. */
  public SinkStatus.Level level() {
    return sinks.stream().map(SinkStatus::level).max(Comparator.comparingInt(SinkStatus.Level::ordinal))
        .orElse(SinkStatus.Level.OK);
  }

  /** The exit status: 0 OK, 3 WARN, 4 FAIL, 1 a sink could not be read (see {@link SinkStatus.Level}). */
  public int exitStatus() {
    return level().exitStatus();
  }

  /** For people: the checkpoint's line, then per sink its records and verdict. */
  public String text() {
    StringBuilder sb = new StringBuilder();
    sb.append("pipeline ").append(pipeline).append(": ").append(level()).append('\n');
    sb.append("  checkpoint ").append(checkpointLocation).append(": ");
    if (checkpoint.started()) {
      sb.append("query id ").append(checkpoint.queryId()).append(", last planned batch ").append(checkpoint.lastPlanned())
          .append(", last committed batch ").append(checkpoint.lastCommitted()).append('\n');
    } else {
      sb.append("no query has started on it\n");
    }
    for (SinkStatus s : sinks) {
      sb.append("  sink ").append(s.sink()).append(" (").append(s.target()).append("): ").append(s.level());
      CommitRecord r = s.record();
      if (r != null && checkpoint.started()) {
        sb.append(", last committed batch ").append(r.lastBatch());
        if (r.committedAt() != null) {
          sb.append(" at ").append(r.committedAt());
        }
        if (r.rows() >= 0) {
          sb.append(", ").append(r.rows()).append(" rows");
        }
      }
      sb.append("\n    ").append(s.verdict()).append('\n');
    }
    return sb.toString();
  }

  /** For machines: one JSON object. */
  public String json() {
    ObjectNode n = JSON.createObjectNode();
    n.put("pipeline", pipeline);
    n.put("level", level().name());
    n.put("exit_status", exitStatus());
    ObjectNode c = n.putObject("checkpoint");
    c.put("location", checkpointLocation);
    c.put("query_id", checkpoint.queryId());
    c.put("last_planned_batch", checkpoint.lastPlanned());
    c.put("last_committed_batch", checkpoint.lastCommitted());
    ArrayNode list = n.putArray("sinks");
    for (SinkStatus s : sinks) {
      ObjectNode o = list.addObject();
      o.put("sink", s.sink());
      o.put("target", s.target());
      o.put("state", s.state().name());
      o.put("level", s.level().name());
      CommitRecord r = s.record();
      if (r != null) {
        o.put("last_committed_batch", r.lastBatch());
        o.put("committed_at", r.committedAt() == null ? null : r.committedAt().toString());
        o.put("rows", r.rows());
        o.put("partly_committed", r.partly());
      }
      o.put("verdict", s.verdict());
    }
    return n.toString();
  }
}
