package dev.eventproc.pipeline;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Stops a running pipeline between batches: closes its {@link BatchGate}, lets the batch in flight
 * finish (for at most the bound), waits until the listener has reported it (so {@code metrics.file}
 * holds it), then stops the query. Past the bound the query is stopped anyway: the batch in flight is
 * cancelled and runs again after a restart, where the sinks skip what they had committed.
 */
final class GracefulStop {
  /** How long a stop waits for the batch in flight, then for its report. */
  static final Duration BOUND = Duration.ofSeconds(60);
  private static final Logger LOG = LoggerFactory.getLogger(GracefulStop.class);

  private GracefulStop() {}

  static void stop(Pipeline pipeline, Duration bound) {
    String name = pipeline.config().name();
    long end = System.currentTimeMillis() + bound.toMillis();
    try {
      if (pipeline.query().isActive()) {
        BatchGate gate = pipeline.split().gate();
        long inside = gate.inside();
        if (inside >= 0) {
          LOG.info("pipeline={}: stopping after batch {} (waiting at most {} s)", name, inside, bound.toSeconds());
        }
        if (!gate.close(bound.toMillis())) {
          LOG.warn("pipeline={}: batch {} did not finish within {} s; stopping it (it runs again after a restart)", name,
              gate.inside(), bound.toSeconds());
        } else if (!pipeline.listener().awaitReported(gate.lastDone(), end)) {
          LOG.warn("pipeline={}: batch {} finished but was not reported within {} s", name, gate.lastDone(),
              bound.toSeconds());
        }
      }
      stopQuery(pipeline);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      LOG.warn("pipeline={}: interrupted while stopping; stopping the query now", name);
      stopQuietly(pipeline);
    } catch (Exception e) { // TimeoutException from stop(), declared through Scala
      LOG.warn("pipeline={}: stop failed: {}", name, e.toString());
    }
  }

  /**
   * Stops the query on a thread of its own: Spark marks the query stopped, then interrupts its thread and
   * waits for it; a batch held at the gate is let out once the query is marked stopped.
   */
  private static void stopQuery(Pipeline pipeline) throws InterruptedException {
    Thread t = new Thread(() -> stopQuietly(pipeline), "eventproc-query-stop-" + pipeline.config().name());
    t.setDaemon(true);
    t.start();
    while (pipeline.query().isActive() && t.isAlive()) {
      t.join(10);
    }
    pipeline.split().gate().stopped();
    t.join();
  }

  private static void stopQuietly(Pipeline pipeline) {
    try {
      pipeline.query().stop();
    } catch (Exception e) {
      LOG.warn("pipeline={}: stop failed: {}", pipeline.config().name(), e.toString());
    }
  }
}
