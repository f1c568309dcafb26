package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.eventproc.testutils.TestKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
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
