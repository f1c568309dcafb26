package dev.eventproc.pipeline;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * Takes over SIGINT (Ctrl-C) and SIGTERM while a pipeline runs, so that they stop it between batches
 * instead of shutting the JVM down under it (where Spark's own shutdown hook stops the SparkContext in
 * parallel and the batch in flight fails). The first signal starts the stop; a second one does what the
 * signal did before (the JVM's default: exit). {@link #close()} gives the signals back.
 */
final class StopSignals implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StopSignals.class);
  private static final List<String> NAMES = List.of("INT", "TERM");
  private final List<Signal> signals = new ArrayList<>();
  private final List<SignalHandler> previous = new ArrayList<>();

  private StopSignals() {}

  /** Installs the handlers; {@code stop} runs on a thread of its own at the first signal. */
  static StopSignals install(String pipeline, Runnable stop) {
    StopSignals s = new StopSignals();
    AtomicBoolean stopping = new AtomicBoolean();
    for (String name : NAMES) {
      Signal signal = new Signal(name);
      SignalHandler[] before = new SignalHandler[1];
      try {
        before[0] = Signal.handle(signal, sig -> {
          if (stopping.compareAndSet(false, true)) {
            LOG.info("pipeline={}: SIG{} received: stopping after the batch in flight (again to exit at once)", pipeline, name);
            Thread t = new Thread(stop, "eventproc-stop-" + pipeline);
            t.setDaemon(true);
            t.start();
          } else {
            passOn(before[0], sig);
          }
        });
        s.signals.add(signal);
        s.previous.add(before[0]);
      } catch (IllegalArgumentException unavailable) {
        LOG.debug("SIG{} cannot be handled here ({}); the shutdown hook stops the pipeline", name, unavailable.getMessage());
      }
    }
    return s;
  }

  private static void passOn(SignalHandler before, Signal sig) {
    if (before != null && before != SignalHandler.SIG_DFL && before != SignalHandler.SIG_IGN) {
      before.handle(sig);
    } else if (before != SignalHandler.SIG_IGN) {
      Runtime.getRuntime().exit(128 + sig.getNumber());
    }
  }

  @Override
  public void close() {
    for (int i = 0; i < signals.size(); i++) {
      Signal.handle(signals.get(i), previous.get(i));
    }
  }
}
