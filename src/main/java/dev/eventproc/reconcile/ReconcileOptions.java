package dev.eventproc.reconcile;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import java.io.Serializable;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The {@code reconcile.*} keys: what {@code eventproc reconcile} compares the sinks with, beyond the
 * checks it runs on every sink (duplicate keys, rows vs distinct keys, commit continuity).
 *
 * <p>{@code reconcile.source.table}: a table holding the events the pipeline read (a topic dump, a
 * staging table), as {@code schema.table} on a PostgreSQL sink's server, or a Spark table name for
 * the other sinks; or {@code reconcile.source.path} with {@code reconcile.source.format} (parquet,
 * delta, json) for Spark. With it: {@code reconcile.amount.column} enables the source-vs-sink check,
 * and {@code reconcile.time.column}, {@code reconcile.from} and {@code reconcile.to} (days,
 * {@code YYYY-MM-DD}, to excluded) the daily totals.
 *
 * <p>{@code reconcile.accept.gaps}: batch ids and ranges ({@code 12-40,77}) whose absence from a sink's
 * commit records the continuity checks accept (they PASS and are listed in detail). Every sink but
 * Kafka records every batch, empty ones included, unless its {@code record.empty.batches} is false,
 * so any other gap FAILs: accept only gaps known to be harmless, such as batches an earlier
 * eventproc left unrecorded because they were empty.
 */
public record ReconcileOptions(List<String> sourceTable, String sourcePath, String sourceFormat, String timeColumn,
    String amountColumn, String from, String to, String acceptGaps) implements Serializable {
  public static final String SOURCE_TABLE = "reconcile.source.table";
  public static final String SOURCE_PATH = "reconcile.source.path";
  public static final String SOURCE_FORMAT = "reconcile.source.format";
  public static final String TIME_COLUMN = "reconcile.time.column";
  public static final String AMOUNT_COLUMN = "reconcile.amount.column";
  public static final String FROM = "reconcile.from";
  public static final String TO = "reconcile.to";
  public static final String ACCEPT_GAPS = "reconcile.accept.gaps";
  private static final Pattern GAPS = Pattern.compile("([0-9]{1,18}(-[0-9]{1,18})?)(,[0-9]{1,18}(-[0-9]{1,18})?)*");
  private static final List<String> FORMATS = List.of("parquet", "delta", "json");

  public static ReconcileOptions read(ConfigReader r) {
    List<String> table = r.qualifiedName(SOURCE_TABLE);
    String path = r.path(SOURCE_PATH, null);
    String format = r.string(SOURCE_FORMAT, path == null ? null : "parquet");
    if (table != null && path != null) {
      r.problem(SOURCE_PATH, "and " + SOURCE_TABLE + " are both set. Keep one.");
    }
    if (format != null && !FORMATS.contains(format)) {
      r.problem(SOURCE_FORMAT, "'" + format + "' is not one of " + String.join(", ", FORMATS) + ".");
    }
    String time = r.identifier(TIME_COLUMN);
    String amount = r.identifier(AMOUNT_COLUMN);
    String from = date(r, FROM);
    String to = date(r, TO);
    boolean anyDaily = time != null || from != null || to != null;
    if (anyDaily && (time == null || from == null || to == null || amount == null)) {
      r.problem(time == null ? TIME_COLUMN : from == null ? FROM : to == null ? TO : AMOUNT_COLUMN,
          "daily totals need " + TIME_COLUMN + ", " + AMOUNT_COLUMN + ", " + FROM + " and " + TO + " together.");
    }
    if ((anyDaily || amount != null) && table == null && path == null) {
      r.problem(SOURCE_TABLE, "is required to compare the sink with its source (" + AMOUNT_COLUMN + " is set).");
    }
    if (from != null && to != null && from.compareTo(to) >= 0) {
      r.problem(TO, to + " must be after " + FROM + " (" + from + "); the range is [from, to).");
    }
    return new ReconcileOptions(table, path, format, time, amount, from, to, acceptGaps(r));
  }

  /** The accepted gaps without blanks, or "" for none; each range from low to high. */
  private static String acceptGaps(ConfigReader r) {
    String v = r.string(ACCEPT_GAPS, "");
    String compact = v.replaceAll("\\s+", "");
    if (!GAPS.matcher(compact).matches()) {
      if (!compact.isEmpty()) {
        r.problem(ACCEPT_GAPS, "'" + v + "' is not a list of batch ids and ranges. Write e.g. 12-40,77.");
      }
      return "";
    }
    for (String range : compact.split(",")) {
      String[] ends = range.split("-");
      if (ends.length == 2 && Long.parseLong(ends[0]) > Long.parseLong(ends[1])) {
        r.problem(ACCEPT_GAPS, "range " + range + " runs backwards. Write the lower batch id first.");
      }
    }
    return compact;
  }

  private static String date(ConfigReader r, String key) {
    String v = r.string(key, null);
    if (v == null) {
      return null;
    }
    try {
      return LocalDate.parse(v).toString();
    } catch (DateTimeParseException e) {
      r.problem(key, "'" + v + "' is not a date. Write YYYY-MM-DD, e.g. 2026-01-31.");
      return null;
    }
  }

  public boolean hasSource() {
    return sourceTable != null || sourcePath != null;
  }

  public boolean dailyTotals() {
    return hasSource() && timeColumn != null && from != null && to != null && amountColumn != null;
  }

  /** The source as Spark SQL names it, quoted. */
  public String sparkSource() {
    return sourceTable != null ? Identifiers.quoteSparkQualified(sourceTable)
        : sourceFormat + "." + Identifiers.quoteSparkPath(sourcePath);
  }
}
