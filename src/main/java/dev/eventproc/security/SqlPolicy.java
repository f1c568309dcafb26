package dev.eventproc.security;

import dev.eventproc.util.Errors;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.catalyst.analysis.UnresolvedFunction;
import org.apache.spark.sql.catalyst.analysis.UnresolvedRelation;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.SparkSqlParser;
import scala.jdk.javaapi.CollectionConverters;

/**
 * The SQL a config may hold in restricted mode, checked on the tree Spark's own parser builds from it (the
 * parser {@code session.sql} and {@code functions.expr} use), before anything runs: a query may read only the
 * view {@code batch} and may only select, filter, join, group, sort and limit; an expression (a delete
 * condition, an aggregate) may use only the batch's columns, literals, operators and the deterministic
 * built-in functions of {@link SqlFunctions}. Everything else is refused: INSERT, DDL and commands, other
 * tables and file readers ({@code text.`/etc/passwd`}), table-valued functions, subqueries, CTEs, lambdas,
 * and {@code ${...}} variable substitution. Both lists are allow-lists: an unknown node is refused.
 */
final class SqlPolicy {
  /** The only relation a query may read: the batch, as the fan-out registers it. */
  static final String BATCH_VIEW = "batch";

  /** Plan nodes a query may contain (simple class names of Spark 3.5's parsed plans). */
  private static final Set<String> PLANS = Set.of("Project", "Filter", "Aggregate", "Sort", "GlobalLimit", "LocalLimit",
      "Offset", "Distinct", "SubqueryAlias", "UnresolvedRelation", "Join", "Union", "Intersect", "Except",
      "WithWindowDefinition", "UnresolvedHaving", "OneRowRelation");

  /** Expression nodes the parser builds for operators and syntax (functions are checked by name). */
  private static final Set<String> EXPRESSIONS = Set.of("Literal", "UnresolvedAttribute", "UnresolvedStar",
      "UnresolvedAlias", "Alias", "UnresolvedFunction", "UnresolvedExtractValue", "Cast", "CaseWhen", "If", "And", "Or",
      "Not", "EqualTo", "EqualNullSafe", "LessThan", "LessThanOrEqual", "GreaterThan", "GreaterThanOrEqual", "In",
      "IsNull", "IsNotNull", "Like", "ILike", "RLike", "LikeAny", "LikeAll", "NotLikeAny", "NotLikeAll", "Add",
      "Subtract", "Multiply", "Divide", "IntegralDivide", "Remainder", "UnaryMinus", "UnaryPositive", "BitwiseAnd",
      "BitwiseOr", "BitwiseXor", "BitwiseNot", "Concat", "StringTrim", "StringTrimLeft", "StringTrimRight",
      "StringTrimBoth", "Substring", "StringLocate", "Overlay", "TimestampAdd", "TimestampDiff", "SortOrder",
      "WindowExpression", "WindowSpecDefinition", "UnspecifiedFrame$", "SpecifiedWindowFrame", "UnboundedPreceding$",
      "UnboundedFollowing$", "CurrentRow$", "UnresolvedWindowExpression", "WindowSpecReference");

  private SqlPolicy() {}

  /** Problems of a query over the view batch ({@code sink.<name>.query}); empty when allowed. */
  static List<String> checkQuery(String sql) {
    List<String> problems = new ArrayList<>();
    if (substitutes(sql, problems)) {
      return problems;
    }
    try {
      plan(parser().parsePlan(sql), problems);
    } catch (Exception e) { // Spark's ParseException is checked in Scala's eyes only
      problems.add(unparsable(e));
    }
    return problems;
  }

  /** Problems of one expression over the batch's columns ({@code delete.condition}, one aggregate); empty when allowed. */
  static List<String> checkExpression(String text) {
    List<String> problems = new ArrayList<>();
    if (substitutes(text, problems)) {
      return problems;
    }
    try {
      expression(parser().parseExpression(text), problems);
    } catch (Exception e) { // as above
      problems.add(unparsable(e));
    }
    return problems;
  }

  private static SparkSqlParser parser() {
    return new SparkSqlParser(); // what a session uses; extensions add statements only, which are refused anyway
  }

  /** Spark replaces {@code ${spark:...}}, {@code ${env:...}}, {@code ${system:...}} in SQL text before parsing it. */
  private static boolean substitutes(String sql, List<String> problems) {
    if (sql.contains("${")) {
      problems.add("uses ${...}, which Spark replaces with settings, environment variables or system properties.");
      return true;
    }
    return false;
  }

  private static void plan(LogicalPlan p, List<String> problems) {
    String node = p.getClass().getSimpleName();
    if (!PLANS.contains(node)) {
      problems.add(describe(node) + " is not allowed: only SELECT over the view " + BATCH_VIEW + " (filter, group, join, "
          + "sort, limit).");
      return;
    }
    if (p instanceof UnresolvedRelation r) {
      List<String> name = CollectionConverters.asJava(r.multipartIdentifier());
      if (name.size() != 1 || !name.get(0).equalsIgnoreCase(BATCH_VIEW)) {
        problems.add("reads " + String.join(".", name) + ": only the view " + BATCH_VIEW + " may be read.");
      }
    }
    for (Expression e : CollectionConverters.asJava(p.expressions())) {
      expression(e, problems);
    }
    for (LogicalPlan child : CollectionConverters.asJava(p.children())) {
      plan(child, problems);
    }
  }

  private static void expression(Expression e, List<String> problems) {
    String node = e.getClass().getSimpleName();
    if (!EXPRESSIONS.contains(node)) {
      problems.add(describe(node) + " is not allowed: use the batch's columns, literals, operators and the built-in "
          + "functions README lists for restricted mode.");
      return;
    }
    if (e instanceof UnresolvedFunction f) {
      List<String> name = CollectionConverters.asJava(f.nameParts());
      String n = String.join(".", name).toLowerCase(Locale.ROOT);
      if (name.size() != 1 || !SqlFunctions.ALLOWED.contains(n)) {
        problems.add("function " + n + " is not allowed: only the deterministic built-in functions README lists for "
            + "restricted mode.");
      }
    }
    for (Expression child : CollectionConverters.asJava(e.children())) {
      expression(child, problems);
    }
  }

  /** A node class as people know it. */
  private static String describe(String node) {
    return switch (node) {
      case "InsertIntoStatement" -> "INSERT";
      case "UnresolvedTableValuedFunction" -> "a table-valued function";
      case "UnresolvedWith" -> "WITH (a common table expression)";
      case "ScalarSubquery", "Exists", "ListQuery", "InSubquery", "LateralSubquery" -> "a subquery";
      case "LambdaFunction", "UnresolvedNamedLambdaVariable" -> "a lambda";
      default -> node.endsWith("Command") || node.endsWith("Statement") ? "a command (" + node + ")" : node.replace("$", "");
    };
  }

  private static String unparsable(Exception e) {
    return "is not Spark SQL: " + Errors.summary(e);
  }
}
