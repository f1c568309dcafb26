package dev.eventproc.sink;

import dev.eventproc.config.Identifiers;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Schema evolution of a lakehouse table (Delta, Iceberg) through Spark SQL, before a batch is written:
 * {@code ALTER TABLE ... ADD COLUMNS} for the batch's new columns, {@code ALTER TABLE ... ALTER COLUMN
 * ... TYPE} for a widened type where the format widens in place ({@link SparkTable#canWiden}). The
 * statements come from the table's current schema, so a second run finds nothing to do: a crash between
 * the schema change and the batch's commit replays cleanly. Key and version columns are never altered.
 */
final class SparkTableEvolution {
  private static final Logger LOG = LoggerFactory.getLogger(SparkTableEvolution.class);

  private SparkTableEvolution() {}

  /**
   * Evolves an existing table to the batch's schema, or fails showing the DDL when the sink may not; returns
   * whether it changed the table.
   */
  static boolean evolve(SparkSession session, SparkTable table, StructType batch, SinkSpec spec) {
    if (!table.exists(session)) {
      return false;
    }
    SchemaChange change = SchemaChange.between(table.read(session).schema(), batch, fixedColumns(spec));
    List<String> refusals = refusals(spec, table, change);
    if (!refusals.isEmpty()) {
      throw new IllegalStateException(String.join("; ", refusals) + ".");
    }
    List<String> ddl = new ArrayList<>();
    for (SchemaChange.Added a : change.added()) {
      ddl.add("ALTER TABLE " + table.ddlRef() + " ADD COLUMNS (" + Identifiers.quoteSpark(a.field().name()) + " "
          + a.field().dataType().sql() + ")");
    }
    for (SchemaChange.Widened w : change.widened()) {
      ddl.add("ALTER TABLE " + table.ddlRef() + " ALTER COLUMN " + Identifiers.quoteSpark(w.name()) + " TYPE " + w.to().sql());
    }
    if (ddl.isEmpty()) {
      return false;
    }
    if (!spec.schemaEvolution()) {
      throw new IllegalStateException("sink " + spec.name() + ": table " + table.describe() + " lacks column(s) of the batch "
          + "or holds a narrower type, and " + spec.key(SinkSpec.SCHEMA_EVOLUTION) + "=false. Run in Spark SQL:\n  "
          + String.join(";\n  ", ddl) + ";\nor set " + spec.key(SinkSpec.SCHEMA_EVOLUTION) + "=true to let the sink do it.");
    }
    for (String statement : ddl) {
      session.sql(statement).collectAsList();
      LOG.info("sink={}: evolved table {}: {}", spec.name(), table.describe(), statement);
    }
    return true;
  }

  /** The widenings this table's format cannot make in place, one sentence each with the fix. */
  static List<String> refusals(SinkSpec spec, SparkTable table, SchemaChange change) {
    List<String> out = new ArrayList<>();
    for (SchemaChange.Widened w : change.widened()) {
      if (!table.canWiden(w.from(), w.to())) {
        out.add("sink " + spec.name() + ": table " + table.describe() + " cannot widen column '" + w.name() + "' from "
            + w.from().sql() + " to " + w.to().sql() + " in place (" + table.widening() + "). Keep the type, or write to a "
            + "new table from a new checkpoint");
      }
    }
    return out;
  }

  /** Keys and order columns: never altered by a sink. */
  static Map<String, String> fixedColumns(SinkSpec spec) {
    Map<String, String> out = new LinkedHashMap<>();
    spec.keyColumns().forEach(k -> out.put(k, "a key column (" + spec.key(SinkSpec.KEY_COLUMNS) + ")"));
    spec.orderColumns().forEach(k -> out.putIfAbsent(k, "a version column (" + spec.key(SinkSpec.VERSION_COLUMN) + ")"));
    return out;
  }
}
