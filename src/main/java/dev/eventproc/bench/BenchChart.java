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
    Path parent = png.toAbsolutePath().getParent();
    Files.createDirectories(parent);
    String base = png.toString().toLowerCase(Locale.ROOT).endsWith(".png") ? png.toString().substring(0, png.toString().length() - 4)
        : png.toString();
    BitmapEncoder.saveBitmap(chart, base, BitmapEncoder.BitmapFormat.PNG);
    return true;
  }

  private static String shorten(String variant) {
    return variant.length() > 38 ? variant.substring(0, 36) + ".." : variant;
  }
}
