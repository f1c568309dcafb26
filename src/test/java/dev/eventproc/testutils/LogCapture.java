package dev.eventproc.testutils;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.Logger;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Captures every log line (all loggers, all levels that are enabled) while open, for "never logged" checks. */
public final class LogCapture extends AbstractAppender implements AutoCloseable {
  private final List<String> lines = new CopyOnWriteArrayList<>();
  private final Logger root;

  public LogCapture() {
    super("capture-" + System.nanoTime(), null, null, true, Property.EMPTY_ARRAY);
    root = (Logger) LogManager.getRootLogger();
    start();
    root.addAppender(this);
  }

  @Override
  public void append(LogEvent event) {
    StringBuilder sb = new StringBuilder(event.getMessage().getFormattedMessage());
    for (Throwable t = event.getThrown(); t != null; t = t.getCause()) {
      sb.append(" | ").append(t);
    }
    lines.add(sb.toString());
  }

  /** Everything logged so far, one string. */
  public String all() {
    return String.join("\n", lines);
  }

  @Override
  public void close() {
    root.removeAppender(this);
    stop();
  }
}
