package dev.eventproc.sink.postgres;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Checks a {@code jdbc:postgresql://} URL the way pgjdbc parses it, before pgjdbc sees it: a URL pgjdbc
 * cannot parse makes it log and throw "Unable to parse URL" with the whole URL, password included. The
 * problems found here never quote a parameter's value.
 */
public final class PgUrl {
  static final String PREFIX = "jdbc:postgresql://";

  /** The parameter names of a URL that parses, in order (values URL-decoded, as pgjdbc reads them). */
  public record Parsed(String hosts, String database, Map<String, String> parameters) {}

  private PgUrl() {}

  /** Null when pgjdbc can parse the URL, else what is wrong (without any value of it). */
  public static String problem(String url) {
    try {
      parse(url);
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /**
   * Parses the URL as pgjdbc does: hosts, a '/', the database, then {@code &}-separated parameters whose
   * values are URL-decoded.
   *
   * @throws IllegalArgumentException saying what is wrong, without quoting a value
   */
  public static Parsed parse(String url) {
    if (url == null || !url.startsWith(PREFIX)) {
      throw new IllegalArgumentException("it does not start with " + PREFIX + ".");
    }
    String rest = url.substring(PREFIX.length());
    int q = rest.indexOf('?');
    String main = q < 0 ? rest : rest.substring(0, q);
    int slash = main.indexOf('/');
    if (slash < 0) {
      throw new IllegalArgumentException("it has no '/' and database after the host and port. Write it as "
          + "jdbc:postgresql://HOST:PORT/DATABASE.");
    }
    String hosts = main.substring(0, slash);
    for (String host : hosts.split(",", -1)) {
      int colon = host.lastIndexOf(':');
      if (colon >= 0 && !host.endsWith("]")) {
        String port = host.substring(colon + 1);
        if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
          throw new IllegalArgumentException("a port is not a number from 1 to 65535.");
        }
      }
    }
    String database = decode(main.substring(slash + 1), "the database name");
    Map<String, String> params = new LinkedHashMap<>();
    if (q >= 0) {
      for (String token : rest.substring(q + 1).split("&")) {
        if (token.isEmpty()) {
          continue;
        }
        int eq = token.indexOf('=');
        String name = eq < 0 ? token : token.substring(0, eq);
        params.put(name, eq < 0 ? "" : decode(token.substring(eq + 1), "the value of parameter '" + safeName(name) + "'"));
      }
    }
    return new Parsed(hosts, database, params);
  }

  private static String decode(String text, String what) {
    try {
      return URLDecoder.decode(text, StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(what + " is not URL-encoded: a '%' must be followed by two hex digits (write %25 "
          + "for a '%').", e);
    }
  }

  /** A parameter name as it may be shown: names are not secrets, but a mangled token may hold a value. */
  private static String safeName(String name) {
    return name.matches("[A-Za-z0-9_.-]{1,64}") ? name : "?";
  }
}
