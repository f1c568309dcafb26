package dev.eventproc.cli;

import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.sum;

import dev.eventproc.cli.EventGenerator.Message;
import dev.eventproc.cli.EventGenerator.Oracle;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.pipeline.Pipeline;
import dev.eventproc.pipeline.PipelineConfig;
import dev.eventproc.pipeline.PipelineRunner;
import dev.eventproc.pipeline.Sessions;
import dev.eventproc.reconcile.ReconcileReport;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkMetrics;
import dev.eventproc.util.Errors;
import java.io.IOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code eventproc demo}: the whole story on embedded parts, nothing to install. An in-process
 * Kafka broker, payment events with duplicates, late and malformed ones, a pipeline Kafka -> dedupe
 * -> Delta that crashes on purpose after a Delta commit and before Spark's checkpoint commit, a
 * restart on the same checkpoint, and a check of the table against the oracle.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run Kafka -> dedupe -> Delta on an in-process broker, crash it mid-stream, restart, check the result.")
final class DemoCommand implements Callable<Integer> {
  static final String MARKER = ".eventproc-demo";
  static final String TOPIC = "payments";
  static final int CRASH_BATCH = 2;

  @Option(names = "--events", defaultValue = "20000", description = "Distinct payments to produce (default ${DEFAULT-VALUE}).")
  int events;

  @Option(names = "--batch-size", defaultValue = "4000", description = "Kafka offsets per micro-batch (default ${DEFAULT-VALUE}).")
  long batchSize;

  @Option(names = "--dir", defaultValue = "eventproc-demo", description = "Work directory, recreated on each run (default ${DEFAULT-VALUE}).")
  Path dir;

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Option(names = "--seed", defaultValue = "42", description = "Random seed of the event generator (default ${DEFAULT-VALUE}).")
  long seed;

  @Override
  public Integer call() throws Exception {
    if (events <= CRASH_BATCH * batchSize) {
      // Batch 2 would never exist, so the planned crash after it would never happen.
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--events " + events + " with --batch-size " + batchSize
          + " gives fewer than " + (CRASH_BATCH + 1) + " batches, and the demo crashes after batch " + CRASH_BATCH
          + ". Raise --events above " + CRASH_BATCH * batchSize + " or lower --batch-size.");
    }
    Configurator.setLevel("dev.eventproc", Level.ERROR);
    // The crash is planned: keep Spark's report of it (and the broker's shutdown chatter) off the screen.
    Configurator.setLevel("org.apache.spark.sql.execution.streaming.MicroBatchExecution", Level.OFF);
    Configurator.setLevel("org.apache.spark.sql.execution.streaming.StreamExecution", Level.OFF);
    Configurator.setLevel("org.apache.kafka", Level.OFF);
    Configurator.setLevel("kafka", Level.OFF);
    Path work = prepare(dir.toAbsolutePath().normalize());
    say("eventproc demo: Kafka -> first-seen dedupe -> Delta, exactly once, with a crash in the middle");
    say("  work directory: " + work);

    say("[1/6] Starting an in-process Kafka broker (KRaft, no ZooKeeper)");
    long t0 = System.nanoTime();
    try (LocalKafkaBroker broker = LocalKafkaBroker.start(work.resolve("kafka"))) {
      broker.createTopic(TOPIC, 2);
      say(String.format(Locale.ROOT, "      listening on %s (%.1f s)", broker.bootstrapServers(), seconds(t0)));

      EventGenerator.Output feed = EventGenerator.generate(EventGenerator.Spec.payments(events, seed));
      Oracle oracle = feed.oracle();
      say(String.format(Locale.ROOT, "[2/6] Producing %,d messages to topic '%s': %,d payments, %,d duplicates, "
          + "%,d out of order, %,d malformed", feed.messages().size(), TOPIC, oracle.firstSeen().size(),
          oracle.duplicates(), oracle.outOfOrder(), oracle.malformed()));
      produce(broker.bootstrapServers(), feed.messages());

      Path config = writeConfig(work, broker.bootstrapServers());
      PipelineConfig pipeline = PipelineConfig.from(EventprocConfig.load(config));
      SparkSession spark = Sessions.getOrCreate("eventproc-demo", pipeline.sparkConf(), pipeline.sinkTypes());
      spark.sparkContext().setLogLevel("ERROR");
      DemoTotals totals = new DemoTotals();

      say("[3/6] Running the pipeline (" + work.relativize(config) + "); it will crash on purpose after batch "
          + CRASH_BATCH + " is committed to Delta, before Spark records the batch in its checkpoint");
      String fault = FaultInjection.Point.AFTER_COMMIT.spec() + "@" + CRASH_BATCH + "/" + pipeline.name() + ":throw";
      System.setProperty(FaultInjection.PROPERTY, fault);
      boolean crashed = false;
      try {
        PipelineRunner.run(spark, pipeline, stats -> {
          totals.accept(stats);
          say("      " + Progress.line(pipeline.name(), stats));
        });
      } catch (PipelineRunner.PipelineFailedException e) {
        if (!isInjected(e)) {
          throw e;
        }
        crashed = true;
        say("      crashed as planned: " + Errors.firstLine(rootMessage(e)));
      } finally {
        System.clearProperty(FaultInjection.PROPERTY);
      }

      say("[4/6] Restarting on the same checkpoint: Spark replays batch " + CRASH_BATCH
          + "; the sink finds it in the Delta log and skips it");
      PipelineConfig again = PipelineConfig.from(EventprocConfig.load(config));
      Pipeline done = PipelineRunner.run(spark, again, stats -> {
        totals.accept(stats);
        say("      " + Progress.line(pipeline.name(), stats));
      });
      SinkMetrics main = done.split().main().metrics();
      say(String.format(Locale.ROOT, "      replayed batches skipped by the sink: %d", main.replaysSkipped()));

      say("[5/6] Checking the Delta table against the oracle (computed from the produced events)");
      boolean pass = report(spark, work, oracle, totals, crashed, main);

      say("[6/6] Reconciling the sink with the checks of sql/ (what `bin/eventproc reconcile --config " + work.relativize(config)
          + "` runs)");
      ReconcileReport reconciled = ReconcileCommand.run(spark, again, work.resolve("reconcile"));
      reconciled.table().lines().forEach(l -> say("      " + l));
      pass = pass && reconciled.passed();
      spark.stop();
      say(pass ? "PASS: every payment exactly once, totals match, reconciliation passes." : "FAIL: see the lines marked x above.");
      say("  Delta table: " + work.resolve("tables/payments") + "   config: " + config);
      return pass ? 0 : 1;
    }
  }

  private boolean report(SparkSession spark, Path work, Oracle oracle, DemoTotals totals, boolean crashed, SinkMetrics main) {
    Dataset<Row> table = spark.read().format("delta").load(work.resolve("tables/payments").toString());
    Row agg = table.agg(count("*"), countDistinct("payment_id"), sum("amount")).first();
    long rows = agg.getLong(0);
    long distinct = agg.getLong(1);
    BigDecimal amount = agg.isNullAt(2) ? BigDecimal.ZERO : agg.getDecimal(2);
    Path quarantinePath = work.resolve("tables/payments_quarantine");
    long quarantined = Files.exists(quarantinePath) ? spark.read().format("delta").load(quarantinePath.toString()).count() : 0;
    long expected = oracle.firstSeen().size();
    long accounted = rows + totals.duplicatesDropped() + totals.lateDropped() + quarantined;
    long produced = oracle.validMessages() + oracle.malformed();

    Map<String, String[]> lines = new LinkedHashMap<>();
    lines.put("messages produced", new String[] {fmt(produced), ""});
    lines.put("duplicates dropped by the stage", new String[] {fmt(totals.duplicatesDropped()), "produced " + fmt(oracle.duplicates())});
    lines.put("late rows dropped (watermark)", new String[] {fmt(totals.lateDropped()), "expected 0"});
    lines.put("quarantined (malformed)", new String[] {fmt(quarantined), "expected " + fmt(oracle.malformed())});
    lines.put("rows in the Delta table", new String[] {fmt(rows), "expected " + fmt(expected)});
    lines.put("distinct payment ids", new String[] {fmt(distinct), "expected " + fmt(expected)});
    lines.put("amount total", new String[] {amount.toPlainString(), "expected " + oracle.firstSeenAmount().toPlainString()});
    lines.put("accounting: rows+dropped+quarantined", new String[] {fmt(accounted), "produced " + fmt(produced)});
    lines.put("crash at the commit point, replay skipped", new String[] {crashed + ", " + main.replaysSkipped(), "expected true, 1"});

    boolean[] ok = {
      true,
      totals.duplicatesDropped() == oracle.duplicates(),
      totals.lateDropped() == 0,
      quarantined == oracle.malformed(),
      rows == expected,
      distinct == expected,
      amount.compareTo(oracle.firstSeenAmount()) == 0,
      accounted == produced,
      crashed && main.replaysSkipped() == 1
    };
    int i = 0;
    boolean pass = true;
    for (Map.Entry<String, String[]> e : lines.entrySet()) {
      boolean good = ok[i++];
      pass &= good;
      say(String.format(Locale.ROOT, "   %s %-42s %16s   %s", good ? "ok" : " x", e.getKey(), e.getValue()[0], e.getValue()[1]));
    }
    return pass;
  }

  private static void produce(String servers, List<Message> messages) {
    ProgressBarBuilder bar = new ProgressBarBuilder().setTaskName("      producing").setInitialMax(messages.size())
        .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250).continuousUpdate();
    try (ProgressBar pb = bar.build()) {
      MessageProducer.send(servers, TOPIC, messages, sent -> pb.step());
    }
  }

  private Path writeConfig(Path work, String servers) throws IOException {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("pipeline.name", "payments");
    c.put("checkpoint.location", work.resolve("checkpoint").toString());
    c.put("trigger", "available-now");
    c.put("source.type", "kafka");
    c.put("source.kafka.bootstrap.servers", servers);
    c.put("source.kafka.topic", TOPIC);
    c.put("source.kafka.starting.offsets", "earliest");
    c.put("source.kafka.max.offsets.per.trigger", String.valueOf(batchSize));
    c.put("source.schema", EventGenerator.SCHEMA);
    c.put("source.key.columns", "payment_id");
    c.put("source.event.time.column", "event_time");
    c.put("stage.type", "dedupe-first-seen");
    c.put("stage.watermark.delay", "10 minutes");
    c.put("sink.type", "delta");
    c.put("sink.mode", "insert-if-absent");
    c.put("sink.key.columns", "payment_id");
    c.put("sink.delta.path", work.resolve("tables/payments").toString());
    c.put("quarantine.delta.path", work.resolve("tables/payments_quarantine").toString());
    c.put("spark.sql.shuffle.partitions", "2");
    Path file = work.resolve("demo.properties");
    try (Writer w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      w.write("# Written by `eventproc demo`: run it yourself with bin/eventproc run --config " + file + "\n");
      for (Map.Entry<String, String> e : c.entrySet()) {
        w.write(e.getKey() + "=" + e.getValue() + "\n");
      }
    }
    return file;
  }

  /** Recreates the work directory; refuses to delete a non-empty directory the demo did not make. */
  private static Path prepare(Path work) throws IOException {
    if (Files.exists(work)) {
      boolean ours = Files.exists(work.resolve(MARKER));
      boolean empty;
      try (Stream<Path> s = Files.list(work)) {
        empty = s.findAny().isEmpty();
      }
      if (!ours && !empty) {
        throw new IllegalArgumentException("--dir " + work + " exists and was not made by the demo. "
            + "Choose another directory, or delete it yourself.");
      }
      List<Path> all = new ArrayList<>();
      try (Stream<Path> s = Files.walk(work)) {
        s.forEach(all::add);
      }
      all.sort(Comparator.reverseOrder());
      for (Path p : all) {
        Files.delete(p);
      }
    }
    Files.createDirectories(work);
    Files.writeString(work.resolve(MARKER), "made by eventproc demo; deleted and recreated on each run\n");
    return work;
  }

  private static boolean isInjected(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof FaultInjection.InjectedFault || (t.getMessage() != null && t.getMessage().contains("injected fault"))) {
        return true;
      }
    }
    return false;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  private static String fmt(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
