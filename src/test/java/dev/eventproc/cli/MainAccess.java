package dev.eventproc.cli;

/** Runs a CLI command in the test JVM, as {@code bin/eventproc} would, without exiting the JVM. */
public final class MainAccess {
  private MainAccess() {}

  public static int execute(String... args) {
    return Main.commandLine().execute(args);
  }
}
