package dev.eventproc.sink.delta;

import java.util.function.Supplier;
import org.apache.spark.sql.RuntimeConfig;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.internal.SQLConf;

/**
 * Delta's transaction-id session confs ({@value DeltaTarget#TXN_APP_ID}, {@value DeltaTarget#TXN_VERSION}),
 * borrowed for the sink's commits and handed back as they were. A user's own {@code foreachBatch} code may
 * have set them for its own writes (Delta's idempotent-write pattern): they are cleared while the sink
 * commits, so they never reach the sink's writes, and restored after, so the user's later writes keep them.
 *
 * <p>The confs belong to the session, not the thread (delta-io/delta#3934): two threads committing through
 * one session would mix their ids. A commit while another is running on the same session is refused.
 */
final class TxnConfs {
  /** Session conf naming the sink that is committing through the session right now. */
  static final String OWNER = "eventproc.delta.committing";

  private TxnConfs() {}

  /** Runs {@code body} with the transaction confs cleared and this sink holding the session; restores them after. */
  static <T> T borrow(SparkSession session, String sinkName, Supplier<T> body) {
    RuntimeConfig conf = session.conf();
    SQLConf lock = session.sessionState().conf();
    String previousApp;
    String previousVersion;
    synchronized (lock) { // check-and-set: the confs of one session are shared by its threads
      String owner = conf.get(OWNER, null);
      if (owner != null) {
        throw new IllegalStateException("sink " + sinkName + ": Delta sink " + owner + " is committing through this Spark "
            + "session in another thread. Delta's transaction id is a session setting (delta-io/delta#3934), so two Delta "
            + "commits cannot run at once on one session: write the sinks one after another (as a fan-out does), or give "
            + "each thread its own session (spark.newSession()).");
      }
      conf.set(OWNER, sinkName + " (thread " + Thread.currentThread().getName() + ")");
      previousApp = conf.get(DeltaTarget.TXN_APP_ID, null);
      previousVersion = conf.get(DeltaTarget.TXN_VERSION, null);
      conf.unset(DeltaTarget.TXN_APP_ID);
      conf.unset(DeltaTarget.TXN_VERSION);
    }
    try {
      return body.get();
    } finally {
      synchronized (lock) {
        restore(conf, DeltaTarget.TXN_APP_ID, previousApp);
        restore(conf, DeltaTarget.TXN_VERSION, previousVersion);
        conf.unset(OWNER);
      }
    }
  }

  /** Sets a conf back to a value read before, or unsets it when it had none. */
  static void restore(RuntimeConfig conf, String key, String value) {
    if (value == null) {
      conf.unset(key);
    } else {
      conf.set(key, value);
    }
  }
}
