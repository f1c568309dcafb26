package dev.eventproc.pipeline;

import dev.eventproc.sink.CommitRecord;

/**
 * One sink's commit records next to the checkpoint, and what that means for the next run.
 *
 * @param sink the sink name
 * @param target what it writes to
 * @param record what the sink's own commit records say about this checkpoint's writer (null when unreadable)
 * @param checkpoint what the checkpoint says
 * @param state the comparison's outcome
 * @param verdict what it means and what to do, for people
 */
public record SinkStatus(String sink, String target, CommitRecord record, CheckpointState checkpoint, State state, String verdict) {

  /** How much attention a state needs; the exit status of {@code eventproc status} is that of the worst sink. */
  public enum Level {
    OK(0), WARN(3), FAIL(4), UNKNOWN(1);

    private final int exitStatus;

    Level(int exitStatus) {
      this.exitStatus = exitStatus;
    }

    public int exitStatus() {
      return exitStatus;
    }
  }

  /** The ways a sink's last batch can relate to the checkpoint's. */
  public enum State {
    /** The query never started on this checkpoint. */
    NOT_STARTED(Level.OK),
    /** The sink's last batch is the checkpoint's last committed batch. */
    IN_STEP(Level.OK),
    /** The checkpoint has later batches that left no record in a sink that records only batches with rows. */
    BEHIND_EMPTY(Level.OK),
    /** The sink committed the batch the checkpoint planned and has not recorded as done: the restart skips it. */
    AHEAD_BY_REPLAY(Level.WARN),
    /** The checkpoint has batches done that a sink recording every batch never committed. */
    BEHIND_LOST(Level.FAIL),
    /** The sink holds batches the checkpoint never planned: the checkpoint is older than the sink. */
    AHEAD_OF_CHECKPOINT(Level.FAIL),
    /** The sink's records could not be read. */
    UNREADABLE(Level.UNKNOWN);

    private final Level level;

    State(Level level) {
      this.level = level;
    }

    public Level level() {
      return level;
    }
  }

  public Level level() {
    return state.level();
  }

  /** Compares a sink's records with the checkpoint. */
  static SinkStatus of(String sink, String target, CommitRecord r, CheckpointState cp, boolean recordsEveryBatch) {
    String partly = r.partly().isEmpty() ? "" : " In part: " + r.partly() + " (the next run finishes it).";
    long s = r.lastBatch();
    long c = cp.lastCommitted();
    if (!cp.started()) {
      return new SinkStatus(sink, target, r, cp, State.NOT_STARTED, "the query has not started on this checkpoint yet: "
          + "nothing to compare.");
    }
    if (s == c) {
      String planned = cp.lastPlanned() > c ? " Batch " + cp.lastPlanned() + " is planned and not committed anywhere yet: "
          + "the next run (or the running query) writes it." : "";
      return new SinkStatus(sink, target, r, cp, State.IN_STEP, "in step: " + (s < 0 ? "no batch committed yet"
          : "batch " + s + " is the last committed in the sink and in the checkpoint") + "." + planned + partly);
    }
    if (s == c + 1 && s <= cp.lastPlanned()) {
      return new SinkStatus(sink, target, r, cp, State.AHEAD_BY_REPLAY, "batch " + s + " is committed in the sink and not in the "
          + "checkpoint: the restart will skip it (a replay), nothing is lost or doubled. Restart the pipeline; if it is "
          + "running, this is the batch in flight." + partly);
    }
    if (s > c) {
      return new SinkStatus(sink, target, r, cp, State.AHEAD_OF_CHECKPOINT, "batch " + s + " is committed in the sink, but the "
          + "checkpoint planned batches only up to " + cp.lastPlanned() + " and recorded up to " + c + ": the checkpoint is older "
          + "than the sink (restored from a backup, or copied). A restart would plan batches " + (cp.lastPlanned() + 1) + ".." + s
          + " again with other data and the sink would skip them as replays. Restore the newest checkpoint, or start a new "
          + "writer with --reset-checkpoint (keyed modes stay correct; append writes the events again)." + partly);
    }
    long behind = c - s;
    String batches = s + 1 == c ? "batch " + c : "batches " + (s + 1) + ".." + c;
    if (recordsEveryBatch) {
      return new SinkStatus(sink, target, r, cp, State.BEHIND_LOST, "the sink is " + behind + " batch" + (behind == 1 ? "" : "es")
          + " behind: the checkpoint records " + batches + " as done, and this sink records every batch, empty ones too, but "
          + "has no record of " + (behind == 1 ? "it" : "them") + ": " + (behind == 1 ? "it was" : "they were") + " never written "
          + "here (records deleted, or the checkpoint was used with another target). Run eventproc reconcile; write the missing "
          + "events again with a new writer (--reset-checkpoint; keyed modes stay correct)." + partly);
    }
    return new SinkStatus(sink, target, r, cp, State.BEHIND_EMPTY, "the checkpoint records " + batches + " as done after the "
        + "sink's last batch " + (s < 0 ? "(none yet)" : String.valueOf(s)) + ": this sink records only batches with rows, so "
        + (behind == 1 ? "it was" : "they were") + " empty here (eventproc reconcile tells a loss apart)." + partly);
  }

  /** A sink whose records could not be read. */
  static SinkStatus unreadable(String sink, String target, CheckpointState cp, String why) {
    return new SinkStatus(sink, target, null, cp, State.UNREADABLE, "cannot read the sink's commit records: " + why);
  }
}
