package dev.eventproc.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Samples this JVM's heap in use and the process's resident memory (which includes native memory
 * such as RocksDB's) every 100 ms and keeps the peaks. In Spark's local mode the driver and the
 * executors are this one JVM, so these peaks are theirs together.
 */
final class MemorySampler implements AutoCloseable {
  private static final Path STATUS = Path.of("/proc/self/status");
  private final AtomicLong peakHeap = new AtomicLong();
  private final AtomicLong peakResident = new AtomicLong(-1);
  private final Thread thread;
  private volatile boolean running = true;

  private MemorySampler() {
    thread = new Thread(this::loop, "eventproc-bench-memory");
    thread.setDaemon(true);
  }

  static MemorySampler start() {
    MemorySampler s = new MemorySampler();
    s.sample();
    s.thread.start();
    return s;
  }

  long peakHeapBytes() {
    return peakHeap.get();
  }

  /** Peak resident set size in bytes, or -1 where {@code /proc} is not available. */
  long peakResidentBytes() {
    return peakResident.get();
  }

  /** The heap in use right after a full collection: what stays live. */
  static long liveHeapAfterGc() {
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private void loop() {
    while (running) {
      sample();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  private void sample() {
    peakHeap.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(), Math::max);
    peakResident.accumulateAndGet(residentBytes(), Math::max);
  }

  private static long residentBytes() {
    try {
      for (String line : Files.readAllLines(STATUS)) {
        if (line.startsWith("VmRSS:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // not Linux: no resident figure
    }
    return -1;
  }

  @Override
  public void close() throws InterruptedException {
    running = false;
    thread.interrupt();
    thread.join();
    sample();
  }
}
