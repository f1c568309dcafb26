package dev.eventproc.bench;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The variants of one bench case, run in ABBA order over the repeats (run 0 forwards, runs 1 and 2
 * backwards, run 3 forwards, ...), so a machine that warms up, fills its page cache or accumulates
 * garbage over a run does not favour whichever variant always comes first or last.
 */
public final class Variants {
  /** One variant's work: it times itself and adds its results to the report. */
  @FunctionalInterface
  public interface Variant {
    void run() throws Exception;
  }

  private final boolean backwards;
  private final List<String> names = new ArrayList<>();
  private final List<Variant> steps = new ArrayList<>();

  private Variants(boolean backwards) {
    this.backwards = backwards;
  }

  /** The variants of run {@code run} (0-based) of a repeated bench. */
  public static Variants forRun(int run) {
    int phase = Math.floorMod(run, 4);
    return new Variants(phase == 1 || phase == 2);
  }

  /** How the order alternates, as the report says it. */
  public static String describe(int repeats) {
    return repeats <= 1 ? "variants in their listed order (one run)"
        : "variants alternate order between runs (ABBA: forwards, backwards, backwards, forwards, ...)";
  }

  /** Adds a variant; variants run in the order added, or reversed. */
  public Variants add(String name, Variant variant) {
    names.add(name);
    steps.add(variant);
    return this;
  }

  /** Runs every variant in this run's order; the first failure stops the case. */
  public void runAll() throws Exception {
    List<Variant> order = new ArrayList<>(steps);
    if (backwards) {
      Collections.reverse(order);
    }
    for (Variant v : order) {
      v.run();
    }
  }

  /** Same as {@link #runAll()}, for callers that cannot throw checked exceptions. */
  public void runAllUnchecked() {
    try {
      runAll();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
