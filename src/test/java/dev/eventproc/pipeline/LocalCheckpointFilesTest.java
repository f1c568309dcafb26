package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.testutils.LogCapture;
import dev.eventproc.testutils.TestSpark;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import jdk.jfr.Recording;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileAlreadyExistsException;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.api.java.function.VoidFunction2;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.CheckpointFileManager;
import org.apache.spark.sql.execution.streaming.CheckpointFileManager.CancellableFSDataOutputStream;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;

/**
 * eventproc's checkpoint file manager: on the local file system it keeps Spark's promises (a file
 * appears whole, a write that must not overwrite fails when the file exists, a cancelled write leaves
 * nothing) without starting a process, which Spark's default manager does five times per file.
 */
class LocalCheckpointFilesTest {
  private static final String IN_THE_WAY = "in-the-way";
  private static final String SPARKS_DEFAULT = "org.apache.spark.sql.execution.streaming.FileContextBasedCheckpointFileManager";

  private static CheckpointFiles files(Path dir) throws IOException {
    CheckpointFiles files = new CheckpointFiles(new org.apache.hadoop.fs.Path(dir.toUri()), new Configuration());
    assertThat(files.isOwnLocal()).as("a local directory gets the local manager").isTrue();
    return files;
  }

  private static void write(CheckpointFileManager files, Path file, String text, boolean overwrite) throws IOException {
    CancellableFSDataOutputStream out = files.createAtomic(new org.apache.hadoop.fs.Path(file.toUri()), overwrite);
    out.write(text.getBytes(StandardCharsets.UTF_8));
    out.close();
  }

  /** Puts a non-empty directory in place of {@code file}, so deleting it fails (even for root); returns {@code file}. */
  private static Path undeletable(Path file) throws IOException {
    Files.delete(file);
    Files.createDirectories(file.resolve(IN_THE_WAY));
    return file;
  }

  private static List<String> names(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void aFileThatMustNotBeOverwrittenIsRefusedAndTheFirstStaysWhole() throws IOException {
    Path dir = TestSpark.newDir("checkpoint-files");
    CheckpointFiles files = files(dir);
    Path file = dir.resolve("7");
    CancellableFSDataOutputStream first = files.createAtomic(new org.apache.hadoop.fs.Path(file.toUri()), false);
    CancellableFSDataOutputStream second = files.createAtomic(new org.apache.hadoop.fs.Path(file.toUri()), false);
    first.write("first".getBytes(StandardCharsets.UTF_8));
    second.write("second".getBytes(StandardCharsets.UTF_8));
    assertThat(file).as("nothing visible before close").doesNotExist();
    first.close();
    assertThatThrownBy(second::close).isInstanceOf(FileAlreadyExistsException.class).hasMessageContaining(file.toString());
    assertThat(file).hasContent("first");
    assertThat(names(dir)).as("no temporary file left").containsExactly("7");
  }

  @Test
  void anOverwriteReplacesTheFileAndItsStaleChecksumAndACancelLeavesNothing() throws IOException {
    Path dir = TestSpark.newDir("checkpoint-files");
    CheckpointFiles files = files(dir);
    Path file = dir.resolve("1.delta");
    write(files, file, "old", false);
    Files.writeString(dir.resolve(".1.delta.crc"), "checksum of old"); // as Hadoop's checksummed file system leaves it
    write(files, file, "new", true);
    assertThat(file).hasContent("new");
    assertThat(names(dir)).as("the stale checksum is gone").containsExactly("1.delta");

    CancellableFSDataOutputStream cancelled = files.createAtomic(new org.apache.hadoop.fs.Path(dir.resolve("2.delta").toUri()), false);
    cancelled.write(1);
    cancelled.cancel();
    cancelled.close();
    assertThat(names(dir)).containsExactly("1.delta");

    Files.writeString(dir.resolve(".1.delta.crc"), "x");
    FileStatus[] listed = files.list(new org.apache.hadoop.fs.Path(dir.toUri()));
    assertThat(Arrays.stream(listed).map(s -> s.getPath().getName())).as("listings hide checksums").containsExactly("1.delta");
    try (var in = files.open(new org.apache.hadoop.fs.Path(file.toUri()))) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("new");
    }
    assertThatThrownBy(() -> files.open(new org.apache.hadoop.fs.Path(dir.resolve("9").toUri())))
        .isInstanceOf(java.io.FileNotFoundException.class);
    files.delete(new org.apache.hadoop.fs.Path(file.toUri()));
    assertThat(names(dir)).isEmpty();

    write(files, dir.resolve("state/0/1.delta"), "x", false);
    assertThat(dir.resolve("state/0/1.delta")).as("parents created, as Hadoop's create does").hasContent("x");
  }

  /**
   * A cancel comes while its caller handles another failure: a temporary file it cannot delete is
   * warned about, as Spark's manager does, and does not replace that failure with its own.
   */
  @Test
  void aCancelThatCannotDeleteItsTemporaryFileDoesNotThrow() throws IOException {
    Path dir = TestSpark.newDir("checkpoint-files");
    CheckpointFiles files = files(dir);
    CancellableFSDataOutputStream out = files.createAtomic(new org.apache.hadoop.fs.Path(dir.resolve("3").toUri()), false);
    out.write(1);
    Path temp = undeletable(dir.resolve(names(dir).get(0)));
    try (LogCapture logs = new LogCapture()) {
      out.cancel();
      assertThat(logs.all()).contains("Could not delete the temporary checkpoint file " + temp);
    }
    assertThat(dir.resolve("3")).doesNotExist();
  }

  /**
   * A write refused because its file exists (another run of the query wrote it) fails with Hadoop's
   * {@code FileAlreadyExistsException}, which Spark reads as a concurrent run, even when its temporary
   * file cannot be deleted afterwards.
   */
  @Test
  void aRefusedWriteStaysRefusedWhenItsTemporaryFileCannotBeDeleted() throws IOException {
    Path dir = TestSpark.newDir("checkpoint-files");
    CheckpointFiles files = files(dir);
    Path file = dir.resolve("4");
    write(files, file, "first", false);
    CancellableFSDataOutputStream second = files.createAtomic(new org.apache.hadoop.fs.Path(file.toUri()), false);
    second.write(1);
    undeletable(dir.resolve(names(dir).stream().filter(n -> n.endsWith(".tmp")).findFirst().orElseThrow()));
    assertThatThrownBy(second::close).isInstanceOf(FileAlreadyExistsException.class);
    assertThat(file).hasContent("first");
  }

  /**
   * The stale checksum goes before the new content appears: if it could not go (or the process died
   * in between), the old content must stay beside its own checksum, never the new content beside the old
   * checksum, which Spark's default manager would refuse to read.
   */
  @Test
  void anOverwriteWhoseStaleChecksumCannotGoLeavesTheOldContent() throws IOException {
    Path dir = TestSpark.newDir("checkpoint-files");
    CheckpointFiles files = files(dir);
    Path file = dir.resolve("2.delta");
    write(files, file, "old", false);
    Files.createDirectories(dir.resolve(".2.delta.crc").resolve(IN_THE_WAY)); // deleting it fails even for root
    assertThatThrownBy(() -> write(files, file, "new", true)).isInstanceOf(IOException.class);
    assertThat(file).hasContent("old");
  }

  /**
   * A checkpoint location behind a symbolic link (a mounted volume) is used as the directory it points to.
   * Without the check before {@code createDirectories} this fails only on JDK 17 builds before 17.0.14
   * (JDK-8294193), not on the 17.0.15 this project's CI runs: it guards users on older JDKs.
   */
  @Test
  void aCheckpointBehindASymbolicLinkIsWritten() throws IOException {
    Path dir = TestSpark.newDir("checkpoint-files");
    Path real = Files.createDirectories(dir.resolve("volume"));
    Path link = Files.createSymbolicLink(dir.resolve("checkpoint"), real);
    CheckpointFiles files = files(link);
    files.mkdirs(new org.apache.hadoop.fs.Path(link.toUri()));
    write(files, link.resolve("offsets/0"), "v1", false);
    assertThat(real.resolve("offsets/0")).hasContent("v1");
  }

  /**
   * A stateful query over three batches: with eventproc's manager its checkpoint starts no process
   * (recorded by Java Flight Recorder); the same query with Spark's default manager starts some for
   * every file, which shows the recording sees them.
   */
  @Test
  void aStatefulQueryCheckpointsWithoutStartingProcesses() throws Exception {
    SparkSession spark = TestSpark.session();
    assertThat(spark.conf().get(CheckpointFiles.CONF_KEY)).isEqualTo(CheckpointFiles.class.getName());
    assertThat(processesStartedBy(spark, TestSpark.newDir("checkpoint-own"))).as("processes started, eventproc's manager").isEmpty();
    spark.conf().set(CheckpointFiles.CONF_KEY, SPARKS_DEFAULT);
    try {
      assertThat(processesStartedBy(spark, TestSpark.newDir("checkpoint-spark"))).as("processes started, Spark's default")
          .isNotEmpty();
    } finally {
      spark.conf().set(CheckpointFiles.CONF_KEY, CheckpointFiles.class.getName());
    }
  }

  /**
   * One deduplicating query restarted on its checkpoint with eventproc's manager, then Spark's default
   * (as a user switching eventproc off would), then eventproc's again: each restart reads the state and
   * logs the other wrote, so a duplicate of an event from an earlier run is still dropped and every
   * event comes out once. (No run overwrites a file the other manager wrote; the stale checksum has its
   * own tests above.)
   */
  @Test
  void aCheckpointMovesBetweenSparksManagerAndEventprocsBothWays() throws Exception {
    SparkSession spark = TestSpark.session();
    Path dir = TestSpark.newDir("checkpoint-switch");
    List<String> out = new CopyOnWriteArrayList<>();
    String[] managers = {CheckpointFiles.class.getName(), SPARKS_DEFAULT, CheckpointFiles.class.getName()};
    long committed = 0;
    try {
      for (int run = 0; run < managers.length; run++) {
        spark.conf().set(CheckpointFiles.CONF_KEY, managers[run]);
        try (OutputStream file = Files.newOutputStream(Files.createDirectories(dir.resolve("in")).resolve(run + ".json"))) {
          // a new event, and a duplicate of the first run's event
          file.write(("{\"id\":\"e" + run + "\",\"t\":\"2026-03-01T10:00:0" + run + "Z\"}\n"
              + "{\"id\":\"e0\",\"t\":\"2026-03-01T10:00:00Z\"}\n").getBytes(StandardCharsets.UTF_8));
        }
        spark.readStream().schema("id STRING, t TIMESTAMP").json(dir.resolve("in").toString())
            .withWatermark("t", "1 minute").dropDuplicatesWithinWatermark("id").writeStream()
            .option("checkpointLocation", dir.resolve("checkpoint").toString())
            .foreachBatch((VoidFunction2<Dataset<Row>, Long>) (batch, id) -> batch.collectAsList().forEach(r -> out.add(r.getString(0))))
            .trigger(Trigger.AvailableNow()).start().awaitTermination();
        assertThat(commits(dir.resolve("checkpoint/commits"))).as("run %d (%s) committed a batch", run, managers[run])
            .isGreaterThan(committed);
        committed = commits(dir.resolve("checkpoint/commits"));
      }
    } finally {
      spark.conf().set(CheckpointFiles.CONF_KEY, CheckpointFiles.class.getName());
    }
    assertThat(out).containsExactlyInAnyOrder("e0", "e1", "e2");
  }

  private static long commits(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().matches("\\d+")).count();
    }
  }

  /** The commands of the processes started while a deduplicating query runs three batches with a checkpoint under {@code dir}. */
  private static List<String> processesStartedBy(SparkSession spark, Path dir) throws Exception {
    for (int i = 0; i < 3; i++) {
      try (OutputStream out = Files.newOutputStream(Files.createDirectories(dir.resolve("in")).resolve(i + ".json"))) {
        out.write(("{\"id\":\"a" + i + "\",\"t\":\"2026-03-01T10:00:0" + i + "Z\"}\n{\"id\":\"a0\",\"t\":\"2026-03-01T10:00:00Z\"}\n")
            .getBytes(StandardCharsets.UTF_8));
      }
    }
    Path jfr = dir.resolve("processes.jfr");
    try (Recording recording = new Recording()) {
      recording.enable("jdk.ProcessStart");
      recording.start();
      Dataset<Row> in = spark.readStream().schema("id STRING, t TIMESTAMP").option("maxFilesPerTrigger", 1)
          .json(dir.resolve("in").toString());
      in.withWatermark("t", "1 minute").dropDuplicatesWithinWatermark("id").writeStream()
          .option("checkpointLocation", dir.resolve("checkpoint").toString())
          .foreachBatch((VoidFunction2<Dataset<Row>, Long>) (batch, id) -> batch.count())
          .trigger(Trigger.AvailableNow()).start().awaitTermination();
      recording.stop();
      recording.dump(jfr);
    }
    assertThat(dir.resolve("checkpoint/commits/2")).as("three batches committed").exists();
    List<String> commands = new ArrayList<>();
    for (RecordedEvent e : RecordingFile.readAllEvents(jfr)) {
      commands.add(e.getString("command"));
    }
    return commands;
  }
}
