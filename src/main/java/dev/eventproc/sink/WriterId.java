package dev.eventproc.sink;

import java.io.Serializable;
import java.util.Objects;

/**
 * Who writes: the configured sink name plus Spark's query id. The query id is stable across
 * restarts on one checkpoint and changes when the checkpoint is reset, so a reset never mistakes
 * new batch 0 for an old, already committed batch 0.
 */
public record WriterId(String sinkName, String queryId) implements Serializable {
  public WriterId {
    Objects.requireNonNull(sinkName, "sinkName");
    Objects.requireNonNull(queryId, "queryId");
  }

  /** One string naming the writer, used as Delta's txnAppId, Iceberg's summary value and ledger key. */
  public String appId() {
    return "eventproc:" + sinkName + ":" + queryId;
  }

  @Override
  public String toString() {
    return appId();
  }
}
