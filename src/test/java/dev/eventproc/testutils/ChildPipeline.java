package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.FaultInjection;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code eventproc run --config FILE} in a child JVM, as a user would, so a test can kill it for
 * real: at a named fault point ({@code Runtime.halt} inside the commit protocol) or with SIGKILL at
 * any moment, then restart it on the same checkpoint.
 */
public final class ChildPipeline {
  private static final Path ROOT = Path.of("").toAbsolutePath();

  private final Path config;
  private final Path logDir;
  private final Map<String, String> environment = new java.util.HashMap<>();
  private int runs;

  public ChildPipeline(Path config) {
    this.config = config;
    this.logDir = config.getParent();
  }

  /** Sets environment variables of the child's later runs (e.g. {@code SPARK_HOME}); returns this. */
  public ChildPipeline environment(Map<String, String> variables) {
    environment.putAll(variables);
    return this;
  }

  /** Writes a properties file. */
  public static Path writeConfig(Path file, Map<String, String> keys) {
    StringBuilder sb = new StringBuilder();
    keys.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  /** Starts the child; {@code fault} is a {@link FaultInjection} spec or null. */
  public Process start(String fault) {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(Arrays.asList(System.getProperty("eventproc.test.jvmFlags", "").trim().split("\\s+")));
    cmd.addAll(List.of("-Xmx768m", "-XX:+UseParallelGC", "-XX:TieredStopAtLevel=1",
        "-Dlog4j2.configurationFile=" + ROOT.resolve("bin/log4j2.properties")));
    if (fault != null) {
      cmd.add("-D" + FaultInjection.PROPERTY + "=" + fault);
    }
    cmd.addAll(List.of("-cp", classpath(), "dev.eventproc.cli.Main", "run", "--config", config.toString()));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(logDir.resolve("child-" + (++runs) + ".log").toFile());
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().putAll(environment);
    try {
      return pb.start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Runs the child to its end and returns its exit status. */
  public int run(String fault, Duration timeout) {
    Process p = start(fault);
    try {
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly().waitFor();
        throw new AssertionError("child pipeline did not end within " + timeout + "; log: " + lastLog());
      }
      return p.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** Runs with a fault and checks that the fault, not something else, ended the child. */
  public void runUntilFault(String fault, Duration timeout) {
    int status = run(fault, timeout);
    assertThat(status).as("exit status of the child with fault %s; log:\n%s", fault, tail())
        .isEqualTo(FaultInjection.HALT_STATUS);
    assertThat(log()).contains("injected fault " + fault);
  }

  /** Runs to completion (trigger=available-now) and checks it succeeded. */
  public void runToEnd(Duration timeout) {
    int status = run(null, timeout);
    assertThat(status).as("exit status of the child; log:\n%s", tail()).isZero();
  }

  /** SIGKILL (kill -9) of a running child. */
  public static void kill9(Process p) {
    p.destroyForcibly();
    try {
      p.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  public Path lastLog() {
    return logDir.resolve("child-" + runs + ".log");
  }

  /** How many times the child was started: the number of its latest run (and log). */
  public int runs() {
    return runs;
  }

  /** The log of the latest run. */
  public String log() {
    return log(runs);
  }

  /** The log of run {@code run} (1 for the first), as far as it is written. */
  public String log(int run) {
    try {
      return Files.readString(logDir.resolve("child-" + run + ".log"), StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  public String tail() {
    String s = log();
    return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
  }

  /** The classpath of the pipeline's dependencies (Maven's list, without this project's classes). */
  public static List<Path> dependencyJars() {
    Path file = ROOT.resolve("target/eventproc.classpath");
    try {
      List<Path> out = new ArrayList<>();
      for (String entry : Files.readString(file).trim().split(java.io.File.pathSeparator)) {
        if (!entry.isBlank()) {
          out.add(Path.of(entry));
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("target/eventproc.classpath is missing: run the tests through Maven", e);
    }
  }

  /** This project's compiled classes. */
  public static Path classesDir() {
    return ROOT.resolve("target/classes");
  }

  private static String classpath() {
    Path file = ROOT.resolve("target/eventproc.classpath");
    try {
      return ROOT.resolve("target/classes") + java.io.File.pathSeparator + Files.readString(file).trim();
    } catch (IOException e) {
      throw new UncheckedIOException("target/eventproc.classpath is missing: run the tests through Maven", e);
    }
  }
}
