package dev.eventproc.testutils;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/** Runs a few actions in threads of their own, released at the same moment, as racing writers would. */
public final class Race {
  private Race() {}

  /**
   * Runs each action in its own thread; each first does its {@code prepare} part (e.g. build its batch on a
   * session of its own), then all wait for each other and run their {@code go} part at once. Returns their results in order.
   */
  public static <P, Q, T> List<T> together(List<P> racers, Preparer<P, Q> prepare, Runner<P, Q, T> go) throws Exception {
    CyclicBarrier start = new CyclicBarrier(racers.size());
    ExecutorService pool = Executors.newFixedThreadPool(racers.size());
    try {
      List<Future<T>> futures = new ArrayList<>();
      for (P racer : racers) {
        futures.add(pool.submit((Callable<T>) () -> {
          Q prepared = prepare.prepare(racer);
          start.await();
          return go.run(racer, prepared);
        }));
      }
      List<T> out = new ArrayList<>();
      for (Future<T> f : futures) {
        out.add(f.get(5, TimeUnit.MINUTES));
      }
      return out;
    } finally {
      pool.shutdownNow();
    }
  }

  /** What a racer does before the start. */
  @FunctionalInterface
  public interface Preparer<P, Q> {
    Q prepare(P racer) throws Exception;
  }

  /** What a racer does at the start, given what it prepared. */
  @FunctionalInterface
  public interface Runner<P, Q, T> {
    T run(P racer, Q prepared) throws Exception;
  }
}
