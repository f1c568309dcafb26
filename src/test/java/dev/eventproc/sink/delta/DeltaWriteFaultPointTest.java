package dev.eventproc.sink.delta;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.FaultInjection.Point;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The {@code task-written} fault point of the Delta sink is inside the Spark tasks that write the data
 * files of the batch's commit: when a task reaches it, a data file that the batch's commit will add is
 * on disk and the commit is not in the log yet. (What {@code ExecutorLossIT} kills an executor at.)
 */
class DeltaWriteFaultPointTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final SparkSession spark = TestSpark.session();
  private final Path dir = TestSpark.newDir("delta-write-point");

  /** What the table's directory holds when a task passes the point. */
  private record Seen(Point point, String sink, long batch, boolean inTask, Set<String> dataFiles, int commits) {}

  @AfterEach
  void unhook() {
    FaultInjection.setTestHook(null);
  }

  @ParameterizedTest
  @EnumSource(value = WriteMode.class, names = {"UPSERT", "INSERT_IF_ABSENT", "APPEND"})
  void tasksPassThePointWhileWritingTheCommitsDataFiles(WriteMode mode) {
    Path table = dir.resolve(mode.name().toLowerCase());
    SinkSpec.Builder spec = SinkSpec.builder().name("payments").mode(mode);
    if (mode != WriteMode.APPEND) {
      spec.keyColumns("id");
    }
    if (mode == WriteMode.UPSERT) {
      spec.versionColumn("version");
    }
    DeltaSink sink = DeltaSink.atPath(spec.build(), table.toString());
    assertThat(sink.write(rows(0, 400, 1), 0, "q").status()).isEqualTo(Status.COMMITTED);
    Set<String> before = dataFiles(table);
    int commitsBefore = commits(table);
    List<Seen> seen = Collections.synchronizedList(new ArrayList<>());
    FaultInjection.setTestHook((point, sink1, batch) -> {
      if (point == Point.TASK_WRITTEN) {
        Set<String> now = dataFiles(table);
        now.removeAll(before);
        seen.add(new Seen(point, sink1, batch, TaskContext.get() != null, now, commits(table)));
      }
    });

    // Keys 200..599: half update batch 0's rows, half are new; two partitions, so two writing tasks.
    assertThat(sink.write(rows(200, 600, 2).repartition(2), 1, "q").status()).isEqualTo(Status.COMMITTED);
    FaultInjection.setTestHook(null);

    Set<String> addedByBatch1 = addedBy(table, 1);
    assertThat(seen).as("tasks that passed the point").isNotEmpty();
    for (Seen s : seen) {
      assertThat(s.sink()).isEqualTo("payments");
      assertThat(s.batch()).isEqualTo(1);
      assertThat(s.inTask()).as("passed in a Spark task").isTrue();
      assertThat(s.commits()).as("batch 1 not committed yet").isEqualTo(commitsBefore);
      assertThat(s.dataFiles()).as("a data file of batch 1's commit, on disk before the commit").containsAnyElementsOf(addedByBatch1);
    }
  }

  /** Keys {@code from} to {@code to - 1}, each with version {@code version}. */
  private Dataset<Row> rows(int from, int to, long version) {
    return spark.range(from, to).selectExpr("format_string('k%04d', id) AS id", version + "L AS version", "CAST(id AS INT) AS amount");
  }

  private static Set<String> dataFiles(Path table) {
    try (Stream<Path> files = Files.list(table)) {
      return new HashSet<>(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet")).toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static int commits(Path table) {
    try (Stream<Path> files = Files.list(table.resolve("_delta_log"))) {
      return (int) files.filter(p -> p.toString().endsWith(".json")).count();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The data files added by the commit that records {@code batch} (Delta's transaction id). */
  private static Set<String> addedBy(Path table, long batch) {
    try (Stream<Path> files = Files.list(table.resolve("_delta_log"))) {
      for (Path commit : files.filter(p -> p.toString().endsWith(".json")).toList()) {
        Set<String> added = new HashSet<>();
        boolean recordsBatch = false;
        for (String line : Files.readAllLines(commit)) {
          JsonNode action = JSON.readTree(line);
          added.addAll(action.has("add") ? List.of(action.get("add").get("path").asText()) : List.of());
          recordsBatch |= action.has("txn") && action.get("txn").get("version").asLong() == batch;
        }
        if (recordsBatch) {
          return added;
        }
      }
      return Set.of();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
