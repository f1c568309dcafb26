package dev.eventproc.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.cli.EventGenerator;
import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineRunner;
import dev.eventproc.reconcile.Reconciler.Result;
import dev.eventproc.sink.SinkType;
import dev.eventproc.testutils.JsonFiles;
import dev.eventproc.testutils.SinkConfigs;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The checks of sql/ through {@link Reconciler}, per sink type: all pass on what a pipeline wrote,
 * and fail, naming the offending key, day or batch, once a fault is planted in the sink.
 */
class ReconcileIT {
  private final SparkSession spark = TestSpark.session();

  @ParameterizedTest
  @EnumSource(SinkType.class)
  void checksPassOnACleanSinkAndNameWhatWasPlanted(SinkType type) throws Exception {
    Path dir = TestSpark.newDir("reconcile-" + type.name().toLowerCase());
    EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(300, 17).withVersions(2, 0).withMalformedRate(0));
    JsonFiles.write(dir.resolve("in"), feed.messages(), 2);
    List<Event> latest = new ArrayList<>(feed.oracle().latest().values());
    String name = "rec_" + type.name().toLowerCase();
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", name);
    c.put("checkpoint.location", dir.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.type", "files");
    c.put("source.files.path", dir.resolve("in").toString());
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
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
      c.put("reconcile.from", "2025-12-31"); // late events reach back before the first minute
      c.put("reconcile.to", "2026-01-02");
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
    assertThat(clean).as("checks run").hasSizeGreaterThanOrEqualTo(keyed ? 5 : 1)
        .allSatisfy(r -> assertThat(r.failed()).as("%s", r).isFalse());

    Path configFile = dir.resolve("pipeline.properties");
    if (type == SinkType.DELTA) {
      assertThat(reconcileCommand(c, configFile, dir.resolve("report"))).as("exit status on a clean sink").isZero();
      assertThat(Files.readString(dir.resolve("report/reconcile.md"))).contains("**PASS**", "| PASS | rec_delta |");
    }

    List<String> offending = plant(type, dir, c, schema, latest.get(7), latest.get(11));
    List<Result> planted = Reconciler.run(spark, config.sink(), config.reconcile());
    for (String o : offending) {
      assertThat(planted).filteredOn(Result::failed).as("failed checks after planting faults, naming %s", o)
          .isNotEmpty().anySatisfy(r -> assertThat(r.offending()).contains(o));
    }
    if (type == SinkType.DELTA) {
      assertThat(reconcileCommand(c, configFile, dir.resolve("report"))).as("exit status after planting").isEqualTo(1);
      assertThat(Files.readString(dir.resolve("report/reconcile.json"))).contains("\"passed\" : false", offending.get(0));
    }
  }

  /** {@code eventproc reconcile --config FILE --out DIR}, in this JVM (its Spark session is reused). */
  private static int reconcileCommand(Map<String, String> config, Path file, Path out) throws Exception {
    StringBuilder sb = new StringBuilder();
    config.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
    Files.writeString(file, sb.toString());
    return dev.eventproc.cli.MainAccess.execute("reconcile", "--config", file.toString(), "--out", out.toString());
  }

  /**
   * Plants faults the checks must catch (a wrong sum, a missing row, a duplicate, a batch written
   * twice); returns what the failing checks must name.
   */
  private List<String> plant(SinkType type, Path dir, Map<String, String> c, String schema, Event victim, Event lost)
      throws Exception {
    String key = victim.paymentId();
    switch (type) {
      case POSTGRES -> {
        try (Connection con = TestPostgres.connect();
            PreparedStatement up = con.prepareStatement("UPDATE " + schema + ".payments SET amount = amount + 1 WHERE payment_id = ?");
            PreparedStatement del = con.prepareStatement("DELETE FROM " + schema + ".payments WHERE payment_id = ?")) {
          up.setString(1, key);
          assertThat(up.executeUpdate()).isEqualTo(1);
          del.setString(1, lost.paymentId());
          assertThat(del.executeUpdate()).isEqualTo(1);
          if (!con.getAutoCommit()) {
            con.commit();
          }
        }
        // daily_totals names the day of the changed amount; source_vs_sink the key of the missing row.
        return List.of(victim.eventTime().atZone(java.time.ZoneOffset.UTC).toLocalDate().toString(), lost.paymentId());
      }
      case DELTA -> {
        spark.read().format("delta").load(dir.resolve("table").toString()).filter("payment_id = '" + key + "'")
            .write().format("delta").mode("append").save(dir.resolve("table").toString());
        spark.sql("DELETE FROM delta.`" + dir.resolve("table") + "` WHERE payment_id = '" + lost.paymentId() + "'");
        return List.of(key, lost.paymentId());
      }
      case ICEBERG -> {
        spark.sql("INSERT INTO rec.db.payments SELECT * FROM rec.db.payments WHERE payment_id = '" + key + "'");
        spark.sql("UPDATE rec.db.payments SET amount = amount * 2 WHERE payment_id = '" + lost.paymentId() + "'");
        return List.of(key, lost.paymentId());
      }
      case FILES -> {
        try (Stream<Path> files = Files.walk(dir.resolve("files/batch_id=0"))) { // the writer's directory inside
          Path parquet = files.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
          Files.copy(parquet, parquet.resolveSibling("part-00000-" + java.util.UUID.randomUUID() + "-c000.snappy.parquet"));
        }
        return List.of("0");
      }
      case KAFKA -> {
        Properties p = new Properties();
        p.put("bootstrap.servers", TestKafka.servers());
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
          RecordHeaders h = new RecordHeaders();
          // A batch of the sink's own writer, sent again outside its transaction: what a buggy retry would do.
          byte[] writer = TestKafka.read(c.get("sink.kafka.topic"), true).get(0).headers().lastHeader("eventproc.writer").value();
          h.add("eventproc.writer", writer);
          h.add("eventproc.batch", "0".getBytes(StandardCharsets.UTF_8));
          producer.send(new ProducerRecord<>(c.get("sink.kafka.topic"), null, key, victim.json(), h)).get();
          producer.send(new ProducerRecord<>(c.get("sink.kafka.topic"), null, key, victim.json(), h)).get();
        }
        return List.of(key);
      }
      default -> throw new IllegalStateException(type.name());
    }
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
