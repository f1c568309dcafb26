package dev.eventproc.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Results and goals of one bench run: a table for people, CSV and JSON for machines. */
public final class BenchReport {
  private final List<BenchResult> results = new ArrayList<>();
  private final List<BenchGoal> goals = new ArrayList<>();
  private final List<BenchTarget> targets = new ArrayList<>();
  private final List<String> notes = new ArrayList<>();
  private final List<String> failures = new ArrayList<>();

  public void add(BenchResult r) {
    results.add(r);
  }

  public void goal(BenchGoal g) {
    goals.add(g);
  }

  /** An absolute goal, with its measured value. */
  public void target(BenchTarget t) {
    targets.add(t);
  }

  public List<BenchTarget> targets() {
    return List.copyOf(targets);
  }

  /** A line printed under the table (e.g. why a case did not run). */
  public void note(String line) {
    notes.add(line);
  }

  /** A case that threw: printed under the table, and {@code eventproc bench} exits non-zero. */
  public void fail(String line) {
    failures.add(line);
    note(line);
  }

  /** Whether any case of this report (or of a run it was made from) failed. */
  public boolean failed() {
    return !failures.isEmpty();
  }

  public List<BenchResult> results() {
    return List.copyOf(results);
  }

  public List<BenchGoal> goals() {
    return List.copyOf(goals);
  }

  Optional<BenchResult> find(String suite, String variant) {
    return results.stream().filter(r -> r.suite().equals(suite) && r.variant().equals(variant)).findFirst();
  }

  /** The measured ratio of a goal, or NaN when one side did not run. */
  public double ratio(BenchGoal g) {
    Optional<BenchResult> v = find(g.suite(), g.variant());
    Optional<BenchResult> b = find(g.suite(), g.baseline());
    if (v.isEmpty() || b.isEmpty() || b.get().rowsPerSecond() == 0) {
      return Double.NaN;
    }
    return v.get().rowsPerSecond() / b.get().rowsPerSecond();
  }

  /**
   * One report from several runs of the same cases: each variant's median time (its runs ran
   * interleaved with the other variants', so slow drift of the machine hits all alike).
   */
  public static BenchReport median(List<BenchReport> runs) {
    BenchReport out = new BenchReport();
    BenchReport first = runs.get(0);
    for (BenchResult r : first.results) {
      List<Double> times = new ArrayList<>();
      for (BenchReport run : runs) {
        run.find(r.suite(), r.variant()).ifPresent(x -> times.add(x.seconds()));
      }
      out.add(new BenchResult(r.suite(), r.variant(), r.rows(), middle(times),
          r.note() + (runs.size() > 1 ? " (median of " + times.size() + ")" : "")));
    }
    first.goals.forEach(out::goal);
    for (BenchTarget t : first.targets) {
      List<Double> values = new ArrayList<>();
      for (BenchReport run : runs) {
        run.targets.stream().filter(x -> x.suite().equals(t.suite()) && x.what().equals(t.what()))
            .forEach(x -> values.add(x.measured()));
      }
      out.target(t.withMeasured(middle(values)));
    }
    runs.forEach(run -> run.notes.forEach(n -> {
      if (!out.notes.contains(n)) {
        out.notes.add(n);
      }
    }));
    runs.forEach(run -> out.failures.addAll(run.failures));
    return out;
  }

  /** Judged on the figures as printed (three decimals), so a verdict can be read off the table: 0.699 misses 0.7. */
  static boolean meets(double ratio, double min) {
    return Math.round(ratio * 1000) >= Math.round(min * 1000);
  }

  private static double middle(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n == 0 ? Double.NaN : n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  public String table() {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-10s %-34s %12s %9s %12s  %s%n", "case", "variant", "rows", "seconds", "rows/s", "what"));
    for (BenchResult r : results) {
      sb.append(String.format(Locale.ROOT, "%-10s %-34s %,12d %9.2f %,12.0f  %s%n", r.suite(), r.variant(), r.rows(),
          r.seconds(), r.rowsPerSecond(), r.note()));
    }
    if (!goals.isEmpty()) {
      sb.append(String.format(Locale.ROOT, "%nratios (same run):%n"));
      for (BenchGoal g : goals) {
        double ratio = ratio(g);
        String verdict = Double.isNaN(ratio) ? "not run" : meets(ratio, g.min()) ? "meets" : "MISSES";
        sb.append(String.format(Locale.ROOT, "  %-10s %-34s / %-30s = %6.3fx  goal >= %.3fx  %-7s %s%n", g.suite(), g.variant(),
            g.baseline(), ratio, g.min(), verdict, g.meaning()));
      }
    }
    if (!targets.isEmpty()) {
      sb.append(String.format(Locale.ROOT, "%ntargets (absolute):%n"));
      for (BenchTarget t : targets) {
        String verdict = Double.isNaN(t.measured()) ? "not run" : t.met() ? "meets" : "MISSES";
        sb.append(String.format(Locale.ROOT, "  %-10s %-58s %,14.0f %-9s goal %s %,.0f  %s%n", t.suite(), t.what(), t.measured(),
            t.unit(), t.comparison(), t.bound(), verdict));
      }
    }
    for (String n : notes) {
      sb.append(n).append('\n');
    }
    return sb.toString();
  }

  public void writeCsv(Path file) throws IOException {
    StringBuilder sb = new StringBuilder("suite,variant,rows,seconds,rows_per_second\n");
    for (BenchResult r : results) {
      sb.append(String.format(Locale.ROOT, "%s,%s,%d,%.3f,%.1f%n", r.suite(), r.variant(), r.rows(), r.seconds(), r.rowsPerSecond()));
    }
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  public void writeJson(Path file, String machine) throws IOException {
    StringBuilder sb = new StringBuilder("{\n  \"machine\": \"").append(escape(machine)).append("\",\n  \"results\": [\n");
    for (int i = 0; i < results.size(); i++) {
      BenchResult r = results.get(i);
      sb.append(String.format(Locale.ROOT, "    {\"suite\": \"%s\", \"variant\": \"%s\", \"rows\": %d, \"seconds\": %.3f, "
          + "\"rows_per_second\": %.1f}%s%n", escape(r.suite()), escape(r.variant()), r.rows(), r.seconds(), r.rowsPerSecond(),
          i < results.size() - 1 ? "," : ""));
    }
    sb.append("  ],\n  \"ratios\": [\n");
    for (int i = 0; i < goals.size(); i++) {
      BenchGoal g = goals.get(i);
      double ratio = ratio(g);
      sb.append(String.format(Locale.ROOT, "    {\"suite\": \"%s\", \"variant\": \"%s\", \"baseline\": \"%s\", \"ratio\": %s, \"goal\": %.2f}%s%n",
          escape(g.suite()), escape(g.variant()), escape(g.baseline()), Double.isNaN(ratio) ? "null" : String.format(Locale.ROOT, "%.3f", ratio),
          g.min(), i < goals.size() - 1 ? "," : ""));
    }
    sb.append("  ],\n  \"targets\": [\n");
    for (int i = 0; i < targets.size(); i++) {
      BenchTarget t = targets.get(i);
      sb.append(String.format(Locale.ROOT, "    {\"suite\": \"%s\", \"what\": \"%s\", \"measured\": %s, \"unit\": \"%s\", "
          + "\"bound\": %.1f, \"at_most\": %s, \"strict\": %s, \"met\": %s}%s%n", escape(t.suite()), escape(t.what()),
          Double.isNaN(t.measured()) ? "null" : String.format(Locale.ROOT, "%.1f", t.measured()), escape(t.unit()), t.bound(),
          t.atMost(), t.strict(), t.met(), i < targets.size() - 1 ? "," : ""));
    }
    sb.append("  ]\n}\n");
    Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
  }

  private static String escape(String s) {
    return s.replace("\\", "\\\\").replace("\"", "\\\"");
  }
}
