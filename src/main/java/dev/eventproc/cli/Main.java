package dev.eventproc.cli;

import dev.eventproc.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code eventproc} command line. */
@Command(name = "eventproc", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
    description = "Exactly-once Spark Structured Streaming pipelines: source -> stage -> sink.",
    subcommands = {RunCommand.class, StatusCommand.class, DemoCommand.class, GenerateCommand.class, ReconcileCommand.class,
        BenchCommand.class})
public final class Main implements Runnable {
  /** Exit status for configuration errors. */
  public static final int EXIT_CONFIG = 2;
  /** Exit status for a failed run. */
  public static final int EXIT_FAILED = 1;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    int status = commandLine().execute(args);
    System.out.flush();
    System.err.flush();
    // Spark, Kafka and Hadoop leave non-daemon threads behind: end the JVM explicitly.
    System.exit(status);
  }

  static CommandLine commandLine() {
    CommandLine cl = new CommandLine(new Main());
    cl.setExecutionExceptionHandler((e, line, parsed) -> {
      if (e instanceof ConfigException) {
        line.getErr().println("eventproc: " + redact(line, e.getMessage()));
        return EXIT_CONFIG;
      }
      line.getErr().println("eventproc: failed: " + redact(line, Failures.describe(e)));
      if (Boolean.getBoolean("eventproc.stacktrace")) {
        e.printStackTrace(line.getErr());
      } else {
        line.getErr().println("(run with -Deventproc.stacktrace=true, or see the log, for the stack trace)");
      }
      return EXIT_FAILED;
    });
    return cl;
  }

  /** The secrets of the config the failed command loaded (values from ${env:}/${file:}, secret keys) masked. */
  private static String redact(CommandLine line, String message) {
    String out = message;
    for (Object mixin : line.getMixins().values()) {
      if (mixin instanceof RestrictedOptions r) {
        out = r.redact(out);
      }
    }
    return out;
  }

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  /** The version from the jar manifest, or "dev" when run from classes. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = Main.class.getPackage().getImplementationVersion();
      return new String[] {"eventproc " + (v == null ? "dev" : v)};
    }
  }
}
