package dev.eventproc.bench;

import dev.eventproc.bench.EndToEndBench.Settings;
import dev.eventproc.bench.EndToEndBench.Target;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * The end-to-end pipeline ({@link SustainedPhase}, Kafka, dedupe-latest, PostgreSQL upsert) on growing
 * backlogs with the RocksDB state store: per step the sustained rate, the peak heap and resident memory
 * (driver and executors are one JVM in local mode), the state rows per batch, and what stays live after
 * a full collection and how many streaming listeners are registered before and after: whatever grows
 * with the number of batches shows up between the first step and the last.
 */
public final class ScaleBench {
  static final String SUITE = "scale";
  private static final String STORE_PROVIDER = "spark.sql.streaming.stateStore.providerClass";
  private static final String PROGRESS_KEPT = "spark.sql.streaming.numRecentProgressUpdates";
  private static final String ROCKSDB = "org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider";
  /** Live heap may differ between steps by this much (caches, JIT, class data), and no more. */
  static final long LIVE_HEAP_SLACK_BYTES = 64L << 20;

  private ScaleBench() {}

  /** One step's figures. */
  record Step(long events, double eventsPerSecond, int batches, boolean stateFlat, long peakHeap, long peakResident,
      long liveBefore, long liveAfter, int listenersBefore, int listenersAfter) {}

  /**
   * Runs one step per size, smallest first, each on a fresh topic, table and checkpoint; adds results,
   * targets and notes to {@code report} and writes the curve to {@code chart}.
   */
  public static void run(SparkSession spark, Settings base, List<Long> sizes, BenchReport report, Path chart) throws Exception {
    List<Long> ordered = new ArrayList<>(sizes);
    Collections.sort(ordered);
    String before = spark.conf().getOption(STORE_PROVIDER).getOrElse(() -> null);
    String retention = spark.conf().getOption(PROGRESS_KEPT).getOrElse(() -> null);
    spark.conf().set(STORE_PROVIDER, ROCKSDB);
    spark.conf().set(PROGRESS_KEPT, "100000"); // every batch's progress: Spark keeps 100, fewer than a 20M-event step's batches
    List<Step> steps = new ArrayList<>();
    try {
      for (long events : ordered) {
        steps.add(step(spark, base, events, report));
      }
    } finally {
      restore(spark, STORE_PROVIDER, before);
      restore(spark, PROGRESS_KEPT, retention);
    }
    Step first = steps.get(0);
    Step last = steps.get(steps.size() - 1);
    report.target(new BenchTarget(SUITE, String.format(Locale.ROOT, "live heap after GC, %,d-event step minus %,d-event step (%d more batches)",
        last.events(), first.events(), last.batches() - first.batches()),
        (last.liveAfter() - first.liveAfter()) / 1048576.0, LIVE_HEAP_SLACK_BYTES / 1048576.0, true, "MiB"));
    report.target(new BenchTarget(SUITE, "streaming listeners left registered after all steps",
        last.listenersAfter() - first.listenersBefore(), 0, true, "listeners"));
    report.target(new BenchTarget(SUITE, "steps whose state rows stayed within the watermark's bound",
        steps.stream().filter(Step::stateFlat).count(), steps.size(), false, "steps"));
    if (chart != null) {
      writeChart(steps, chart);
    }
  }

  private static void restore(SparkSession spark, String key, String value) {
    if (value == null) {
      spark.conf().unset(key);
    } else {
      spark.conf().set(key, value);
    }
  }

  private static Step step(SparkSession spark, Settings base, long events, BenchReport report) throws Exception {
    Path work = Files.createTempDirectory(base.work(), "scale-" + events);
    Settings s = new Settings(base.kafkaServers(), events, base.batchEvents(), base.rate(), Duration.ZERO, base.pgUrl(),
        base.pgUser(), base.pgPassword(), work);
    E2eSupport.resetPostgresSchema(s);
    int listenersBefore = spark.streams().listListeners().length;
    long liveBefore = MemorySampler.liveHeapAfterGc();
    SustainedPhase.Sustained sustained;
    MemorySampler memory = MemorySampler.start();
    try {
      sustained = SustainedPhase.sustained(spark, s, Target.POSTGRES);
    } finally {
      memory.close();
    }
    long liveAfter = MemorySampler.liveHeapAfterGc();
    int listenersAfter = spark.streams().listListeners().length;
    double rate = sustained.rows() / sustained.seconds();
    Step step = new Step(events, rate, sustained.state().size(), sustained.flat(), memory.peakHeapBytes(), memory.peakResidentBytes(),
        liveBefore, liveAfter, listenersBefore, listenersAfter);
    report.add(new BenchResult(SUITE, String.format(Locale.ROOT, "%,d events -> postgres (RocksDB)", events), sustained.rows(),
        sustained.seconds(), "backlog drained in batches of " + s.batchEvents() + " offsets, after the first batch"));
    List<Long> state = sustained.state();
    report.note(String.format(Locale.ROOT, "scale %,d events: %,.0f events/s over %d batches (state store: %s); state rows first %,d, "
        + "max %,d, last %,d (bound %,d): %s; peak heap %,d MiB, peak resident %s; live heap after GC %,d MiB before, %,d MiB after; "
        + "streaming listeners %d before, %d after; sink %s", events, rate, step.batches(), sustained.stateStore(), state.get(0),
        Collections.max(state), state.get(state.size() - 1), sustained.stateBound(), sustained.flat() ? "flat" : "NOT FLAT",
        step.peakHeap() >> 20, step.peakResident() < 0 ? "n/a" : (step.peakResident() >> 20) + " MiB", liveBefore >> 20, liveAfter >> 20,
        listenersBefore, listenersAfter, sustained.sinkCheck()));
    return step;
  }

  private static void writeChart(List<Step> steps, Path png) throws IOException {
    System.setProperty("java.awt.headless", "true");
    XYChart chart = new XYChartBuilder().width(900).height(520)
        .title("eventproc scale: kafka -> dedupe-latest (RocksDB) -> postgres").xAxisTitle("events in the backlog (millions)").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
    chart.getStyler().setLegendLayout(Styler.LegendLayout.Horizontal);
    List<Double> x = steps.stream().map(st -> st.events() / 1e6).toList();
    chart.addSeries("sustained events/s (thousands)", x, steps.stream().map(st -> st.eventsPerSecond() / 1000).toList());
    chart.addSeries("peak heap (MiB)", x, steps.stream().map(st -> (double) (st.peakHeap() >> 20)).toList()).setYAxisGroup(1);
    if (steps.stream().allMatch(st -> st.peakResident() >= 0)) {
      chart.addSeries("peak resident (MiB)", x, steps.stream().map(st -> (double) (st.peakResident() >> 20)).toList()).setYAxisGroup(1);
    }
    chart.addSeries("live heap after GC (MiB)", x, steps.stream().map(st -> (double) (st.liveAfter() >> 20)).toList()).setYAxisGroup(1);
    chart.getStyler().setYAxisMin(0, 0.0);
    chart.getStyler().setYAxisMin(1, 0.0);
    chart.setYAxisGroupTitle(0, "thousand events/s");
    chart.setYAxisGroupTitle(1, "MiB");
    Files.createDirectories(png.toAbsolutePath().getParent());
    String base = png.toString().endsWith(".png") ? png.toString().substring(0, png.toString().length() - 4) : png.toString();
    BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
  }
}
