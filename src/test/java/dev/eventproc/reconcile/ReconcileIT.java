package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.cli.EventGenerator;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineRunner;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.PaymentFiles;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The checks of sql/ through {@link Reconciler} and through {@code eventproc reconcile}, per sink type:
 * all pass on what a pipeline wrote in three batches (exit 0), and once faults are planted
 * ({@link PlantedFaults}: a lost batch, a batch committed twice with its own commit record, a duplicate
 * key, a wrong amount, as the sink type allows) the command exits 1 and the check meant for each fault
 * FAILs naming its batch id or key as one whole offending entry.
 */
class ReconcileIT {
  private final SparkSession spark = TestSpark.session();

  @ParameterizedTest
  @EnumSource(SinkType.class)
  void checksPassOnACleanSinkAndNameWhatWasPlanted(SinkType type) throws Exception {
    Path dir = TestSpark.newDir("reconcile-" + type.name().toLowerCase());
    EventGenerator.Spec spec = EventGenerator.Spec.payments(300, 17).withVersions(2, 0).withMalformedRate(0);
    EventGenerator.Output feed = EventGenerator.generate(spec);
    LocalDate firstDay = LocalDate.ofInstant(spec.start(), ZoneOffset.UTC);
    JsonFiles.write(dir.resolve("in"), feed.messages(), 3);
    List<Event> latest = new ArrayList<>(feed.oracle().latest().values());
    String name = "rec_" + type.name().toLowerCase();
    Map<String, String> c = PaymentFiles.pipeline(name, dir); // three batches: one can go missing between others
    c.put("stage.type", "dedupe-latest");
    c.put("stage.version.column", "version");
    c.put("sink.type", type.name().toLowerCase());
    boolean keyed = type != SinkType.FILES && type != SinkType.KAFKA;
    c.put("sink.mode", keyed ? "upsert" : "append");
    if (keyed) {
      c.put("sink.key.columns", "payment_id");
      c.put("sink.version.column", "version");
      c.put("reconcile.amount.column", "amount");
      c.put("reconcile.time.column", "event_time");
      c.put("reconcile.from", firstDay.minusDays(1).toString()); // late events reach back before the first minute
      c.put("reconcile.to", firstDay.plusDays(1).toString());
    }
    SinkConfigs.target(type, c, dir, "rec", "payments");
    String schema = c.get("sink.postgres.schema");
    if (type == SinkType.POSTGRES) {
      c.put("reconcile.source.table", schema + ".expected");
      writePostgresSource(schema, latest);
    }
    if (keyed && type != SinkType.POSTGRES) {
      spark.read().schema(EventGenerator.SCHEMA).json(spark.createDataset(latest.stream().map(Event::json).toList(), Encoders.STRING()))
          .write().parquet(dir.resolve("expected").toString());
      c.put("reconcile.source.path", dir.resolve("expected").toString());
    }
    PipelineConfig config = PipelineConfig.from(EventprocConfig.of(c));
    PipelineRunner.run(spark, config, null);

    List<Result> clean = Reconciler.run(spark, config.sink(), config.reconcile());
    assertThat(clean).as("checks run").hasSizeGreaterThanOrEqualTo(keyed ? 5 : 2)
        .allSatisfy(r -> assertThat(r.failed()).as("%s", r).isFalse());
    assertThat(clean).as("a continuity check ran").anySatisfy(r -> assertThat(r.check()).endsWith("_gaps"));
    Path configFile = dir.resolve("pipeline.properties");
    assertThat(reconcileCommand(c, configFile, dir.resolve("report"))).as("exit status on a clean sink").isZero();
    assertThat(Files.readString(dir.resolve("report/reconcile.md"))).contains("**PASS**", "| PASS | " + name + " |");

    List<PlantedFaults.Expected> expected = new PlantedFaults(spark).plant(type, dir, c, latest.get(7), latest.get(11), latest.get(13));
    List<Result> planted = Reconciler.run(spark, config.sink(), config.reconcile());
    for (PlantedFaults.Expected e : expected) {
      assertThat(planted).as("a FAIL of %s naming %s, in %s", e.check(), e.token(), planted)
          .anySatisfy(r -> {
            assertThat(r.failed()).isTrue();
            assertThat(r.check()).isEqualTo(e.check());
            assertThat(List.of(r.offending().split(","))).contains(e.token());
          });
    }
    assertThat(reconcileCommand(c, configFile, dir.resolve("report"))).as("exit status after planting").isEqualTo(1);
    String json = Files.readString(dir.resolve("report/reconcile.json"));
    assertThat(json).contains("\"passed\" : false");
    for (PlantedFaults.Expected e : expected) {
      assertThat(json).as("the report names %s", e).containsPattern("\"check\" : \"" + e.check()
          + "\",\\s*\"status\" : \"FAIL\",\\s*\"offending\" : \"([^\"]*,)?" + Pattern.quote(e.token()) + "(,[^\"]*)?\"");
    }
  }

  /** {@code eventproc reconcile --config FILE --out DIR}, in this JVM (its Spark session is reused). */
  private static int reconcileCommand(Map<String, String> config, Path file, Path out) throws Exception {
    StringBuilder sb = new StringBuilder();
    config.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
    Files.writeString(file, sb.toString());
    return dev.eventproc.cli.MainAccess.execute("reconcile", "--config", file.toString(), "--out", out.toString());
  }

  private static void writePostgresSource(String schema, List<Event> rows) throws Exception {
    try (Connection con = TestPostgres.connect(); Statement s = con.createStatement()) {
      s.execute("CREATE TABLE " + schema + ".expected (payment_id text, account_id text, amount numeric(12,2), currency text, "
          + "version bigint, op text, event_time timestamptz)");
      try (PreparedStatement ps = con.prepareStatement("INSERT INTO " + schema + ".expected VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        for (Event e : rows) {
          ps.setString(1, e.paymentId());
          ps.setString(2, e.accountId());
          ps.setBigDecimal(3, e.amount());
          ps.setString(4, e.currency());
          ps.setLong(5, e.version());
          ps.setString(6, e.delete() ? "d" : "u");
          ps.setTimestamp(7, Timestamp.from(e.eventTime()));
          ps.addBatch();
        }
        ps.executeBatch();
      }
      if (!con.getAutoCommit()) {
        con.commit();
      }
    }
  }
}
