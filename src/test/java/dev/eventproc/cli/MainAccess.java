package dev.eventproc.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.function.UnaryOperator;
import picocli.CommandLine;

/** Runs a CLI command in the test JVM, as {@code bin/eventproc} would, without exiting the JVM. */
public final class MainAccess {
  private MainAccess() {}

  public static int execute(String... args) {
    return Main.commandLine().execute(args);
  }

  /** What a command printed to stderr, and its exit status. */
  public record Run(int status, String err) {}

  /** Runs a command with stderr captured and the given environment for its restricted-mode options. */
  public static Run run(UnaryOperator<String> env, String... args) {
    CommandLine cl = Main.commandLine();
    StringWriter err = new StringWriter();
    cl.setErr(new PrintWriter(err, true));
    for (CommandLine sub : cl.getSubcommands().values()) {
      if (sub.getMixins().get("restricted") instanceof RestrictedOptions r) {
        r.env = env;
      }
    }
    int status = cl.execute(args);
    return new Run(status, err.toString());
  }
}
