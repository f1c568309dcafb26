package dev.eventproc.sink.postgres;

import static dev.eventproc.config.Identifiers.quotePostgres;

import dev.eventproc.sink.SchemaChange;
import dev.eventproc.sink.SinkSpec;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Schema evolution of a PostgreSQL target: the DDL that makes the target take a batch whose schema
 * gained columns ({@code ALTER TABLE ... ADD COLUMN IF NOT EXISTS}, nullable) or widened a type
 * ({@code ALTER COLUMN ... TYPE}: {@code integer -> bigint}, {@code real -> double precision},
 * {@code numeric(p,s) -> numeric(p',s)}). Computed from the catalog, so a second run finds nothing to
 * do: the change is idempotent, and a crash between it and the batch's commit replays cleanly. Key and
 * version columns are never altered (the checkpoint guard refuses such a change upstream). Staging
 * follows by itself: it is rebuilt whenever its columns differ from the batch's.
 */
final class PgEvolution {
  private static final Pattern NUMERIC = Pattern.compile("numeric\\((\\d+),(\\d+)\\)");

  private PgEvolution() {}

  /** The statements that evolve the target (columns as the catalog reports them) to the batch's schema; empty when none. */
  static List<String> statements(PostgresTables tables, List<PostgresTables.Column> target, StructType batch, SinkSpec spec) {
    Map<String, String> have = new LinkedHashMap<>();
    target.forEach(c -> have.put(c.name(), c.type()));
    List<String> out = new ArrayList<>();
    for (StructField f : batch.fields()) {
      String type = have.get(f.name());
      if (type == null) {
        out.add("ALTER TABLE " + tables.targetRef() + " ADD COLUMN IF NOT EXISTS " + quotePostgres(f.name()) + " "
            + PgTypes.of(f.dataType()));
      } else if (!type.equals(PgTypes.formatted(f.dataType())) && !spec.keyColumns().contains(f.name())
          && !spec.orderColumns().contains(f.name()) && SchemaChange.isWidening(sparkType(type), f.dataType())) {
        out.add("ALTER TABLE " + tables.targetRef() + " ALTER COLUMN " + quotePostgres(f.name()) + " TYPE "
            + PgTypes.of(f.dataType()));
      }
    }
    return out;
  }

  /** The Spark type a widenable PostgreSQL type holds, else {@code NullType} (nothing widens from it). */
  static DataType sparkType(String formatted) {
    Matcher m = NUMERIC.matcher(formatted);
    if (m.matches()) {
      return DataTypes.createDecimalType(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
    }
    return switch (formatted) {
      case "integer" -> DataTypes.IntegerType;
      case "real" -> DataTypes.FloatType;
      default -> DataTypes.NullType;
    };
  }

  /** The refusal when the sink may not evolve its target: what differs, and the DDL to run. */
  static IllegalStateException refusal(SinkSpec spec, PostgresTables tables, List<String> ddl) {
    return new IllegalStateException("sink " + spec.name() + ": table " + tables.describe() + " lacks column(s) of the "
        + "batch or holds a narrower type, and " + spec.key(SinkSpec.SCHEMA_EVOLUTION) + "=false. Run:\n  "
        + String.join(";\n  ", ddl) + ";\nor set " + spec.key(SinkSpec.SCHEMA_EVOLUTION) + "=true to let the sink do it.");
  }
}
