package dev.eventproc.testutils;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The executor JVMs of a child pipeline that runs on Spark's {@code local-cluster} master (each a
 * process of its own under a standalone worker, as on a cluster), found by a marker on their command
 * line, and the Spark home their launcher needs.
 */
public final class LocalClusterExecutors {
  /** What {@code FaultInjection} prints to a JVM's stderr when it holds a task at a fault point. */
  public static final String PAUSED = "pausing until killed";

  private final Path sparkHome;
  private final String marker;

  /** Executors whose command line carries {@code -Deventproc.test.run=<marker>}, launched from {@code sparkHome}. */
  public LocalClusterExecutors(Path sparkHome, String marker) {
    this.sparkHome = sparkHome;
    this.marker = marker;
  }

  /**
   * A Spark home as Spark's launcher reads it: {@code jars/} with every dependency jar (links to
   * Maven's dependency list), in a new directory.
   */
  public static Path sparkHome() throws IOException {
    Path home = TestSpark.newDir("spark-home");
    Path jars = Files.createDirectories(home.resolve("jars"));
    Set<String> names = new HashSet<>();
    for (Path jar : ChildPipeline.dependencyJars()) {
      if (Files.isRegularFile(jar) && jar.toString().endsWith(".jar")) {
        String name = jar.getFileName().toString();
        Files.createSymbolicLink(jars.resolve(names.add(name) ? name : names.size() + "-" + name), jar);
      }
    }
    Files.writeString(home.resolve("RELEASE"), "Spark 3.5 home for eventproc's executor-loss test (jars/ links Maven's dependency list)\n");
    return home;
  }

  /** Environment of the driver: the Spark home its executors are launched from. */
  public Map<String, String> driverEnvironment() {
    return Map.of("SPARK_HOME", sparkHome.toString(), "SPARK_SCALA_VERSION", "2.13");
  }

  /** The JVM flag that marks this test's executors, for {@code spark.executor.extraJavaOptions}. */
  public String markerFlag() {
    return "-Deventproc.test.run=" + marker;
  }

  /** The live executor JVMs of this test's pipeline. */
  public List<ProcessHandle> live() {
    return ProcessHandle.allProcesses().filter(p -> {
      String cmd = p.info().commandLine().orElse("");
      return cmd.contains("CoarseGrainedExecutorBackend") && cmd.contains(markerFlag());
    }).toList();
  }

  /** Live executors whose stderr (the worker keeps it at {@code work/APP/EXECUTOR/stderr}) holds {@code text}. */
  public List<ProcessHandle> logging(String text) {
    List<ProcessHandle> out = new ArrayList<>();
    for (ProcessHandle p : live()) {
      if (stderr(p).contains(text)) {
        out.add(p);
      }
    }
    return out;
  }

  /** An executor's stderr so far ("" when it cannot be read yet). */
  public String stderr(ProcessHandle executor) {
    List<String> args = List.of(executor.info().arguments().orElse(new String[0]));
    int app = args.indexOf("--app-id");
    int id = args.indexOf("--executor-id");
    if (app < 0 || id < 0) {
      return "";
    }
    Path file = sparkHome.resolve("work").resolve(args.get(app + 1)).resolve(args.get(id + 1)).resolve("stderr");
    try {
      return Files.exists(file) ? Files.readString(file) : "";
    } catch (IOException e) {
      return ""; // being written; read it next time
    }
  }
}
