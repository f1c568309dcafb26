package dev.eventproc.cli;

import dev.eventproc.config.EventprocConfig;
import dev.eventproc.util.Errors;
import java.util.LinkedHashSet;
import java.util.Set;

/** Turns an exception chain into one readable line for people, with passwords in URLs masked. */
final class Failures {
  private Failures() {}

  static String describe(Throwable e) {
    Set<String> parts = new LinkedHashSet<>();
    for (Throwable t = e; t != null && parts.size() < 4; t = t.getCause() == t ? null : t.getCause()) {
      String m = t.getMessage();
      // Drivers quote whole URLs in their messages (pgjdbc's "Unable to parse URL ..."), passwords included.
      String line = m == null ? t.getClass().getSimpleName() : EventprocConfig.maskUrlPassword(Errors.firstLine(m));
      if (parts.stream().noneMatch(p -> p.contains(line))) {
        parts.add(line);
      }
    }
    return String.join(" <- ", parts);
  }

}
