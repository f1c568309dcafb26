package dev.eventproc.config;

import java.util.List;

/**
 * Configuration that cannot work. Thrown once, at start, listing every problem found; each problem
 * names the key, shows the value and says what to do about it.
 */
public final class ConfigException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final List<String> problems;

  public ConfigException(List<String> problems) {
    super(render(problems));
    this.problems = List.copyOf(problems);
  }

  public ConfigException(String problem) {
    this(List.of(problem));
  }

  /** The individual problems, each starting with the key it is about. */
  public List<String> problems() {
    return problems;
  }

  private static String render(List<String> problems) {
    if (problems.size() == 1) {
      return "Invalid configuration: " + problems.get(0);
    }
    StringBuilder sb = new StringBuilder("Invalid configuration (" + problems.size() + " problems):");
    for (String p : problems) {
      sb.append("\n  - ").append(p);
    }
    return sb.toString();
  }
}
