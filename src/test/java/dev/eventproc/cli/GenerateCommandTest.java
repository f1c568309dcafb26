package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventproc.testutils.TestKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code eventproc generate} into files and a real broker, with its oracle checked against what was sent. */
class GenerateCommandTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Reads amounts as decimals, exactly as written. */
  private static final ObjectMapper DECIMALS = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  @TempDir
  Path tmp;

  private static int run(StringWriter err, String... args) {
    CommandLine cl = Main.commandLine();
    cl.setErr(new PrintWriter(err, true));
    return cl.execute(args);
  }

  @Test
  void filesAndTheirOracleAgree() throws Exception {
    Path dir = tmp.resolve("in");
    Path oracle = tmp.resolve("oracle");
    assertThat(run(new StringWriter(), "generate", "--to", "files", "--dir", dir.toString(), "--files", "3", "--oracle",
        oracle.toString(), "--keys", "400", "--versions", "3", "--deletes", "0.2", "--duplicates", "0.1", "--malformed", "0.05",
        "--seed", "7")).isZero();

    List<String> lines;
    try (Stream<Path> files = Files.list(dir)) {
      lines = files.sorted().flatMap(f -> {
        try {
          return Files.readAllLines(f).stream();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).toList();
    }
    JsonNode summary = JSON.readTree(oracle.resolve("summary.json").toFile());
    assertThat(lines).hasSize(summary.get("messages").asInt());
    assertThat(summary.get("malformed").asInt()).isPositive();
    assertThat(summary.get("duplicates").asInt()).isPositive();

    // The oracle's latest state, recomputed from the valid lines: highest version per key, deletes removed.
    Map<String, JsonNode> newest = new HashMap<>();
    for (String l : lines) {
      JsonNode n;
      try {
        n = JSON.readTree(l);
      } catch (Exception e) {
        continue;
      }
      if (n == null || !n.hasNonNull("payment_id") || !n.hasNonNull("event_time") || !n.get("amount").isNumber()
          || n.get("payment_id").asText().startsWith("bad-")) {
        continue;
      }
      newest.merge(n.get("payment_id").asText(), n, (a, b) -> b.get("version").asLong() > a.get("version").asLong() ? b : a);
    }
    newest.values().removeIf(n -> "d".equals(n.get("op").asText()));
    Map<String, String> expected = new HashMap<>();
    newest.forEach((k, n) -> expected.put(k, n.toString()));
    Map<String, String> oracleLatest = new HashMap<>();
    for (String l : Files.readAllLines(oracle.resolve("latest.jsonl"))) {
      oracleLatest.put(JSON.readTree(l).get("payment_id").asText(), JSON.readTree(l).toString());
    }
    assertThat(oracleLatest).isEqualTo(expected).hasSize(summary.get("latest_keys").asInt());
    assertThat(Files.readAllLines(oracle.resolve("first-seen.jsonl"))).hasSize(400);

    // The history oracle: its current rows are the latest state; every other row ends at the next row's
    // version of its key, or at a delete (the key's last version, with no row of its own).
    List<JsonNode> history = new ArrayList<>();
    for (String l : Files.readAllLines(oracle.resolve("history.jsonl"))) {
      history.add(JSON.readTree(l));
    }
    assertThat(history).hasSize(summary.get("history_rows").asInt());
    Map<String, String> current = new HashMap<>();
    for (int i = 0; i < history.size(); i++) {
      JsonNode n = history.get(i);
      assertThat(n.get("__start_at").asLong()).isEqualTo(n.get("version").asLong());
      String key = n.get("payment_id").asText();
      boolean lastOfKey = i + 1 == history.size() || !history.get(i + 1).get("payment_id").asText().equals(key);
      if (n.get("__end_at").isNull()) {
        assertThat(lastOfKey).as("only the last row of %s is current", key).isTrue();
        ObjectNode latest = n.deepCopy();
        latest.remove(List.of("__start_at", "__end_at"));
        current.put(key, latest.toString());
      } else if (!lastOfKey) {
        assertThat(n.get("__end_at").asLong()).as("%s closes at the next version", n)
            .isEqualTo(history.get(i + 1).get("version").asLong());
      } else {
        assertThat(n.get("__end_at").asLong()).as("%s closed by its key's delete", n).isGreaterThan(n.get("version").asLong());
      }
    }
    assertThat(current).isEqualTo(expected);
  }

  @Test
  void kafkaReceivesEveryMessage() throws Exception {
    String topic = "gen-" + Long.toHexString(System.nanoTime());
    Path oracle = tmp.resolve("oracle");
    assertThat(run(new StringWriter(), "generate", "--to", "kafka", "--kafka-servers", TestKafka.servers(), "--topic", topic,
        "--oracle", oracle.toString(), "--keys", "300", "--rate", "20000")).isZero();
    List<ConsumerRecord<String, String>> records = TestKafka.read(topic, true);
    assertThat(records).hasSize(JSON.readTree(oracle.resolve("summary.json").toFile()).get("messages").asInt());
  }

  @Test
  void aFailedSendFailsTheCommandInsteadOfLosingMessages() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "generate", "--to", "kafka", "--kafka-servers", TestKafka.servers(), "--topic", "not a valid topic!",
        "--oracle", tmp.resolve("o").toString(), "--keys", "20")).isNotZero();
    assertThat(err.toString()).contains("not a valid topic!");
  }

  /**
   * {@code --schema-v2-from N}: the first N distinct events (in the order they are first sent) are exactly those of the
   * same feed without the option; every later one carries {@code channel} and an amount only the v2 schema holds, its
   * re-sent copies are identical to it, and the oracle holds the v2 events as sent.
   */
  @Test
  void schemaV2FromSwitchesTheEventsFromThatIndex() throws Exception {
    List<String> v1 = generateFiles("v1");
    List<String> mixed = generateFiles("v2", "--schema-v2-from", "500");
    assertThat(mixed).hasSameSizeAs(v1);
    Map<String, JsonNode> seen = new HashMap<>();
    int distinct = 0;
    for (int i = 0; i < mixed.size(); i++) {
      JsonNode n = validEvent(mixed.get(i));
      if (n == null) {
        assertThat(mixed.get(i)).as("malformed line %d unchanged", i).isEqualTo(v1.get(i));
        continue;
      }
      String event = n.get("payment_id").asText() + "@" + n.get("version").asLong();
      JsonNode first = seen.putIfAbsent(event, n);
      if (first != null) {
        assertThat(n).as("a re-sent copy of %s is identical to the first", event).isEqualTo(first);
        continue;
      }
      JsonNode old = DECIMALS.readTree(v1.get(i));
      if (distinct++ < 500) {
        assertThat(n).as("event %d (before the point) as without the option", distinct - 1).isEqualTo(old);
      } else {
        assertThat(n.get("channel").asText()).as("event %d carries the added field", distinct - 1).isIn("web", "app", "pos");
        assertThat(n.get("amount").decimalValue()).as("event %d's amount needs DECIMAL(16,2)", distinct - 1)
            .isGreaterThanOrEqualTo(new BigDecimal("10000000000.00"))
            .isEqualByComparingTo(old.get("amount").decimalValue().add(new BigDecimal("10000000000.00")));
        ObjectNode back = n.deepCopy();
        back.remove("channel");
        back.put("amount", old.get("amount").decimalValue());
        assertThat((JsonNode) back).as("event %d otherwise as without the option", distinct - 1).isEqualTo(old);
      }
    }
    assertThat(distinct).isEqualTo(600);
    JsonNode summary = JSON.readTree(tmp.resolve("v2-oracle/summary.json").toFile());
    assertThat(summary.get("schema_v2_from").asLong()).isEqualTo(500);
    assertThat(summary.get("schema_v2_events").asLong()).isEqualTo(100);
    long latestV2 = 0;
    for (String l : Files.readAllLines(tmp.resolve("v2-oracle/latest.jsonl"))) {
      JsonNode n = DECIMALS.readTree(l);
      assertThat(n).as("the oracle holds the event as sent").isEqualTo(seen.get(n.get("payment_id").asText() + "@"
          + n.get("version").asLong()));
      latestV2 += n.has("channel") ? 1 : 0;
    }
    assertThat(latestV2).as("latest rows of the v2 generation").isPositive();
  }

  @Test
  void schemaV2WithoutWideningAddsTheFieldOnly() throws Exception {
    List<String> v1 = generateFiles("v1");
    List<String> added = generateFiles("v2", "--schema-v2-from", "0", "--no-schema-v2-widen");
    for (int i = 0; i < added.size(); i++) {
      JsonNode n = validEvent(added.get(i));
      if (n != null) {
        assertThat(n.get("channel").asText()).isIn("web", "app", "pos");
        assertThat(n.get("amount").decimalValue()).isEqualByComparingTo(DECIMALS.readTree(v1.get(i)).get("amount").decimalValue());
      }
    }
  }

  @Test
  void badSchemaV2OptionsNameTheOption() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "generate", "--to", "files", "--dir", tmp.toString(), "--oracle", tmp.toString(), "--keys", "10",
        "--versions", "2", "--schema-v2-from", "21")).isNotZero();
    assertThat(err.toString()).contains("--schema-v2-from: 21 is beyond the 20 events (--keys x --versions); "
        + "give an index from 0 (every event v2) to 20 (none).");
    StringWriter err2 = new StringWriter();
    assertThat(run(err2, "generate", "--to", "files", "--dir", tmp.toString(), "--oracle", tmp.toString(),
        "--schema-v2-from", "-1")).isNotZero();
    assertThat(err2.toString()).contains("--schema-v2-from: -1 is negative");
    StringWriter err3 = new StringWriter();
    assertThat(run(err3, "generate", "--to", "files", "--dir", tmp.toString(), "--oracle", tmp.toString(),
        "--no-schema-v2-widen")).isNotZero();
    assertThat(err3.toString()).contains("--no-schema-v2-widen needs --schema-v2-from");
  }

  /** The lines of a feed of 200 payments x 3 versions (seed 7) in one file, its oracle in {@code <name>-oracle}. */
  private List<String> generateFiles(String name, String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("generate", "--to", "files", "--dir", tmp.resolve(name).toString(), "--files",
        "1", "--oracle", tmp.resolve(name + "-oracle").toString(), "--keys", "200", "--versions", "3", "--deletes", "0.2",
        "--duplicates", "0.1", "--malformed", "0.05", "--seed", "7", "--start", "2026-01-01T00:00:00Z"));
    args.addAll(List.of(extra));
    StringWriter err = new StringWriter();
    assertThat(run(err, args.toArray(String[]::new))).as("generate: %s", err).isZero();
    return Files.readAllLines(tmp.resolve(name).resolve("part-00000.json"));
  }

  /** The line as JSON if it is a valid event (as the pipeline would parse it), else null. */
  private static JsonNode validEvent(String line) {
    try {
      JsonNode n = DECIMALS.readTree(line);
      boolean ok = n != null && n.hasNonNull("payment_id") && n.hasNonNull("event_time") && n.get("amount").isNumber()
          && !n.get("payment_id").asText().startsWith("bad-");
      return ok ? n : null;
    } catch (Exception e) {
      return null;
    }
  }

  @Test
  void badOptionsNameTheOptionAndTheValue() {
    StringWriter err = new StringWriter();
    assertThat(run(err, "generate", "--to", "files", "--dir", tmp.toString(), "--oracle", tmp.toString(), "--duplicates", "1.5"))
        .isNotZero();
    assertThat(err.toString()).contains("--duplicates: 1.5 is not a fraction");
    StringWriter err2 = new StringWriter();
    assertThat(run(err2, "generate", "--to", "kafka", "--oracle", tmp.toString())).isNotZero();
    assertThat(err2.toString()).contains("--to kafka needs --kafka-servers");
  }
}
