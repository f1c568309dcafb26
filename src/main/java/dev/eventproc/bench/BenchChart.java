package dev.eventproc.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.Styler;

/**
 * A PNG bar chart of a report's goal ratios (XChart): per goal, the measured ratio next to the
 * goal's bound. Higher is better for every ratio (time goals are expressed as rows/s ratios too).
 */
public final class BenchChart {
  private BenchChart() {}

  /** Writes the chart; returns false (and writes nothing) when no goal has a measured ratio. */
  public static boolean write(BenchReport report, Path png, String title) throws IOException {
    List<String> labels = new ArrayList<>();
    List<Double> measured = new ArrayList<>();
    List<Double> bound = new ArrayList<>();
    for (BenchGoal g : report.goals()) {
      double r = report.ratio(g);
      if (Double.isNaN(r)) {
        continue;
      }
      labels.add(g.suite() + ": " + shorten(g.variant()) + " / " + shorten(g.baseline()));
      measured.add(r);
      bound.add(g.min());
    }
    if (labels.isEmpty()) {
      return false;
    }
    System.setProperty("java.awt.headless", "true");
    int longest = labels.stream().mapToInt(String::length).max().orElse(10);
    CategoryChart chart = new CategoryChartBuilder().width(Math.max(900, 110 * labels.size())).height(520 + 7 * longest).title(title)
        .xAxisTitle("").yAxisTitle("ratio to the baseline (same run; higher is better)").build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
    chart.getStyler().setXAxisLabelRotation(90); // long labels stay under their own bars
    chart.getStyler().setLabelsVisible(true);
    chart.getStyler().setDecimalPattern("0.00");
    chart.getStyler().setOverlapped(false);
    chart.addSeries("measured", labels, measured);
    chart.addSeries("goal (at least)", labels, bound);
    save(chart, png);
    return true;
  }

  /**
   * A PNG line chart of Delta's MERGE cost per batch against table rows, eventproc's upsert next to
   * the bare MERGE; returns false (and writes nothing) when no point has both figures.
   */
  public static boolean curve(List<DeltaCurveBench.Point> points, long batchKeys, Path png, String title) throws IOException {
    List<Double> rows = new ArrayList<>();
    List<Double> ours = new ArrayList<>();
    List<Double> bare = new ArrayList<>();
    for (DeltaCurveBench.Point p : points) {
      if (!Double.isNaN(p.eventprocSeconds()) && !Double.isNaN(p.bareSeconds())) {
        rows.add(p.tableRows() / 1e6);
        ours.add(p.eventprocSeconds());
        bare.add(p.bareSeconds());
      }
    }
    if (rows.isEmpty()) {
      return false;
    }
    System.setProperty("java.awt.headless", "true");
    XYChart chart = new XYChartBuilder().width(900).height(560).title(title)
        .xAxisTitle("table rows (millions)").yAxisTitle(String.format(Locale.ROOT, "seconds per batch of %,d keys (lower is better)",
            batchKeys)).build();
    chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNW);
    chart.getStyler().setYAxisMin(0.0);
    chart.getStyler().setXAxisMin(0.0);
    chart.addSeries("eventproc upsert (exactly once)", rows, ours);
    chart.addSeries("bare SQL MERGE", rows, bare);
    save(chart, png);
    return true;
  }

  private static void save(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart, Path png) throws IOException {
    Files.createDirectories(png.toAbsolutePath().getParent());
    String base = png.toString().toLowerCase(Locale.ROOT).endsWith(".png") ? png.toString().substring(0, png.toString().length() - 4)
        : png.toString();
    BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
  }

  private static String shorten(String variant) {
    return variant.length() > 38 ? variant.substring(0, 36) + ".." : variant;
  }
}
