package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.FaultInjection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * {@code kill -9} of a real pipeline JVM, with evidence from the child's own log that every kill landed
 * inside the stream, then an available-now drain and the test's oracle comparison.
 *
 * <p>The runs: {@value #RANDOM_KILLS_DEFAULT} run(s) ({@code -D}{@value #RANDOM_KILLS_PROPERTY}) of a
 * processing-time pipeline, each killed at a random moment after its first committed batch ({@code -D}{@value
 * #AFTER_COMMITS_PROPERTY}: 0 lets it die before any commit, which must fail) (a random delay below
 * {@value #MAX_DELAY_MS} ms, or at once when one more batch is committed first), so the kill falls inside
 * the next batch, wherever in it; then a run held by the fault point {@code after-commit:pause} on the next
 * batch and killed there, inside the window between the sink's commit and Spark's checkpoint commit; then
 * the drain, which must find that batch committed and skip it. When the random kill itself landed after the
 * sinks' commit of a batch and before the held sink's log line, the held run finds that batch committed and is
 * killed at once: then no sink may commit that batch again, and each must skip it in the held run or the drain. Each killed run must have committed a batch,
 * and the run after each kill must have had work (replayed or committed a batch): a kill that cannot be
 * shown to have landed mid-stream fails the test.
 *
 * <p>Every random choice comes from one seed ({@code -D}{@value #SEED_PROPERTY}{@code =N} repeats a run),
 * printed when the scenario starts and put in the message of any failure, the oracle comparison included.
 */
public final class KillScenario {
  public static final String SEED_PROPERTY = "crash.seed";
  public static final String RANDOM_KILLS_PROPERTY = "crash.random.kills";
  static final int RANDOM_KILLS_DEFAULT = 1;
  /** Committed batches a random run waits for before its delay starts; 0 shows a kill before any commit failing. */
  public static final String AFTER_COMMITS_PROPERTY = "crash.kill.after.commits";
  static final int AFTER_COMMITS_DEFAULT = 1;
  /** Below one batch of the slowest sink here (a Delta MERGE), so a random kill lands in the next batch. */
  static final int MAX_DELAY_MS = 1500;
  private static final long POLL_MILLIS = 20;

  /** A check that may throw (the oracle comparison after the drain). */
  @FunctionalInterface
  public interface Check {
    void run() throws Exception;
  }

  private final Path dir;
  private final Function<String, Map<String, String>> config;
  private final List<String> sinks;
  private final int batches;
  private final long seed;
  private final Random random;
  private final List<String> story = new ArrayList<>();
  private final String randomRunFault;

  /**
   * @param config a config per trigger ({@code processing-time}, {@code available-now})
   * @param sinks the sinks whose replay of the batch in the commit window must be skipped; the last is the one held
   *     after its commit
   * @param batches how many batches the input makes (its files: one per batch)
   */
  public KillScenario(Path dir, Function<String, Map<String, String>> config, List<String> sinks, int batches) {
    this(dir, config, sinks, batches, null);
  }

  private KillScenario(Path dir, Function<String, Map<String, String>> config, List<String> sinks, int batches,
      String randomRunFault) {
    this.dir = dir;
    this.config = config;
    this.sinks = List.copyOf(sinks);
    this.batches = batches;
    this.seed = seed();
    this.random = new Random(seed);
    this.randomRunFault = randomRunFault;
  }

  /**
   * This scenario with the random run halted by the fault {@code haltFault} instead of killed after a random delay:
   * it places that kill exactly (e.g. {@code after-commit@1/orders}: after the sink's commit of batch 1 and before
   * the line that logs it, a moment a random kill hits by chance), so a test can show the scenario handles it.
   */
  public KillScenario withRandomRunHaltedAt(String haltFault) {
    return new KillScenario(dir, config, sinks, batches, haltFault + ":halt");
  }

  /** {@code -Dcrash.seed}, or a fresh seed. */
  public static long seed() {
    Long fixed = Long.getLong(SEED_PROPERTY);
    return fixed != null ? fixed : new Random().nextLong();
  }

  /**
   * Runs the kills and the drain, then {@code oracle}; any failure is rethrown with the seed in its message.
   * Returns whether the held run was held in the commit window (false: it found that batch committed by the
   * random kill's run, which was killed after the sink's commit and before its log line).
   */
  public boolean run(Check oracle) {
    boolean[] held = new boolean[1];
    withSeed(seed, story, () -> {
      held[0] = killsThenDrain();
      oracle.run();
    });
    return held[0];
  }

  /**
   * Prints the seed, runs {@code check}, and rethrows any failure as an AssertionError naming the seed and
   * {@code story} (what each run did, as the check adds it).
   */
  public static void withSeed(long seed, List<String> story, Check check) {
    String repeat = "crash seed " + seed + " (repeat with -D" + SEED_PROPERTY + "=" + seed + ")";
    System.out.println(repeat);
    try {
      check.run();
      System.out.println(repeat + ": passed; " + String.join("; ", story));
    } catch (Exception | AssertionError e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new AssertionError(repeat + ": " + e.getMessage() + "\nruns: " + String.join("; ", story), e);
    }
  }

  private boolean killsThenDrain() throws InterruptedException {
    // a halted random run stops at its fault, after the first committed batch: one such run, whatever -D says
    int randomKills = randomRunFault != null ? 1 : Integer.getInteger(RANDOM_KILLS_PROPERTY, RANDOM_KILLS_DEFAULT);
    int afterCommits = randomRunFault != null ? 1 : Integer.getInteger(AFTER_COMMITS_PROPERTY, AFTER_COMMITS_DEFAULT);
    // a random run commits at most afterCommits + 1 new batches, the held run one: the input must outlast them
    assertThat(batches).as("batches of the input for %d random kill(s) and one held kill", randomKills)
        .isGreaterThanOrEqualTo(randomKills * (afterCommits + 1) + 1);
    String heldSink = sinks.get(sinks.size() - 1);
    ChildPipeline endless = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("endless.properties"),
        config.apply("processing-time")));
    long last = -1;
    for (int i = 0; i < randomKills; i++) {
      last = Math.max(last, killAtRandom(endless, heldSink, afterCommits).lastBatch());
    }
    long window = last + 1; // the random kills left work: the held run must commit this batch (or find it committed)
    int heldRun = killHeld(endless, heldSink, window);
    boolean held = ChildLog.of(endless.log(heldRun), heldSink).heldAfterCommit().contains(window);

    ChildPipeline drain = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("drain").resolve("drain.properties"), // own logs
        config.apply("available-now")));
    drain.runToEnd(CrashHarness.RUN_TIMEOUT);
    for (String sink : sinks) {
      ChildLog drained = ChildLog.of(drain.log(), sink);
      story.add("drain, sink " + sink + ": " + drained);
      if (held) {
        assertThat(drained.skipped()).as("sink %s: the drain after the kill in the commit window of batch %d finds it committed "
            + "and skips it (the kill landed between the sink's commit and Spark's); drain log:\n%s", sink, window, drain.tail())
            .contains(window);
      } else { // every sink committed the batch before the random kill (the held one last): the next runs skip it
        ChildLog heldLog = ChildLog.of(endless.log(heldRun), sink);
        assertThat(heldLog.committed().contains(window) || heldLog.heldAfterCommit().contains(window)
            || drained.committed().contains(window)).as("sink %s committed batch %d again after "
            + "the kill that followed its commit; held run: %s; drain: %s", sink, window, heldLog, drained).isFalse();
        assertThat(heldLog.skipped().contains(window) || drained.skipped().contains(window)).as("sink %s: the held run or the "
            + "drain finds batch %d committed by the random kill's run and skips it; held run: %s; drain: %s", sink, window, heldLog,
            drained).isTrue();
      }
    }
    return held;
  }

  /** One run killed at a random moment after its first {@code afterCommits} committed batches; returns what its log shows. */
  private ChildLog killAtRandom(ChildPipeline endless, String sink, int afterCommits) throws InterruptedException {
    Process p = endless.start(randomRunFault);
    int run = endless.runs();
    try {
      awaitLog(endless, run, p, sink, l -> l.committed().size() >= afterCommits, afterCommits + " committed batch(es)");
      long since = System.nanoTime();
      int delay = random.nextInt(MAX_DELAY_MS);
      if (randomRunFault != null) {
        assertThat(p.waitFor(CrashHarness.RUN_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS) ? p.exitValue() : -1)
            .as("run %d halted by %s; log:\n%s", run, randomRunFault, tail(endless.log(run))).isEqualTo(FaultInjection.HALT_STATUS);
      }
      while (randomRunFault == null && millisSince(since) < delay
          && ChildLog.of(endless.log(run), sink).committed().size() <= afterCommits) {
        Thread.sleep(POLL_MILLIS);
      }
      long waited = millisSince(since);
      ChildPipeline.kill9(p);
      ChildLog log = ChildLog.of(endless.log(run), sink);
      story.add("run " + run + (randomRunFault != null ? " (halted by " + randomRunFault + ")" : " (kill -9 " + waited
          + " ms after " + afterCommits + " commit(s), delay drawn " + delay + " ms)") + ": " + log);
      assertCommittedBeforeKill(run, sink, log, endless.log(run));
      return log;
    } finally {
      ChildPipeline.kill9(p);
    }
  }

  /**
   * One run held by {@code after-commit:pause} of batch {@code batch} and killed there, or killed at once when it
   * finds {@code batch} committed already and skips it (the random kill before it landed after the sink's commit of
   * that batch and before its log line: that kill was in the commit window). Returns the run's number.
   */
  private int killHeld(ChildPipeline endless, String sink, long batch) throws InterruptedException {
    String fault = "after-commit@" + batch + "/" + sink + ":pause";
    Process p = endless.start(fault);
    int run = endless.runs();
    try {
      awaitLog(endless, run, p, sink, l -> l.skipped().contains(batch) || l.heldAfterCommit().contains(batch),
          "the commit of batch " + batch + " (" + fault + ") or its skip as a replay");
      ChildPipeline.kill9(p);
      ChildLog log = ChildLog.of(endless.log(run), sink);
      boolean held = log.heldAfterCommit().contains(batch);
      story.add("run " + run + " (" + fault + ", kill -9 " + (held ? "while held" : "on finding batch " + batch
          + " committed by the run before, killed between its commit and its log line") + "): " + log);
      return run;
    } finally {
      ChildPipeline.kill9(p);
    }
  }

  /** A kill proves nothing about recovery unless the run killed had committed a batch: else this fails. */
  static void assertCommittedBeforeKill(int run, String sink, ChildLog killed, String log) {
    assertThat(killed.committedAny()).as("run %d committed a batch of sink %s before its kill -9 (%s); log:\n%s", run, sink,
        killed, tail(log)).isTrue();
  }

  private void awaitLog(ChildPipeline child, int run, Process p, String sink, Predicate<ChildLog> seen, String what)
      throws InterruptedException {
    long start = System.nanoTime();
    Duration timeout = CrashHarness.RUN_TIMEOUT;
    while (!seen.test(ChildLog.of(child.log(run), sink))) {
      if (!p.isAlive()) {
        throw new AssertionError("run " + run + " ended (status " + p.exitValue() + ") before " + what + " of sink " + sink
            + "; log:\n" + tail(child.log(run)));
      }
      if (millisSince(start) > timeout.toMillis()) {
        throw new AssertionError("run " + run + " did not reach " + what + " of sink " + sink + " within " + timeout
            + "; log:\n" + tail(child.log(run)));
      }
      Thread.sleep(POLL_MILLIS);
    }
  }

  private static long millisSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  private static String tail(String log) {
    return log.length() > 6000 ? log.substring(log.length() - 6000) : log;
  }
}
