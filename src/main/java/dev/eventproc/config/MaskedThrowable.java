package dev.eventproc.config;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * An exception chain with secrets masked out of its messages, for errors whose causes quote what they
 * were given (pgjdbc's "Unable to parse URL ..." holds the whole URL, password included). A chain whose
 * messages hold nothing to mask is returned as it is; otherwise every link is rebuilt with its message
 * masked and its stack trace kept: an {@link SQLException} stays one (with its SQLState and vendor code),
 * anything else becomes a {@code MaskedThrowable} that names the original class.
 */
public final class MaskedThrowable extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private static final int MAX_DEPTH = 32;

  private final String originalClass;

  private MaskedThrowable(String originalClass, String message, Throwable cause) {
    super(message, cause);
    this.originalClass = originalClass;
  }

  /** The chain of {@code e} with {@code mask} applied to every message. */
  public static Throwable chain(Throwable e, UnaryOperator<String> mask) {
    List<Throwable> links = new ArrayList<>();
    boolean changes = false;
    for (Throwable t = e; t != null && links.size() < MAX_DEPTH && !links.contains(t); t = t.getCause()) {
      links.add(t);
      changes |= t.getMessage() != null && !Objects.equals(mask.apply(t.getMessage()), t.getMessage());
    }
    if (!changes) {
      return e;
    }
    Throwable cause = null;
    for (int i = links.size() - 1; i >= 0; i--) {
      Throwable t = links.get(i);
      String message = t.getMessage() == null ? null : mask.apply(t.getMessage());
      Throwable copy = t instanceof SQLException s ? new SQLException(message, s.getSQLState(), s.getErrorCode(), cause)
          : new MaskedThrowable(t.getClass().getName(), message, cause);
      copy.setStackTrace(t.getStackTrace());
      cause = copy;
    }
    return cause;
  }

  /** The class of the exception this one stands for. */
  public String originalClass() {
    return originalClass;
  }

  @Override
  public String toString() {
    return originalClass + (getMessage() == null ? "" : ": " + getMessage());
  }
}
