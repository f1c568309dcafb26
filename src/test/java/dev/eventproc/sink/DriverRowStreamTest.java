package dev.eventproc.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.testutils.TestSpark;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.junit.jupiter.api.Test;

class DriverRowStreamTest {
  private final SparkSession spark = TestSpark.session();
  /** Counted down by the task of partition 1 when it starts (tasks run in this JVM: local mode). */
  private static volatile CountDownLatch partitionOneStarted;
  /** Whether the task of partition 1, held until then, found itself killed (its job cancelled). */
  private static volatile boolean partitionOneKilled;
  /** Counted down when the held task of partition 1 ends (Spark drops a cancelled job before its tasks have stopped). */
  private static volatile CountDownLatch partitionOneEnded;

  private Dataset<Row> rows(int partitions) {
    return spark.range(0, 5_000, 1, partitions).selectExpr(
        "concat('k', CAST(id AS STRING)) AS id",
        "CASE WHEN id % 7 = 0 THEN NULL ELSE id END AS version",
        "CAST(id / 100.0 AS DECIMAL(12,2)) AS amount",
        "timestamp_millis(1700000000000 + id) AS at",
        "named_struct('a', id, 'b', array(id, id + 1)) AS nested",
        "repeat('x', CAST(id % 500 AS INT)) AS padding");
  }

  @Test
  void everyRowOfEveryPartitionInPartitionOrderAsSparkHasThem() {
    Dataset<Row> rows = rows(5);
    List<InternalRow> expected = rows.queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    assertThat(expected).hasSize(5_000);
    for (int ahead : new int[] {0, 1, 3}) {
      List<InternalRow> got = new ArrayList<>();
      try (DriverRowStream stream = DriverRowStream.of(rows, ahead)) {
        stream.forEachRemaining(r -> got.add(r.copy()));
      }
      assertThat(got).as("ahead=" + ahead).containsExactlyElementsOf(expected);
    }
    try (DriverRowStream empty = DriverRowStream.of(rows.limit(0), 1)) {
      assertThat(empty.hasNext()).isFalse();
    }
  }

  @Test
  void theNextPartitionsJobRunsWhileTheCallerConsumesOneAndCloseCancelsIt() throws Exception {
    partitionOneStarted = new CountDownLatch(1);
    partitionOneEnded = new CountDownLatch(1);
    partitionOneKilled = false;
    Dataset<Row> rows = rows(3).mapPartitions((MapPartitionsFunction<Row, Row>) DriverRowStreamTest::holdPartitionOne,
        Encoders.row(rows(3).schema()));
    try (DriverRowStream stream = DriverRowStream.of(rows, 1)) {
      assertThat(stream.next().getUTF8String(0).toString()).isEqualTo("k0");
      // Still on partition 0: the job of partition 1 must be running already (toLocalIterator starts it later).
      assertThat(partitionOneStarted.await(20, TimeUnit.SECONDS)).as("partition 1's task started while partition 0 is consumed").isTrue();
    }
    long deadline = System.currentTimeMillis() + 30_000;
    while (spark.sparkContext().statusTracker().getActiveJobIds().length > 0 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertThat(spark.sparkContext().statusTracker().getActiveJobIds()).as("jobs left running after close").isEmpty();
    assertThat(partitionOneEnded.await(30, TimeUnit.SECONDS)).as("partition 1's task ended").isTrue();
    assertThat(partitionOneKilled).as("partition 1's task was cancelled by close").isTrue();
  }

  /** awaitRows says whether a row is at hand within a deadline, without blocking past it on a job that is still running. */
  @Test
  void awaitRowsReturnsAtItsDeadlineWhileAPartitionIsStillComputed() throws Exception {
    heldStarted = new CountDownLatch(1);
    held = new CountDownLatch(1);
    Dataset<Row> rows = rows(3).mapPartitions((MapPartitionsFunction<Row, Row>) DriverRowStreamTest::holdPartitionOneUntilReleased,
        Encoders.row(rows(3).schema()));
    try (DriverRowStream stream = DriverRowStream.of(rows, 1)) {
      assertThat(stream.awaitRows(System.nanoTime() + TimeUnit.SECONDS.toNanos(30))).as("partition 0 arrives").isTrue();
      ReadUntilWait got = readUntilWait(stream); // partition 0's rows are at hand; then partition 1 is held
      assertThat(got.ready()).as("partition 1 is held: no rows by the deadline").isFalse();
      assertThat(got.read()).as("partition 0's rows").isBetween(1, 4_999);
      assertThat(heldStarted.getCount()).isZero();
      assertThat(got.waitedNanos()).as("returned at the deadline, not when the job ended").isLessThan(TimeUnit.SECONDS.toNanos(5));
      held.countDown();
      assertThat(stream.awaitRows(System.nanoTime() + TimeUnit.SECONDS.toNanos(30))).as("released: partition 1 arrives").isTrue();
      stream.forEachRemaining(r -> { });
    }
  }

  /** An empty partition that arrives does not end the wait: awaitRows goes on to the next one, still within its deadline. */
  @Test
  void awaitRowsLooksPastEmptyPartitionsWithinItsDeadline() throws Exception {
    heldStarted = new CountDownLatch(1);
    held = new CountDownLatch(1);
    Dataset<Row> rows = rows(4).mapPartitions((MapPartitionsFunction<Row, Row>) DriverRowStreamTest::emptyOneHoldTwo,
        Encoders.row(rows(4).schema()));
    try (DriverRowStream stream = DriverRowStream.of(rows, 1)) {
      assertThat(stream.awaitRows(System.nanoTime() + TimeUnit.SECONDS.toNanos(30))).as("partition 0 arrives").isTrue();
      ReadUntilWait got = readUntilWait(stream); // partition 0's rows, then partition 1 (empty, at once), then 2 (held)
      assertThat(got.ready()).as("partition 2 is held: no rows by the deadline (read %d rows)", got.read()).isFalse();
      assertThat(got.waitedNanos()).as("returned at the deadline").isLessThan(TimeUnit.SECONDS.toNanos(5));
      held.countDown();
      stream.forEachRemaining(r -> { });
    }
  }

  /** Rows read while each awaitRows (300 ms) found rows at hand; its answer and wait when it stopped. */
  private record ReadUntilWait(int read, boolean ready, long waitedNanos) {}

  private static ReadUntilWait readUntilWait(DriverRowStream stream) {
    int read = 0;
    while (true) {
      long before = System.nanoTime();
      boolean ready = stream.awaitRows(before + TimeUnit.MILLISECONDS.toNanos(300));
      long waited = System.nanoTime() - before;
      if (!ready || !stream.hasNext()) {
        return new ReadUntilWait(read, ready, waited);
      }
      stream.next();
      read++;
    }
  }

  private static Iterator<Row> emptyOneHoldTwo(Iterator<Row> rows) throws InterruptedException {
    int p = TaskContext.getPartitionId();
    if (p == 1) {
      return java.util.Collections.emptyIterator();
    }
    if (p == 2) {
      heldStarted.countDown();
      held.await(10, TimeUnit.SECONDS);
    }
    return rows;
  }

  /** For the awaitRows tests: counted down when the held partition's task starts; the task waits for {@link #held}. */
  private static volatile CountDownLatch heldStarted;
  private static volatile CountDownLatch held;

  private static Iterator<Row> holdPartitionOneUntilReleased(Iterator<Row> rows) throws InterruptedException {
    if (TaskContext.getPartitionId() == 1) {
      heldStarted.countDown();
      held.await(30, TimeUnit.SECONDS);
    }
    return rows;
  }

  @Test
  void aPartitionLargerThanTheBoundFailsWithPartitionTooLarge() {
    Dataset<Row> rows = spark.range(0, 40_000, 1, 2).selectExpr("sha2(CAST(id AS STRING), 512) AS a", "sha2(CAST(-id AS STRING), 512) AS b");
    try (DriverRowStream stream = DriverRowStream.of(rows, 1, 512 * 1024)) {
      assertThatThrownBy(() -> stream.forEachRemaining(r -> { }))
          .isInstanceOf(DriverRowStream.PartitionTooLargeException.class)
          .hasMessageStartingWith("eventproc: partition larger than the driver stream's bound of 524288 compressed bytes (partition ");
    }
    try (DriverRowStream stream = DriverRowStream.of(rows, 1, 64L << 20)) {
      int[] n = {0};
      stream.forEachRemaining(r -> n[0]++);
      assertThat(n[0]).as("within the bound: every row").isEqualTo(40_000);
    }
  }

  @Test
  void aFailingTaskFailsTheCallerWithSparksError() {
    Dataset<Row> rows = rows(3).selectExpr("id", "assert_true(id != 'k4000', 'bad row k4000') AS check");
    try (DriverRowStream stream = DriverRowStream.of(rows, 1)) {
      assertThatThrownBy(() -> stream.forEachRemaining(r -> { }))
          .hasStackTraceContaining("bad row k4000");
    }
  }

  private static Iterator<Row> holdPartitionOne(Iterator<Row> rows) throws InterruptedException {
    if (TaskContext.getPartitionId() == 1) {
      partitionOneStarted.countDown();
      long deadline = System.currentTimeMillis() + 30_000; // held until its job is cancelled
      while (!TaskContext.get().isInterrupted() && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      partitionOneKilled = TaskContext.get().isInterrupted();
      partitionOneEnded.countDown();
    }
    return rows;
  }
}
