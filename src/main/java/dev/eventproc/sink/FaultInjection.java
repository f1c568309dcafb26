package dev.eventproc.sink;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named points in the commit protocol where a test (or the demo) can make the process die on
 * purpose, to prove that a restart on the same checkpoint ends with the sink equal to its oracle.
 *
 * <p>Off unless the system property {@value #PROPERTY} is set, as {@code POINT@BATCH[/SINK][:ACTION]}:
 * for example {@code after-commit@2} halts the JVM ({@code Runtime.halt}, no shutdown hooks, like a
 * power cut) right after batch 2 committed and before Spark records it in its checkpoint;
 * {@code before-commit@0/payments:throw} throws {@link InjectedFault} instead, which fails the query
 * like a crashed driver would, without ending the process; {@code task-written@1:pause} holds the
 * first attempt of each Spark task that reaches the point (retries run through) for up to ten
 * minutes, so a test can kill the executor at exactly that moment; {@code :pause-once} holds only the
 * first task of the Spark application (on this host) that reaches the point, so that exactly one executor
 * is held even when a retried job (e.g. Delta's MERGE after a lost materialized source) passes it again.
 */
public final class FaultInjection {
  /** The system property holding the fault spec. */
  public static final String PROPERTY = "eventproc.fault";
  /** Exit status of a JVM halted by an injected fault. */
  public static final int HALT_STATUS = 86;

  private static final Logger LOG = LoggerFactory.getLogger(FaultInjection.class);
  private static final long PAUSE_MILLIS = 10 * 60 * 1000L;

  /** The points of the commit protocol. Not every adapter passes every point. */
  public enum Point {
    /** The batch is computed (and counted) but nothing is written yet. */
    BEFORE_COMMIT,
    /**
     * The sink changed its target's schema for a batch of a new schema (PostgreSQL's {@code ALTER TABLE}
     * committed, Delta's or Iceberg's schema change committed) and has written nothing of the batch yet.
     * Passed only by the run that made the change: a replay finds the target evolved already.
     */
    AFTER_SCHEMA_CHANGE,
    /** Staged data is written (e.g. Postgres staging table) but not yet committed to the target. */
    AFTER_STAGING,
    /** One of several commits of one batch is done (e.g. tombstones before the target table). */
    BETWEEN_COMMITS,
    /** The sink committed the batch; Spark has not yet written its own checkpoint commit. */
    AFTER_COMMIT,
    /**
     * In an executor: a task wrote its share (its rows in PostgreSQL staging or in the driver's direct
     * COPY, records in an open Kafka transaction) and has not committed it.
     */
    TASK_WRITTEN,
    /**
     * A writer committed its share of a batch itself (a Kafka writer part's transaction, in a task or in
     * the driver's producer) and has not yet reported back to the sink: a failure here fails the write
     * although its commit went through.
     */
    TASK_COMMITTED;

    public String spec() {
      return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
  }

  /** Thrown at a fault point whose action is {@code throw}. */
  public static final class InjectedFault extends RuntimeException {
    private static final long serialVersionUID = 1L;

    InjectedFault(String message) {
      super(message);
    }
  }

  /**
   * A test hook: code a test runs at every fault point of this JVM (on the driver, and in local mode in
   * tasks too), e.g. to hold one thread there while the test acts. Tests only; never set in production.
   */
  @FunctionalInterface
  public interface TestHook {
    void at(Point point, String sinkName, long batchId);
  }

  private static volatile TestHook testHook;

  private FaultInjection() {}

  /** Tests only: runs {@code hook} first at every fault point of this JVM; null removes it. */
  public static void setTestHook(TestHook hook) {
    testHook = hook;
  }

  /**
   * Whether a fault may fire at {@code point} (the property names it, or a test hook is set), so that
   * a path can add a fault point that costs something (e.g. an extra step in a Spark job) only then.
   */
  public static boolean armed(Point point) {
    if (testHook != null) {
      return true;
    }
    String spec = System.getProperty(PROPERTY);
    return spec != null && spec.trim().startsWith(point.spec() + "@");
  }

  /** Dies here if the configured fault names this point, batch and sink. */
  public static void at(Point point, String sinkName, long batchId) {
    TestHook hook = testHook;
    if (hook != null) {
      hook.at(point, sinkName, batchId);
    }
    String spec = System.getProperty(PROPERTY);
    if (spec == null || spec.isBlank()) {
      return;
    }
    String action = "halt";
    String s = spec.trim();
    int colon = s.lastIndexOf(':');
    if (colon > 0) {
      action = s.substring(colon + 1);
      s = s.substring(0, colon);
    }
    int at = s.indexOf('@');
    if (at < 0) {
      throw new IllegalArgumentException(PROPERTY + ": '" + spec + "' is not POINT@BATCH[/SINK][:halt|throw|pause|pause-once]");
    }
    String pointName = s.substring(0, at);
    String rest = s.substring(at + 1);
    String sink = null;
    int slash = rest.indexOf('/');
    if (slash >= 0) {
      sink = rest.substring(slash + 1);
      rest = rest.substring(0, slash);
    }
    if (!pointName.equals(point.spec()) || Long.parseLong(rest) != batchId
        || (sink != null && !sink.equals(sinkName))) {
      return;
    }
    String message = "injected fault " + spec + " at " + point.spec() + " of sink " + sinkName + " batch " + batchId;
    if ("throw".equals(action)) {
      LOG.warn("{}: throwing", message);
      throw new InjectedFault(message);
    }
    if ("pause".equals(action) || "pause-once".equals(action)) {
      pause(message, "pause-once".equals(action) ? s : null);
      return;
    }
    LOG.warn("{}: halting the JVM", message);
    System.err.println("eventproc: " + message + ": halting the JVM");
    System.err.flush();
    Runtime.getRuntime().halt(HALT_STATUS);
  }

  /** Holds this thread; {@code onceKey} non-null: only if no other JVM of the application held one for it. */
  private static void pause(String message, String onceKey) {
    TaskContext task = TaskContext.get();
    if (task != null && (task.attemptNumber() > 0 || task.stageAttemptNumber() > 0)) {
      return; // retries go through: of the task, or of its whole stage after lost shuffle output
    }
    if (onceKey != null && !firstClaim(onceKey)) {
      return;
    }
    LOG.warn("{}: pausing until killed", message);
    System.err.println("eventproc: " + message + ": pausing until killed");
    System.err.flush();
    try {
      Thread.sleep(PAUSE_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Whether this is the first claim of {@code key} by any JVM of this Spark application on this host: an
   * atomically created marker file in the temporary directory (the executors of a test's local cluster
   * share it). Without a Spark application, once per JVM.
   */
  private static boolean firstClaim(String key) {
    SparkEnv env = SparkEnv.get();
    String app = env == null ? null : env.conf().get("spark.app.id", null);
    String owner = app != null ? app : "pid" + ProcessHandle.current().pid();
    Path marker = Path.of(System.getProperty("java.io.tmpdir"), "eventproc-fault-" + owner.replaceAll("[^A-Za-z0-9_-]", "_") + "-"
        + Integer.toHexString(key.hashCode()));
    try {
      Files.createFile(marker);
      return true;
    } catch (FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      throw new UncheckedIOException("fault injection: cannot create " + marker, e);
    }
  }
}
