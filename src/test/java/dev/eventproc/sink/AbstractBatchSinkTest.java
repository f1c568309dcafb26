package dev.eventproc.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.testutils.TestSpark;
import java.util.HashSet;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.junit.jupiter.api.Test;

/** The shared machinery of every adapter, driven through a small in-memory adapter. */
class AbstractBatchSinkTest {
  private final SparkSession spark = TestSpark.session();

  /** Commits into a set of (writer, batch); can be told to fail after "someone else" committed. */
  static class InMemorySink extends AbstractBatchSink {
    final Set<String> committed = new HashSet<>();
    boolean raceOnNextCommit;
    int commits;
    int recordReads;
    int emptyNotRecorded;

    InMemorySink() {
      this(SinkSpec.builder().name("mem").mode(WriteMode.APPEND).build());
    }

    InMemorySink(SinkSpec spec) {
      super(spec);
    }

    @Override
    protected boolean isCommitted(SparkSession session, WriterId writer, long batchId) {
      recordReads++;
      return committed.contains(writer.appId() + "#" + batchId);
    }

    @Override
    protected void emptyBatchNotRecorded(Dataset<Row> batch) {
      emptyNotRecorded++;
    }

    @Override
    protected CommitResult commit(BatchContext batch) {
      if (raceOnNextCommit) {
        raceOnNextCommit = false;
        committed.add(batch.writer().appId() + "#" + batch.batchId()); // a zombie of this writer won
        throw new IllegalStateException("conflict");
      }
      commits++;
      committed.add(batch.writer().appId() + "#" + batch.batchId());
      return CommitResult.written(batch.rowsIn());
    }

    @Override
    public String target() {
      return "memory";
    }
  }

  @Test
  void replayIsSkippedAndCountedAndOtherQueriesAreOtherWriters() {
    InMemorySink sink = new InMemorySink();
    Dataset<Row> batch = spark.range(5).toDF();
    assertThat(sink.write(batch, 0, "q").status()).isEqualTo(Status.COMMITTED);
    BatchOutcome replay = sink.write(batch, 0, "q");
    assertThat(replay.status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(replay.rowsIn()).isEqualTo(5);
    assertThat(sink.write(batch, 0, "other-query").status()).isEqualTo(Status.COMMITTED);
    assertThat(sink.commits).isEqualTo(2);
    assertThat(sink.metrics().replaysSkipped()).isEqualTo(1);
    assertThat(sink.metrics().rowsWritten()).isEqualTo(10);
  }

  @Test
  void aFailedCommitThatAnotherAttemptWonCountsAsAReplay() {
    InMemorySink sink = new InMemorySink();
    sink.raceOnNextCommit = true;
    assertThat(sink.write(spark.range(3).toDF(), 4, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
  }

  @Test
  void aFailedCommitThatNobodyWonFailsTheBatch() {
    InMemorySink sink = new InMemorySink() {
      @Override
      protected CommitResult commit(BatchContext batch) {
        throw new IllegalStateException("disk full");
      }
    };
    assertThatThrownBy(() -> sink.write(spark.range(3).toDF(), 4, "q")).hasMessage("disk full");
  }

  @Test
  void emptyBatchesAreNotCommittedUnlessTheAdapterAsks() {
    InMemorySink sink = new InMemorySink();
    assertThat(sink.write(spark.range(0).toDF(), 0, "q").status()).isEqualTo(Status.EMPTY);
    assertThat(sink.commits).isZero();
  }

  /** An adapter that records empty batches (as Delta, Iceberg, files and PostgreSQL do). */
  static class RecordingSink extends InMemorySink {
    RecordingSink(boolean recordEmpty) {
      super(SinkSpec.builder().name("mem").mode(WriteMode.APPEND).recordEmptyBatches(recordEmpty).build());
    }

    @Override
    protected boolean recordsEmptyBatches() {
      return true;
    }
  }

  @Test
  void anAdapterThatRecordsEmptyBatchesCommitsThemUnlessTheSinkTurnsThatOff() {
    Dataset<Row> empty = spark.range(0).toDF().persist(StorageLevel.MEMORY_ONLY());
    RecordingSink recording = new RecordingSink(true);
    assertThat(recording.write(empty, 0, "q").status()).isEqualTo(Status.COMMITTED);
    assertThat(recording.commits).isEqualTo(1);
    assertThat(recording.recordsEveryBatch()).isTrue();

    // Off (the quarantine's default): an empty batch is neither committed nor looked up in the records,
    // which on Delta costs a log replay; the adapter hears of it once per batch.
    RecordingSink skipping = new RecordingSink(false);
    assertThat(skipping.write(empty, 0, "q").status()).isEqualTo(Status.EMPTY);
    assertThat(skipping.commits).isZero();
    assertThat(skipping.recordReads).isZero();
    assertThat(skipping.emptyNotRecorded).isEqualTo(1);
    assertThat(skipping.recordsEveryBatch()).isFalse();
    // A batch with rows is looked up and committed as always, and its replay skipped.
    Dataset<Row> rows = spark.range(3).toDF().persist(StorageLevel.MEMORY_ONLY());
    assertThat(skipping.write(rows, 1, "q").status()).isEqualTo(Status.COMMITTED);
    assertThat(skipping.write(rows, 1, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(skipping.commits).isEqualTo(1);
    empty.unpersist();
    rows.unpersist();
  }

  @Test
  void aBatchCountedByTheCallerCostsNoCountJobInTheSink() {
    InMemorySink sink = new InMemorySink();
    Dataset<Row> batch = spark.range(4).toDF();
    assertThat(jobsOf("counted", () -> sink.writeCounted(batch, 0, "q", new BatchCount(4, 0)))).isZero();
    assertThat(sink.commits).isEqualTo(1);
    assertThat(jobsOf("uncounted", () -> sink.write(batch, 1, "q"))).isPositive();
  }

  @Test
  void aCountedEmptyBatchIsStillCommittedBySinksThatRecordEmptyBatches() {
    Dataset<Row> empty = spark.range(0).toDF().persist(StorageLevel.MEMORY_ONLY());
    RecordingSink recording = new RecordingSink(true);
    assertThat(recording.writeCounted(empty, 0, "q", new BatchCount(0, 0)).status()).isEqualTo(Status.COMMITTED);
    assertThat(recording.commits).isEqualTo(1);
    assertThat(recording.emptyNotRecorded).isZero();
    RecordingSink skipping = new RecordingSink(false);
    assertThat(skipping.writeCounted(empty, 0, "q", new BatchCount(0, 0)).status()).isEqualTo(Status.EMPTY);
    assertThat(skipping.recordReads).isZero();
    empty.unpersist();
  }

  @Test
  void aCountedBatchWithNullKeysIsRefusedAsAnUncountedOneIs() {
    InMemorySink keyed = new InMemorySink(SinkSpec.builder().name("mem").mode(WriteMode.INSERT_IF_ABSENT).keyColumns("id").build());
    assertThatThrownBy(() -> keyed.writeCounted(spark.range(3).toDF(), 0, "q", new BatchCount(3, 1)))
        .hasMessageContaining("1 of 3 rows have a null in key column(s) [id]");
    assertThat(keyed.commits).isZero();
  }

  /** Spark jobs run by {@code work} (tagged with a job group of its own). */
  private int jobsOf(String group, Runnable work) {
    spark.sparkContext().setJobGroup(group, group, false);
    try {
      work.run();
    } finally {
      spark.sparkContext().clearJobGroup();
    }
    return spark.sparkContext().statusTracker().getJobIdsForGroup(group).length;
  }

  @Test
  void outsideAStreamingQueryTheCallSaysWhatToDo() {
    assertThatThrownBy(() -> new InMemorySink().call(spark.range(1).toDF(), 0L))
        .hasMessageContaining("called outside a streaming query").hasMessageContaining("write(batch, batchId, queryId)");
  }

  @Test
  void aBatchTheCallerCachedStaysCachedAndCachedViewsAreNotCachedTwice() {
    Dataset<Row> cached = spark.range(100).toDF().persist(StorageLevel.MEMORY_ONLY());
    cached.count();
    new InMemorySink().write(cached, 0, "q");
    assertThat(cached.storageLevel()).isEqualTo(StorageLevel.MEMORY_ONLY());
    assertThat(AbstractBatchSink.servedFromCache(cached.filter("id > 10"))).isTrue();
    assertThat(AbstractBatchSink.servedFromCache(spark.range(10).toDF())).isFalse();
    cached.unpersist();
  }
}
