package dev.eventproc.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventproc.cli.EventGenerator.Event;
import dev.eventproc.cli.EventGenerator.Message;
import dev.eventproc.cli.EventGenerator.Output;
import dev.eventproc.cli.EventGenerator.Spec;
import dev.eventproc.config.Durations;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code eventproc generate}: payment events to a Kafka topic or a directory of JSON-lines files,
 * with duplicates, lateness, out-of-order versions, deletes and malformed records as asked, plus the
 * oracle (the expected final state) in {@code --oracle}: {@code first-seen.jsonl} (what first-seen
 * dedupe keeps), {@code latest.jsonl} (what latest-version dedupe with deletes keeps),
 * {@code history.jsonl} (what {@code sink.mode=history} keeps: every version with {@code __start_at} and
 * {@code __end_at}, see {@link HistoryOracle}) and
 * {@code summary.json} (counts). Deterministic for a seed.
 */
@Command(name = "generate", mixinStandardHelpOptions = true,
    description = "Produce payment events (with duplicates, late, out-of-order and malformed ones) to Kafka or files, "
        + "and write the expected final state beside them.")
final class GenerateCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec command;

  @Option(names = "--to", required = true, description = "kafka or files.")
  String to;

  @Option(names = "--kafka-servers", description = "Kafka brokers (with --to kafka).")
  String kafkaServers;

  @Option(names = "--topic", defaultValue = "payments", description = "Topic (with --to kafka; default ${DEFAULT-VALUE}).")
  String topic;

  @Option(names = "--dir", description = "Directory for the JSON-lines files (with --to files).")
  Path dir;

  @Option(names = "--files", defaultValue = "10", description = "Number of files (with --to files; default ${DEFAULT-VALUE}).")
  int files;

  @Option(names = "--oracle", required = true, description = "Directory for the expected state.")
  Path oracle;

  @Option(names = "--keys", defaultValue = "10000", description = "Distinct payment ids (default ${DEFAULT-VALUE}).")
  int keys;

  @Option(names = "--versions", defaultValue = "1", description = "Versions per payment, sent in random order (default ${DEFAULT-VALUE}).")
  int versions;

  @Option(names = "--duplicates", defaultValue = "0.05", description = "Fraction of events sent twice (default ${DEFAULT-VALUE}).")
  double duplicates;

  @Option(names = "--late", defaultValue = "0.10", description = "Fraction of events whose event time lags (default ${DEFAULT-VALUE}).")
  double late;

  @Option(names = "--lateness", defaultValue = "2 minutes", description = "How far they lag at most (default ${DEFAULT-VALUE}).")
  String lateness;

  @Option(names = "--deletes", defaultValue = "0", description = "Fraction of payments whose last version is a delete (default ${DEFAULT-VALUE}).")
  double deletes;

  @Option(names = "--malformed", defaultValue = "0.005", description = "Malformed records per valid event (default ${DEFAULT-VALUE}).")
  double malformed;

  @Option(names = "--rate", defaultValue = "0", description = "Messages per second, 0 for as fast as possible (default ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--spacing", defaultValue = "10ms", description = "Event-time step between events (default ${DEFAULT-VALUE}).")
  String spacing;

  @Option(names = "--start", description = "Event time of the first event, e.g. 2026-01-01T00:00:00Z (default: midnight UTC "
      + "a day before the feed would reach now, so no event is ahead of the clock that receives it).")
  String start;

  @Option(names = "--seed", defaultValue = "1", description = "Random seed (default ${DEFAULT-VALUE}).")
  long seed;

  @Option(names = "--schema-v2-from", paramLabel = "N", description = "Index (from 0, in the order events are first sent) of "
      + "the first event of the second schema: from it on events carry the added field channel and an amount of 10,000,000,000 "
      + "or more (source.schema " + EventGenerator.SCHEMA_V2 + "). Default: every event of the first schema.")
  Long schemaV2From;

  @Option(names = "--schema-v2-widen", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "With --schema-v2-from: second-schema amounts need DECIMAL(16,2); --no-schema-v2-widen keeps them within "
          + "DECIMAL(12,2), for sinks that cannot widen a type (Delta, files). Default: widen.")
  boolean schemaV2Widen;

  @Override
  public Integer call() throws Exception {
    Spec spec = spec();
    Output out = EventGenerator.generate(spec);
    switch (to.toLowerCase(Locale.ROOT)) {
      case "kafka" -> toKafka(out.messages());
      case "files" -> toFiles(out.messages());
      default -> throw new ParameterException(command.commandLine(), "--to: '" + to + "' is not kafka or files.");
    }
    writeOracle(out);
    EventGenerator.Oracle o = out.oracle();
    System.out.printf(Locale.ROOT, "generated %,d messages (%,d payments, %,d duplicates, %,d out of order, %,d malformed) to %s; "
        + "oracle in %s%n", out.messages().size(), o.firstSeen().size(), o.duplicates(), o.outOfOrder(), o.malformed(),
        "kafka".equalsIgnoreCase(to) ? "topic " + topic : dir, oracle);
    return 0;
  }

  Spec spec() {
    Duration lag = duration("--lateness", lateness);
    Duration step = duration("--spacing", spacing);
    fraction("--duplicates", duplicates);
    fraction("--late", late);
    fraction("--deletes", deletes);
    fraction("--malformed", malformed);
    if (keys < 1 || versions < 1) {
      throw new ParameterException(command.commandLine(), "--keys and --versions must be at least 1.");
    }
    long v2From = schemaV2From();
    if (start == null) {
      return new Spec(keys, versions, duplicates, late, lag, deletes, malformed, seed,
          Spec.startBefore(Instant.now(), (long) keys * versions, step), step).withSchemaV2From(v2From, schemaV2Widen);
    }
    Instant first;
    try {
      first = Instant.parse(start);
    } catch (DateTimeParseException e) {
      throw new ParameterException(command.commandLine(), "--start: '" + start + "' is not an ISO-8601 instant like 2026-01-01T00:00:00Z.");
    }
    return new Spec(keys, versions, duplicates, late, lag, deletes, malformed, seed, first, step)
        .withSchemaV2From(v2From, schemaV2Widen);
  }

  /** {@code --schema-v2-from} checked against the feed's events; {@link EventGenerator#NO_SCHEMA_V2} when absent. */
  private long schemaV2From() {
    long events = (long) keys * versions;
    if (schemaV2From == null) {
      if (command.commandLine().getParseResult().hasMatchedOption("--schema-v2-widen")) {
        throw new ParameterException(command.commandLine(), (schemaV2Widen ? "--schema-v2-widen" : "--no-schema-v2-widen")
            + " needs --schema-v2-from N (the index of the first event of the second schema).");
      }
      return EventGenerator.NO_SCHEMA_V2;
    }
    if (schemaV2From < 0) {
      throw new ParameterException(command.commandLine(), "--schema-v2-from: " + schemaV2From + " is negative; give an index "
          + "from 0 (every event v2) to " + events + " (none).");
    }
    if (schemaV2From > events) {
      throw new ParameterException(command.commandLine(), "--schema-v2-from: " + schemaV2From + " is beyond the " + events
          + " events (--keys x --versions); give an index from 0 (every event v2) to " + events + " (none).");
    }
    return schemaV2From;
  }

  private Duration duration(String option, String value) {
    Duration d = Durations.parse(value);
    if (d == null) {
      throw new ParameterException(command.commandLine(), option + ": '" + value + "' is not a duration. " + Durations.EXAMPLES);
    }
    return d;
  }

  private void fraction(String option, double value) {
    if (value < 0 || value > 1) {
      throw new ParameterException(command.commandLine(), option + ": " + value + " is not a fraction from 0 to 1.");
    }
  }

  private void toKafka(List<Message> messages) {
    if (kafkaServers == null) {
      throw new ParameterException(command.commandLine(), "--to kafka needs --kafka-servers host:port.");
    }
    long begin = System.nanoTime();
    MessageProducer.send(kafkaServers, topic, messages, sent -> pace(begin, sent));
  }

  private void toFiles(List<Message> messages) throws IOException {
    if (dir == null) {
      throw new ParameterException(command.commandLine(), "--to files needs --dir DIRECTORY.");
    }
    Files.createDirectories(dir);
    int n = Math.max(1, files);
    int per = (messages.size() + n - 1) / n;
    long begin = System.nanoTime();
    for (int f = 0; f < n; f++) {
      // Written under a hidden name and renamed, so a running files source never reads half a file.
      Path tmp = dir.resolve(String.format(Locale.ROOT, ".part-%05d.json.tmp", f));
      try (BufferedWriter w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
        for (int i = f * per; i < Math.min(messages.size(), (f + 1) * per); i++) {
          w.write(messages.get(i).payload());
          w.write('\n');
        }
      }
      Files.move(tmp, dir.resolve(String.format(Locale.ROOT, "part-%05d.json", f)), StandardCopyOption.ATOMIC_MOVE);
      pace(begin, Math.min(messages.size(), (long) (f + 1) * per));
    }
  }

  /** Sleeps so that {@code sent} messages take at least {@code sent / rate} seconds. */
  private void pace(long beginNanos, long sent) {
    if (rate <= 0) {
      return;
    }
    long due = beginNanos + (long) (sent / rate * 1e9);
    long wait = due - System.nanoTime();
    if (wait > 1_000_000) {
      try {
        Thread.sleep(wait / 1_000_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while pacing", e);
      }
    }
  }

  private void writeOracle(Output out) throws IOException {
    Files.createDirectories(oracle);
    writeEvents(oracle.resolve("first-seen.jsonl"), out.oracle().firstSeen());
    writeEvents(oracle.resolve("latest.jsonl"), out.oracle().latest());
    List<HistoryOracle.Row> history = HistoryOracle.of(out.messages());
    try (BufferedWriter w = Files.newBufferedWriter(oracle.resolve("history.jsonl"), StandardCharsets.UTF_8)) {
      for (HistoryOracle.Row r : history) {
        w.write(r.json());
        w.write('\n');
      }
    }
    EventGenerator.Oracle o = out.oracle();
    ObjectNode s = JSON.createObjectNode();
    s.put("messages", out.messages().size());
    s.put("valid_messages", o.validMessages());
    s.put("malformed", o.malformed());
    s.put("duplicates", o.duplicates());
    s.put("out_of_order", o.outOfOrder());
    s.put("first_seen_keys", o.firstSeen().size());
    s.put("first_seen_amount", o.firstSeenAmount());
    s.put("latest_keys", o.latest().size());
    s.put("latest_amount", o.latestAmount());
    s.put("history_rows", history.size());
    s.put("seed", seed);
    if (schemaV2From != null) {
      s.put("schema_v2_from", schemaV2From);
      s.put("schema_v2_events", out.messages().stream().filter(m -> !m.malformed()).map(Message::event).distinct()
          .filter(Event::v2).count());
      s.put("schema_v2", schemaV2Widen ? EventGenerator.SCHEMA_V2 : EventGenerator.SCHEMA_V2_ADDED_ONLY);
    }
    Files.writeString(oracle.resolve("summary.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(s) + "\n");
  }

  private static void writeEvents(Path file, Map<String, Event> events) throws IOException {
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (Event e : events.values()) {
        w.write(e.json());
        w.write('\n');
      }
    }
  }
}
