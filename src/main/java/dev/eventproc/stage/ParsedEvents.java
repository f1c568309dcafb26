package dev.eventproc.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import dev.eventproc.config.Identifiers;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;

/**
 * Parsed events, valid and quarantined together, so one query (one checkpoint, one batch id) carries
 * both and a batch's accounting closes: input = written + duplicates dropped + late dropped +
 * quarantined.
 *
 * <p>A pipeline's dedupe stages take {@link #all()} and let quarantined rows pass through them
 * untouched and without state (see {@link PipelineStage}): the source is read once per batch.
 * {@link #withQuarantine(Dataset)} is the fallback for a stage that cannot pass rows through (it
 * unions the quarantined rows back, which makes Spark read the source twice per batch).
 */
public final class ParsedEvents {
  /** Set on quarantined rows inside a stage: a unique id (the source position and a UUID), a group of its own. */
  public static final String PASS_THROUGH_ID = "_eventproc_pass_through";
  /**
   * Set by a stage on accounting rows only (all other columns null): how many input rows it dropped
   * as duplicates in that spot. Such rows are counted and removed before any sink sees the batch.
   */
  public static final String DROPPED = "_eventproc_dropped";

  private final Dataset<Row> all;
  private final StructType schema;
  private final List<String> keyColumns;
  private final String eventTimeColumn;

  ParsedEvents(Dataset<Row> all, StructType schema, List<String> keyColumns, String eventTimeColumn) {
    this.all = all;
    this.schema = schema;
    this.keyColumns = List.copyOf(keyColumns);
    this.eventTimeColumn = eventTimeColumn;
  }

  /** Every input row: the schema's columns plus {@code quarantine_reason}, {@code raw_value}, {@code source_position}. */
  public Dataset<Row> all() {
    return all;
  }

  /** Rows that parsed, with a key and (when configured) a usable event time: the schema's columns only. */
  public Dataset<Row> valid() {
    return all.filter(col(EventStream.REASON).isNull()).select(schemaColumns());
  }

  /** Rows that did not: {@code quarantine_reason}, {@code raw_value}, {@code source_position}. */
  public Dataset<Row> quarantined() {
    return quarantineColumns(all.filter(col(EventStream.REASON).isNotNull()));
  }

  /** The stage's output with the quarantined rows added (their other columns null). */
  public Dataset<Row> withQuarantine(Dataset<Row> staged) {
    return staged.unionByName(quarantined(), true);
  }

  public StructType schema() {
    return schema;
  }

  public List<String> keyColumns() {
    return keyColumns;
  }

  public String eventTimeColumn() {
    return eventTimeColumn;
  }

  private Column[] schemaColumns() {
    return Arrays.stream(schema.fieldNames()).map(n -> col("`" + n.replace("`", "``") + "`"))
        .toArray(Column[]::new);
  }

  /** Of a batch that went through {@link #withQuarantine}: the rows for the main sink, without quarantine columns. */
  public static Dataset<Row> mainRows(Dataset<Row> batch) {
    Dataset<Row> valid = batch.filter(col(EventStream.REASON).isNull());
    if (hasDropCounts(batch)) {
      valid = valid.filter(col(DROPPED).isNull());
    }
    return valid.drop(EventStream.REASON, EventStream.RAW, EventStream.POSITION, PASS_THROUGH_ID, DROPPED);
  }

  /** Whether the batch carries a stage's accounting rows ({@link #DROPPED}). */
  public static boolean hasDropCounts(Dataset<Row> batch) {
    return Arrays.asList(batch.columns()).contains(DROPPED);
  }

  /** Rows the stage dropped as duplicates in this batch, from its accounting rows (0 when it has none). */
  public static long droppedCount(Dataset<Row> batch) {
    if (!hasDropCounts(batch)) {
      return 0;
    }
    Row r = batch.agg(sum(col(DROPPED))).first();
    return r.isNullAt(0) ? 0 : r.getLong(0);
  }

  /**
   * A batch's counts: its quarantined rows ({@link #quarantineRows}), the rows its sinks take
   * ({@link #mainRows}) and the duplicates its stage dropped ({@link #droppedCount}); and of the first two,
   * the rows with a null in one of the given key columns.
   */
  public record Census(long quarantined, long quarantinedNullKeys, long main, long mainNullKeys, long dropped) {}

  /**
   * {@link Census} of a batch in one Spark job (where each count alone would be a job).
   *
   * @param mainKeys the main sink's key columns (those not in the batch are left out)
   * @param quarantineKeys the quarantine sink's key columns (likewise)
   */
  public static Census census(Dataset<Row> batch, List<String> mainKeys, List<String> quarantineKeys) {
    boolean drops = hasDropCounts(batch);
    Column quarantined = col(EventStream.REASON).isNotNull();
    Column main = drops ? col(EventStream.REASON).isNull().and(col(DROPPED).isNull()) : col(EventStream.REASON).isNull();
    Row r = batch.agg(count(when(quarantined, 1)), count(when(quarantined.and(anyNull(batch, quarantineKeys)), 1)),
        count(when(main, 1)), count(when(main.and(anyNull(batch, mainKeys)), 1)), drops ? sum(col(DROPPED)) : lit(0L)).first();
    return new Census(r.getLong(0), r.getLong(1), r.getLong(2), r.getLong(3), r.isNullAt(4) ? 0 : r.getLong(4));
  }

  /** Whether a row has a null in one of {@code columns} that the batch has. */
  private static Column anyNull(Dataset<Row> batch, List<String> columns) {
    List<String> present = Arrays.asList(batch.columns());
    Column out = lit(false);
    for (String c : columns) {
      if (present.contains(c)) {
        out = out.or(col(Identifiers.quoteSpark(c)).isNull());
      }
    }
    return out;
  }

  /** Of a batch that went through {@link #withQuarantine}: the quarantined rows. */
  public static Dataset<Row> quarantineRows(Dataset<Row> batch) {
    return quarantineColumns(batch.filter(col(EventStream.REASON).isNotNull()));
  }

  private static Dataset<Row> quarantineColumns(Dataset<Row> rows) {
    return rows.select(col(EventStream.REASON), col(EventStream.RAW), col(EventStream.POSITION));
  }
}
