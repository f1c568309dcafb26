package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.SchemaChange;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The checkpoint guard on a changed {@code source.schema} (issue 17): compatible changes are accepted
 * and stored, every other change is refused naming the column, why, and the fix. No query runs.
 */
class SchemaChangeGuardTest {
  private static final String V1 = "id STRING, version BIGINT, lsn BIGINT, amount INT, price FLOAT, total DECIMAL(10,2), "
      + "note STRING, event_time TIMESTAMP";
  private final SparkSession spark = TestSpark.session();

  private static Map<String, String> base(Path dir, String sinkType) {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "evolving");
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.schema", V1);
    c.put("source.key.columns", "id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("stage.tiebreak.column", "lsn");
    c.put("sink.type", sinkType);
    c.put("sink.mode", sinkType.equals("files") ? "append" : "upsert");
    if (sinkType.equals("files")) {
      c.put("sink.files.path", dir.resolve("files").toString());
    } else {
      c.put("sink.key.columns", "id");
      c.put("sink.version.column", "version");
      c.put("sink.tiebreak.column", "lsn"); // behind dedupe-latest a keyed sink orders rows as the stage does
      if (sinkType.equals("delta")) {
        c.put("sink.delta.path", dir.resolve("table").toString());
      } else {
        c.put("sink.iceberg.table", "evolving.db.t");
        c.put("sink.iceberg.warehouse", dir.resolve("iceberg").toString());
      }
    }
    return c;
  }

  private void check(Map<String, String> c) {
    CheckpointGuard.check(spark, PipelineConfig.from(EventprocConfig.of(c)));
  }

  /** Starts with {@code base}, restarts with the schema changed; the refusal's message. */
  private String refusal(String name, Map<String, String> base, Consumer<Map<String, String>> change) {
    Map<String, String> first = new LinkedHashMap<>(base);
    first.put("checkpoint.location", TestSpark.newDir("schema-" + name).resolve("checkpoint").toString());
    check(first);
    Map<String, String> second = new LinkedHashMap<>(first);
    change.accept(second);
    Throwable t = catchThrowable(() -> check(second));
    assertThat(t).as(name).isInstanceOf(ConfigException.class);
    assertThat(t.getMessage()).as(name).contains("source.schema was", "Set source.schema back, or migrate",
        "new checkpoint.location");
    return t.getMessage();
  }

  private String refusal(String name, String newSchema) {
    return refusal(name, base(TestSpark.newDir("schema-" + name), "files"), m -> m.put("source.schema", newSchema));
  }

  @Test
  void addedColumnsAndWidenedTypesAreAcceptedAndStored() throws Exception {
    Path dir = TestSpark.newDir("schema-accepted");
    Map<String, String> c = base(dir, "iceberg");
    check(c);
    String v2 = "id STRING, channel STRING, version BIGINT, lsn BIGINT, amount BIGINT, price DOUBLE, total DECIMAL(14,2), "
        + "note STRING, event_time TIMESTAMP, extra ARRAY<STRING>";
    c.put("source.schema", v2);
    check(c);
    String stored = Files.readString(dir.resolve("checkpoint").resolve(CheckpointGuard.FILE));
    assertThat(stored).contains("channel STRING", "amount BIGINT", "price DOUBLE", "DECIMAL(14,2)");
    check(c); // the stored schema is the new one now
  }

  @Test
  void aRemovedColumnIsRefused() {
    assertThat(refusal("removed", V1.replace("note STRING, ", "")))
        .contains("column 'note' (STRING) was removed or renamed", "Keep it in the schema");
  }

  @Test
  void aRenamedColumnIsRefused() {
    assertThat(refusal("renamed", V1.replace("note STRING", "comment STRING")))
        .contains("column 'note' (STRING) was removed or renamed");
  }

  @Test
  void aNarrowedTypeIsRefused() {
    assertThat(refusal("narrowed", V1.replace("total DECIMAL(10,2)", "total DECIMAL(8,2)")))
        .contains("column 'total' changed from DECIMAL(10,2) to DECIMAL(8,2): only INT -> BIGINT");
  }

  @Test
  void anotherTypeChangeIsRefused() {
    assertThat(refusal("other", V1.replace("amount INT", "amount STRING")))
        .contains("column 'amount' changed from INT to STRING: only INT -> BIGINT, FLOAT -> DOUBLE and DECIMAL(p,s)");
    assertThat(refusal("scale", V1.replace("total DECIMAL(10,2)", "total DECIMAL(12,4)")))
        .contains("column 'total' changed from DECIMAL(10,2) to DECIMAL(12,4)");
  }

  @Test
  void aColumnAddedAsNotNullIsRefused() {
    assertThat(refusal("not-null", V1 + ", channel STRING NOT NULL"))
        .contains("column 'channel' was added as NOT NULL", "Add it without NOT NULL");
  }

  @Test
  void aWidenedKeyVersionOrTiebreakColumnIsRefused() {
    Path dir = TestSpark.newDir("schema-fixed");
    Map<String, String> ints = base(dir, "files");
    ints.put("source.schema", V1.replace("version BIGINT", "version INT").replace("lsn BIGINT", "lsn INT")
        .replace("id STRING", "id INT"));
    assertThat(refusal("version", ints, m -> m.put("source.schema", V1.replace("lsn BIGINT", "lsn INT")
        .replace("id STRING", "id INT"))))
        .contains("column 'version' changed from INT to BIGINT: it is the version column (stage.version.column)");
    assertThat(refusal("tiebreak", ints, m -> m.put("source.schema", V1.replace("version BIGINT", "version INT")
        .replace("id STRING", "id INT"))))
        .contains("column 'lsn' changed from INT to BIGINT: it is the tie-break column (stage.tiebreak.column)");
    assertThat(refusal("key", ints, m -> m.put("source.schema", V1.replace("version BIGINT", "version INT")
        .replace("lsn BIGINT", "lsn INT").replace("id STRING", "id BIGINT"))))
        .contains("column 'id' changed from INT to BIGINT: it is a key column (source.key.columns)");
  }

  @Test
  void aGroupColumnOrAnAggregatedColumnOfTheAggregateStageIsRefused() {
    Map<String, String> agg = base(TestSpark.newDir("schema-agg"), "files");
    agg.put("stage.type", "aggregate");
    agg.put("stage.window.duration", "1 minute");
    agg.put("stage.group.columns", "amount");
    agg.put("stage.aggregates", "max(`price`) AS top, count(*) AS n");
    agg.remove("stage.version.column");
    agg.remove("stage.tiebreak.column");
    assertThat(refusal("group", agg, m -> m.put("source.schema", V1.replace("amount INT", "amount BIGINT"))))
        .contains("column 'amount' changed from INT to BIGINT: it is a group column (stage.group.columns)");
    assertThat(refusal("aggregated", agg, m -> m.put("source.schema", V1.replace("price FLOAT", "price DOUBLE"))))
        .contains("column 'price' changed from FLOAT to DOUBLE: it is an input of stage.aggregates");
  }

  @Test
  void aWideningTheSinksFormatCannotMakeIsRefusedBeforeTheSchemaIsStored() {
    Path dir = TestSpark.newDir("schema-delta");
    String message = refusal("delta", base(dir, "delta"), m -> m.put("source.schema", V1.replace("amount INT", "amount BIGINT")));
    assertThat(message).contains("sink evolving: table " + dir.resolve("table") + " cannot widen column 'amount' from INT "
        + "to BIGINT in place (Delta 3.3 widens types only through its type-widening preview table feature");
    Path files = TestSpark.newDir("schema-files");
    assertThat(refusal("files", base(files, "files"), m -> m.put("source.schema", V1.replace("price FLOAT", "price DOUBLE"))))
        .contains("sink evolving: files under " + files.resolve("files") + " cannot widen column 'price' from FLOAT to DOUBLE");
  }

  @Test
  void theClassifierComparesByNameAndNamesEveryColumn() {
    StructType before = StructType.fromDDL("a INT, b STRING, c FLOAT");
    SchemaChange change = SchemaChange.between(before, StructType.fromDDL("c DOUBLE, x STRING, a BIGINT, b STRING"), Map.of());
    assertThat(change.accepted()).isTrue();
    assertThat(change.added()).extracting(a -> a.field().name()).containsExactly("x");
    assertThat(change.widened()).extracting(SchemaChange.Widened::name).containsExactly("a", "c");
    assertThat(SchemaChange.between(before, before, Map.of()).none()).isTrue();
    SchemaChange bad = SchemaChange.between(before, StructType.fromDDL("a SMALLINT, c DOUBLE"), Map.of());
    assertThat(bad.refusals()).hasSize(2).anySatisfy(r -> assertThat(r).startsWith("column 'a' changed from INT to SMALLINT"))
        .anySatisfy(r -> assertThat(r).startsWith("column 'b' (STRING) was removed or renamed"));
  }
}
