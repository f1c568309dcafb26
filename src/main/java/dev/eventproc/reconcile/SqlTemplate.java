package dev.eventproc.reconcile;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.Identifiers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A reconciliation check file of {@code sql/}, bound the way {@code psql -v} or {@code spark-sql -d}
 * would bind it, but safely: identifiers are validated and quoted, literal values become JDBC
 * parameters (PostgreSQL) or escaped literals (Spark, whose 3.5 SQL cannot bind parameters in every
 * place these files use them), and table references are ones eventproc built with its own quoting.
 *
 * <p>PostgreSQL files: {@code :"name"} is an identifier, {@code :'name'} a literal; psql meta-command
 * lines (starting with a backslash) are dropped. Spark files: {@code ${name}} written inside
 * backticks is an identifier, inside single quotes a literal, anywhere else a table reference.
 */
public final class SqlTemplate {
  private final String name;
  private final String text;

  private SqlTemplate(String name, String text) {
    this.name = name;
    this.text = text;
  }

  /** Loads {@code sql/<path>} from the classpath (the jar ships the {@code sql/} directory). */
  public static SqlTemplate load(String path) {
    String resource = "sql/" + path;
    try (InputStream in = SqlTemplate.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("check file " + resource + " is not on the classpath");
      }
      return new SqlTemplate(path, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + resource + ": " + e, e);
    }
  }

  static SqlTemplate of(String name, String text) {
    return new SqlTemplate(name, text);
  }

  public String name() {
    return name;
  }

  /** PostgreSQL statement text and its JDBC parameters, in order. */
  public record Bound(String sql, List<String> parameters) {}

  /** Binds a PostgreSQL file, statement by statement: {@code :"x"} quoted identifiers, {@code :'x'} JDBC parameters. */
  public List<Bound> bindPostgres(Map<String, String> values) {
    StringBuilder kept = new StringBuilder();
    for (String line : text.split("\n", -1)) {
      if (!line.stripLeading().startsWith("\\")) {
        kept.append(line).append('\n'); // psql meta-commands are dropped
      }
    }
    List<Bound> out = new ArrayList<>();
    for (String statement : split(kept.toString())) {
      out.add(bindPostgresStatement(statement, values));
    }
    return out;
  }

  private Bound bindPostgresStatement(String text, Map<String, String> values) {
    StringBuilder sql = new StringBuilder();
    List<String> params = new ArrayList<>();
    for (String line : text.split("\n", -1)) {
      if (line.stripLeading().startsWith("\\")) {
        continue; // psql meta-command
      }
      int i = 0;
      while (i < line.length()) {
        char c = line.charAt(i);
        if (c == '-' && line.startsWith("--", i)) {
          sql.append(line, i, line.length());
          break;
        }
        if (c == ':' && i + 1 < line.length() && (line.charAt(i + 1) == '"' || line.charAt(i + 1) == '\'')
            && (i == 0 || line.charAt(i - 1) != ':')) {
          char q = line.charAt(i + 1);
          int end = line.indexOf(q, i + 2);
          String var = line.substring(i + 2, end);
          String value = value(values, var);
          if (q == '"') {
            sql.append(Identifiers.quotePostgres(identifier(var, value)));
          } else {
            sql.append('?');
            params.add(value);
          }
          i = end + 1;
          continue;
        }
        sql.append(c);
        i++;
      }
      sql.append('\n');
    }
    String out = sql.toString().trim();
    if (out.endsWith(";")) {
      out = out.substring(0, out.length() - 1);
    }
    return new Bound(out, params);
  }

  /**
   * Binds a Spark file. {@code tables} hold table references eventproc built (already quoted);
   * {@code values} identifiers and literals.
   */
  public List<String> bindSpark(Map<String, String> tables, Map<String, String> values) {
    List<String> out = new ArrayList<>();
    for (String statement : split(text)) {
      out.add(bindSparkStatement(statement, tables, values));
    }
    return out;
  }

  private String bindSparkStatement(String text, Map<String, String> tables, Map<String, String> values) {
    StringBuilder out = new StringBuilder();
    boolean inLiteral = false;
    boolean inBackticks = false;
    int i = 0;
    while (i < text.length()) {
      char c = text.charAt(i);
      if (!inLiteral && !inBackticks && c == '-' && text.startsWith("--", i)) {
        int eol = text.indexOf('\n', i);
        i = eol < 0 ? text.length() : eol;
        continue;
      }
      if (c == '\'' && !inBackticks) {
        inLiteral = !inLiteral;
      } else if (c == '`' && !inLiteral) {
        inBackticks = !inBackticks;
      }
      if (c == '$' && text.startsWith("${", i)) {
        int end = text.indexOf('}', i);
        String var = text.substring(i + 2, end);
        boolean wholeIdentifier = inBackticks && text.charAt(i - 1) == '`' && end + 1 < text.length() && text.charAt(end + 1) == '`';
        String v;
        if (inLiteral) {
          String raw = tables.containsKey(var) ? tables.get(var) : value(values, var);
          v = raw.replace("\\", "\\\\").replace("'", "\\'");
        } else if (wholeIdentifier) {
          v = identifier(var, value(values, var));
        } else if (inBackticks) {
          // Part of a quoted name or path, as in `${table_path}/_delta_log`: anything but a backtick.
          v = value(values, var);
          if (v.indexOf('`') >= 0 || v.chars().anyMatch(Character::isISOControl)) {
            throw new ConfigException(name + ": parameter " + var + "='" + v + "' cannot be quoted (backtick or control character).");
          }
        } else if (tables.containsKey(var)) {
          v = tables.get(var);
        } else {
          throw new IllegalStateException(name + ": ${" + var + "} is used as a table reference but no table was given for it");
        }
        out.append(v);
        i = end + 1;
        continue;
      }
      out.append(c);
      i++;
    }
    return out.toString().trim();
  }

  /** Statements of a script: split at semicolons outside quotes, backticks and comments; blank ones dropped. */
  static List<String> split(String script) {
    List<String> out = new ArrayList<>();
    StringBuilder current = new StringBuilder();
    char quote = 0;
    boolean comment = false;
    for (int i = 0; i < script.length(); i++) {
      char c = script.charAt(i);
      if (comment) {
        comment = c != '\n';
      } else if (quote != 0) {
        if (c == quote) {
          quote = 0;
        }
      } else if (c == '-' && script.startsWith("--", i)) {
        comment = true;
      } else if (c == '\'' || c == '"' || c == '`') {
        quote = c;
      } else if (c == ';') {
        addStatement(out, current);
        current.setLength(0);
        continue;
      }
      current.append(c);
    }
    addStatement(out, current);
    return out;
  }

  private static void addStatement(List<String> out, StringBuilder statement) {
    String s = statement.toString().trim();
    boolean onlyComments = s.lines().allMatch(l -> l.isBlank() || l.stripLeading().startsWith("--"));
    if (!s.isEmpty() && !onlyComments) {
      out.add(s);
    }
  }

  private String value(Map<String, String> values, String var) {
    String v = values.get(var);
    if (v == null) {
      throw new IllegalStateException(name + ": no value for parameter '" + var + "'");
    }
    return v;
  }

  private String identifier(String var, String value) {
    if (!Identifiers.isPlain(value)) {
      throw new ConfigException(name + ": parameter " + var + "='" + value + "' is not a plain identifier. " + Identifiers.RULE);
    }
    return value;
  }
}
