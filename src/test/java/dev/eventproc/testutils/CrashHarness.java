package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.cli.HistoryOracle;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The crash scenarios every sink goes through: a files source holding a generated feed (several
 * versions per key in any order, deletes, duplicates, malformed rows), a pipeline in a child JVM
 * killed at a fault point or with {@code kill -9}, restarted on the same checkpoint, and the sink
 * compared with the oracle. A sink test supplies its {@code sink.*} keys and a reader of its table.
 */
public final class CrashHarness {
  public static final Duration RUN_TIMEOUT = Duration.ofMinutes(4);
  public static final String PIPELINE = "orders";

  private final EventGenerator.Output feed;
  private final Path input;
  private final int files;

  /** Writes the input: 400 payments x 3 versions, 20% end deleted, 5% duplicates, 1% malformed, in {@code files} files. */
  public CrashHarness(String name, int files) {
    this(name, files, 400);
  }

  /** As {@link #CrashHarness(String, int)} with {@code keys} payments (3 versions each). */
  public CrashHarness(String name, int files, int keys) {
    this.feed = EventGenerator.generate(EventGenerator.Spec.payments(keys, 7).withVersions(3, 0.2).withMalformedRate(0.01));
    this.input = TestSpark.newDir(name + "-input");
    this.files = files;
    JsonFiles.write(input, feed.messages(), files);
  }

  /** Messages written to the input (valid and malformed). */
  public int messages() {
    return feed.messages().size();
  }

  /** The messages written to the input, in order (valid and malformed). */
  public List<EventGenerator.Message> sent() {
    return feed.messages();
  }

  public EventGenerator.Oracle oracle() {
    return feed.oracle();
  }

  /** Pipeline and source keys (files, one file per batch, no stage); the caller adds the sinks. */
  public Map<String, String> config(Path dir, String trigger) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", PIPELINE);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", trigger);
    c.put("source.type", "files");
    c.put("source.files.path", input.toString());
    c.put("source.files.max.files.per.trigger", "1");
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("spark.master", "local[2]");
    c.put("spark.sql.shuffle.partitions", "2");
    return c;
  }

  /** The upsert keys of a sink scope ({@code sink.} or {@code sink.<name>.}): by payment, newest version, deletes. */
  public static Map<String, String> upsert(Map<String, String> c, String scope) {
    c.put(scope + "mode", "upsert");
    c.put(scope + "key.columns", "payment_id");
    c.put(scope + "version.column", "version");
    c.put(scope + "delete.condition", "op = 'd'");
    return c;
  }

  /** Quarantine to Parquet files (fast) where the quarantine's format is not what a test is about. */
  public static Map<String, String> filesQuarantine(Map<String, String> c, Path dir) {
    c.put("quarantine.type", "files");
    c.put("quarantine.files.path", dir.resolve("quarantine").toString());
    return c;
  }

  /** Every valid message as {@code id:version:amount}, with how many times it was sent (what an append keeps). */
  public Map<String, Long> expectedAppended() {
    Map<String, Long> out = new TreeMap<>();
    for (EventGenerator.Message m : feed.messages()) {
      if (!m.malformed()) {
        Event e = m.event();
        out.merge(e.paymentId() + ":" + e.version() + ":" + e.amount().toPlainString(), 1L, Long::sum);
      }
    }
    return out;
  }

  /** Halts the child at {@code fault}, restarts it to the end, and checks that the restart skipped a replay. */
  public ChildPipeline crashThenRestart(Path dir, Map<String, String> config, String fault) {
    ChildPipeline child = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("job.properties"), config));
    child.runUntilFault(fault, RUN_TIMEOUT);
    child.runToEnd(RUN_TIMEOUT);
    return child;
  }

  /**
   * {@link KillScenario}: kill -9 of the pipeline (processing-time trigger) at a random moment after a
   * committed batch and in the commit window of the next one, each kill shown in the child's log to have
   * landed mid-stream, then a drain with available-now and {@code oracle}; any failure names the seed.
   * {@code config} maps a trigger to a config; {@code sinks} must skip the replay of the batch in the commit window,
   * the last is held.
   */
  public void killRandomlyThenDrain(Path dir, Function<String, Map<String, String>> config, List<String> sinks,
      KillScenario.Check oracle) {
    new KillScenario(dir, config, sinks, files).run(oracle);
  }

  /**
   * {@link #killRandomlyThenDrain(Path, Function, List, KillScenario.Check)} with the random run halted at
   * {@code haltFault} (e.g. {@code after-commit@1/orders}) instead of killed at a random moment; returns whether
   * the next run was held in the commit window (false: it found the batch committed, see {@link KillScenario#run}).
   */
  public boolean killAtThenDrain(Path dir, Function<String, Map<String, String>> config, List<String> sinks, String haltFault,
      KillScenario.Check oracle) {
    return new KillScenario(dir, config, sinks, files).withRandomRunHaltedAt(haltFault).run(oracle);
  }

  /**
   * The soak's kills: {@code kills} runs, each killed after a random time from {@code minMillis} to
   * {@code maxMillis} (whatever it had done), then a drain; the seed ({@code -Dcrash.seed}) is printed.
   */
  public void killRandomlyThenDrain(Path dir, Function<String, Map<String, String>> config, int kills, int minMillis, int maxMillis,
      Duration drainTimeout) throws InterruptedException {
    long seed = KillScenario.seed();
    System.out.println("crash seed " + seed + " (repeat with -D" + KillScenario.SEED_PROPERTY + "=" + seed + ")");
    Random rnd = new Random(seed);
    ChildPipeline endless = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("endless.properties"), config.apply("processing-time")));
    for (int i = 0; i < kills; i++) {
      Process p = endless.start(null);
      long delayMs = minMillis + rnd.nextInt(maxMillis - minMillis);
      Thread.sleep(delayMs);
      assertThat(p.isAlive()).as("child %d still running before its kill -9 at %d ms (seed %d); log:\n%s", i, delayMs, seed,
          endless.tail()).isTrue();
      ChildPipeline.kill9(p);
    }
    ChildPipeline drain = new ChildPipeline(ChildPipeline.writeConfig(dir.resolve("drain.properties"), config.apply("available-now")));
    drain.runToEnd(drainTimeout);
  }

  /** Every valid message as a row with all its columns ({@link EventRows}), with how many times it was sent. */
  public Map<String, Long> expectedAppendedRows() {
    return EventRows.appended(feed.messages());
  }

  /** Expected final state with all columns ({@link EventRows}): per key the newest version, deleted keys absent. */
  public Map<String, String> expectedLatestRows() {
    return EventRows.latest(feed.oracle());
  }

  /** Rows by key ({@link EventRows} start with the key), failing on a key held twice: compare with {@link #expectedLatestRows}. */
  public static Map<String, String> byKey(List<String> rows) {
    Map<String, String> out = new TreeMap<>();
    for (String r : rows) {
      String key = r.substring(0, r.indexOf('|'));
      assertThat(out.put(key, r)).as("key %s held once", key).isNull();
    }
    return out;
  }

  /** Rows with how often each occurs: compare with {@link #expectedAppendedRows}. */
  public static Map<String, Long> counted(List<String> rows) {
    Map<String, Long> out = new TreeMap<>();
    rows.forEach(r -> out.merge(r, 1L, Long::sum));
    return out;
  }

  /** Expected final state: per key, {@code version:amount} of the newest version, deleted keys absent. */
  public Map<String, String> expectedLatest() {
    Map<String, String> expected = new TreeMap<>();
    for (Event e : feed.oracle().latest().values()) {
      expected.put(e.paymentId(), e.version() + ":" + e.amount().toPlainString());
    }
    return expected;
  }

  /** The rows a history sink keeps, with the events behind them: for tests that compare every column. */
  public List<HistoryOracle.Row> historyRows() {
    return HistoryOracle.of(feed.messages());
  }
}
