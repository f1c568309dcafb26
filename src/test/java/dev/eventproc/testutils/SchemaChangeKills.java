package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.FaultInjection;
import java.util.List;

/**
 * Kills of a pipeline restarted on a new schema, in the window between a sink's schema change and its commit
 * of the first batch of that schema ({@code after-schema-change:pause}, then {@code kill -9}), and the drain
 * after them. Each kill is shown to have landed there by the child's own log: the sink logged its schema change,
 * was held at the point, and had not committed the batch; the caller checks the targets at that moment.
 */
public final class SchemaChangeKills {
  private final ChildPipeline child;
  private final long batch;
  private final List<String> story;

  /**
   * @param child the pipeline, its config already on the new schema
   * @param batch the first batch of the new schema
   * @param story where each run's outcome is added (for the seed's failure message)
   */
  public SchemaChangeKills(ChildPipeline child, long batch, List<String> story) {
    this.child = child;
    this.batch = batch;
    this.story = story;
  }

    /** A run held by {@code after-schema-change@BATCH/sink:pause}, killed there; {@code evidence} checks the targets then. */
    public void killInWindow(String sink, KillScenario.Check evidence) throws Exception {
      String fault = FaultInjection.Point.AFTER_SCHEMA_CHANGE.spec() + "@" + batch + "/" + sink + ":pause";
      Process p = child.start(fault);
      try {
        String held = "at after-schema-change of sink " + sink + " batch " + batch + ": pausing until killed";
        long deadline = System.nanoTime() + CrashHarness.RUN_TIMEOUT.toNanos();
        while (!child.log().contains(held)) {
          assertThat(p.isAlive()).as("run %d ended before %s; log:\n%s", child.runs(), fault, child.tail()).isTrue();
          assertThat(System.nanoTime()).as("run %d reached %s in time", child.runs(), fault).isLessThan(deadline);
          Thread.sleep(20);
        }
        assertThat(child.log()).as("run %d changed the schema of %s before it was held", child.runs(), sink)
            .containsPattern("sink=" + sink + ": evolved table ");
        ChildPipeline.kill9(p);
        story.add("run " + child.runs() + " (" + fault + ", kill -9 while held): " + ChildLog.of(child.log(), sink));
        assertThat(ChildLog.of(child.log(), sink).committed()).as("%s did not commit batch %d in the run killed", sink, batch)
            .doesNotContain(batch);
      } finally {
        ChildPipeline.kill9(p);
      }
      evidence.run();
    }

    /** Runs to the end without a fault: {@code skipping} must skip the batch as a replay, {@code committing} commit it. */
    public void drain(List<String> skipping, List<String> committing) {
      child.runToEnd(CrashHarness.RUN_TIMEOUT);
      for (String sink : skipping) {
        story.add("drain, sink " + sink + ": " + ChildLog.of(child.log(), sink));
        assertThat(ChildLog.of(child.log(), sink).skipped()).as("drain: %s had committed batch %d; log:\n%s", sink, batch,
            child.tail()).contains(batch);
      }
      for (String sink : committing) {
        story.add("drain, sink " + sink + ": " + ChildLog.of(child.log(), sink));
        assertThat(ChildLog.of(child.log(), sink).committed()).as("drain: %s commits batch %d, killed before its commit; log:\n%s",
            sink, batch, child.tail()).contains(batch);
        assertThat(child.log()).as("drain: the schema change of %s is not made twice", sink)
            .doesNotContainPattern("sink=" + sink + ": evolved table ");
      }
    }
}
