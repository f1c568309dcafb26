package dev.eventproc.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.testutils.CommitGate;
import dev.eventproc.testutils.Race;
import dev.eventproc.testutils.TestSpark;
import dev.eventproc.testutils.TimestampCases;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * What every lakehouse sink (Delta, Iceberg) must do, run by each adapter's test: replays are no-ops
 * (rows and table version unchanged), newer versions win within and across batches, nulls rank
 * lowest, deletes leave tombstones, insert-if-absent keeps the first row, append writes once.
 */
public abstract class LakehouseSinkContract {
  protected static final StructType SCHEMA = StructType.fromDDL("id STRING, version BIGINT, lsn BIGINT, amount INT, op STRING");
  protected final SparkSession spark = TestSpark.session();

  /** A sink of this adapter writing to a new table identified by {@code name}. */
  protected abstract SparkTableSink newSink(SinkSpec spec, String name);

  /** The table's rows. */
  protected abstract Dataset<Row> read(String name);

  /** A number that grows with every commit to the table (Delta version, Iceberg snapshot count). */
  protected abstract long commits(String name);

  /** Whether the table exists. */
  protected abstract boolean exists(String name);

  /** The format's declared commit conflicts: what the loser of two racing commits must fail with. */
  protected abstract List<Class<? extends Throwable>> conflictTypes();

  /** Whether the adapter reports exactly the rows an upsert MERGE changed (else the batch's rows). */
  protected boolean exactWrittenCounts() {
    return true;
  }

  private Dataset<Row> rows(Object[]... rows) {
    List<Row> list = new ArrayList<>();
    for (Object[] r : rows) {
      list.add(RowFactory.create(r));
    }
    return spark.createDataFrame(list, SCHEMA);
  }

  private static Object[] r(String id, Long version, long lsn, int amount, String op) {
    return new Object[] {id, version, lsn, amount, op};
  }

  private SparkTableSink sink(String name, WriteMode mode, String deleteCondition) {
    SinkSpec.Builder b = SinkSpec.builder().name("t").mode(mode);
    if (mode != WriteMode.APPEND) {
      b.keyColumns("id");
    }
    if (mode == WriteMode.UPSERT) {
      b.versionColumn("version").tiebreakColumn("lsn").deleteCondition(deleteCondition);
    }
    return newSink(b.build(), name);
  }

  private Map<String, String> table(String name) {
    Map<String, String> out = new TreeMap<>();
    for (Row row : read(name).collectAsList()) {
      assertThat(out.put(row.getString(0), row.get(1) + "/" + row.get(2) + "/" + row.get(3))).as("key once").isNull();
    }
    return out;
  }

  /**
   * Timestamps come back as written, to the microsecond, far from now and before 1970: when the first batch
   * creates the table and when a newer version of every key updates it.
   */
  @Test
  void timestampsRoundTrip() {
    SparkTableSink sink = newSink(SinkSpec.builder().name("t").mode(WriteMode.UPSERT).keyColumns("id").versionColumn("version")
        .build(), "timestamps");
    for (long version = 1; version <= 2; version++) {
      assertThat(sink.write(TimestampCases.rows(spark, version), version, "q").status()).isEqualTo(Status.COMMITTED);
      TimestampCases.assertReadBack("batch " + version, TimestampCases.byId(read("timestamps").collectAsList()));
    }
  }

  @Test
  void replayedBatchIsANoOpInEveryMode() {
    for (WriteMode mode : WriteMode.values()) {
      if (mode == WriteMode.HISTORY) {
        continue; // several rows per key: HistorySinkContract replays it
      }
      String path = "replay_" + mode.name().toLowerCase();
      SparkTableSink sink = sink(path, mode, mode == WriteMode.UPSERT ? "op = 'd'" : null);
      Dataset<Row> b0 = rows(r("a", 1L, 0, 10, "u"), r("b", 1L, 0, 20, "u"), r("c", 1L, 0, 5, "d"));
      Dataset<Row> b1 = rows(r("a", 2L, 0, 11, "u"), r("d", 1L, 0, 40, "u"));
      assertThat(sink.write(b0, 0, "q1").status()).isEqualTo(Status.COMMITTED);
      assertThat(sink.write(b1, 1, "q1").status()).isEqualTo(Status.COMMITTED);
      Map<String, String> before = mode == WriteMode.APPEND ? Map.of() : table(path);
      long versionBefore = commits(path);
      long rowsBefore = read(path).count();

      BatchOutcome again0 = sink.write(b0, 0, "q1");
      BatchOutcome again1 = sink.write(b1, 1, "q1");

      assertThat(again0.status()).as(mode + " replay of 0").isEqualTo(Status.SKIPPED_REPLAY);
      assertThat(again1.status()).as(mode + " replay of 1").isEqualTo(Status.SKIPPED_REPLAY);
      assertThat(again1.rowsIn()).isEqualTo(2);
      if (mode != WriteMode.APPEND) {
        assertThat(table(path)).as(mode.toString()).isEqualTo(before);
      }
      assertThat(commits(path)).as(mode + " table version").isEqualTo(versionBefore);
      assertThat(read(path).count()).isEqualTo(rowsBefore);
      assertThat(sink.metrics().replaysSkipped()).isEqualTo(2);
      assertThat(sink.metrics().batchesCommitted()).isEqualTo(2);
    }
  }

  /**
   * A zombie: two drivers with the same writer identity (same sink name, same query id, as after a
   * network partition) write the same batch at the same moment, each on its own session. Both are held
   * at the commit point until both have read "not committed"; then the format's conflict check lets
   * exactly one commit, and the other fails with the format's declared conflict, reads the record
   * again and counts a replay.
   */
  @Test
  void twoWritersOfOneIdentityRacingOnABatchCommitItOnce() throws Exception {
    for (WriteMode mode : WriteMode.values()) {
      if (mode == WriteMode.HISTORY) {
        continue; // several rows per key: HistorySinkContract races it
      }
      String path = "race_" + mode.name().toLowerCase();
      SparkTableSink[] writers = {sink(path, mode, null), sink(path, mode, null)};
      // The table exists before the race, as after a pipeline's first batch: a writer held at the gate that
      // then loses the race to create the table finds the batch committed without reaching a commit conflict.
      writers[0].ensureTable(spark, writers[0].table(), rows(r("k", 0L, 0, 0, "u")).schema());
      try (CommitGate gate = CommitGate.at(FaultInjection.Point.BEFORE_COMMIT, "t", 2)) {
        for (int batch = 0; batch < 3; batch++) {
          Object[][] data = {r("k" + batch, (long) batch, 0, batch, "u"), r("shared", (long) batch, 0, batch, "u")};
          long lostBefore = writers[0].metrics().racesLost() + writers[1].metrics().racesLost();
          List<Status> outcomes = race(writers, data, batch);
          assertThat(outcomes).as(mode + " batch " + batch).containsExactlyInAnyOrder(Status.COMMITTED, Status.SKIPPED_REPLAY);
          assertThat(gate.arrivals()).as(mode + ": both writers held at the commit point, batch " + batch).isEqualTo(2 * (batch + 1));
          assertThat(writers[0].metrics().racesLost() + writers[1].metrics().racesLost())
              .as(mode + " batch " + batch + ": the loser failed its commit on the conflict").isEqualTo(lostBefore + 1);
          SparkTableSink loser = outcomes.get(0) == Status.SKIPPED_REPLAY ? writers[0] : writers[1];
          assertThat(causes(loser.metrics().lastRaceLost())).as(mode + " batch " + batch + ": what the loser failed with")
              .anySatisfy(t -> assertThat(conflictTypes()).anySatisfy(type -> assertThat(t).isInstanceOf(type)));
        }
      }
      if (mode == WriteMode.APPEND) {
        assertThat(read(path).count()).as(mode + ": each batch's 2 rows once").isEqualTo(6);
      } else {
        Map<String, String> rows = table(path);
        assertThat(rows).as(mode.toString()).containsKeys("k0", "k1", "k2", "shared").hasSize(4);
        assertThat(rows.get("shared")).isEqualTo(mode == WriteMode.UPSERT ? "2/0/2" : "0/0/0");
      }
      assertThat(writers[0].metrics().batchesCommitted() + writers[1].metrics().batchesCommitted()).as(mode.toString()).isEqualTo(3);
    }
  }

  private static List<Throwable> causes(Throwable t) {
    List<Throwable> out = new ArrayList<>();
    for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
      out.add(c);
    }
    return out;
  }

  /** Both writers write batch {@code batchId} at once, each on a session of its own; their outcomes. */
  private List<Status> race(SparkTableSink[] writers, Object[][] data, long batchId) throws Exception {
    return Race.together(List.of(writers), w -> {
      List<Row> list = new ArrayList<>();
      for (Object[] row : data) {
        list.add(RowFactory.create(row));
      }
      return spark.newSession().createDataFrame(list, SCHEMA);
    }, (w, batch) -> w.write(batch, batchId, "zombie-q").status());
  }

  @Test
  void anotherQueryIdIsAnotherWriter() {
    String path = "writer";
    SparkTableSink sink = sink(path, WriteMode.APPEND, null);
    sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q1");
    assertThat(sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q2").status()).isEqualTo(Status.COMMITTED);
    assertThat(read(path).count()).isEqualTo(2);
  }

  @Test
  void olderVersionNeverOverwritesNewerAcrossBatchesAndWithinOne() {
    String path = "versions";
    SparkTableSink sink = sink(path, WriteMode.UPSERT, null);
    // Within one batch: three versions of a, the newest wins; b ties on version, the tie-break decides.
    sink.write(rows(r("a", 1L, 0, 1, "u"), r("a", 3L, 0, 3, "u"), r("a", 2L, 0, 2, "u"),
        r("b", 5L, 7, 70, "u"), r("b", 5L, 9, 90, "u"), r("b", 5L, 8, 80, "u")), 0, "q");
    assertThat(table(path)).containsEntry("a", "3/0/3").containsEntry("b", "5/9/90");

    BatchOutcome older = sink.write(rows(r("a", 2L, 0, 222, "u"), r("b", 5L, 8, 888, "u")), 1, "q");
    assertThat(table(path)).containsEntry("a", "3/0/3").containsEntry("b", "5/9/90");
    if (exactWrittenCounts()) {
      assertThat(older.rowsWritten()).isZero();
      assertThat(older.rowsIgnored()).isEqualTo(2);
    }

    sink.write(rows(r("a", 3L, 0, 333, "u")), 2, "q"); // equal version: ignored
    assertThat(table(path)).containsEntry("a", "3/0/3");

    sink.write(rows(r("a", 4L, 0, 4, "u"), r("b", 5L, 10, 100, "u")), 3, "q");
    assertThat(table(path)).containsEntry("a", "4/0/4").containsEntry("b", "5/10/100");
  }

  @Test
  void nullVersionRanksBelowEveryVersion() {
    String path = "nullversion";
    SparkTableSink sink = sink(path, WriteMode.UPSERT, null);
    sink.write(rows(r("a", null, 0, 1, "u"), r("b", 1L, 0, 1, "u")), 0, "q");
    sink.write(rows(r("a", 1L, 0, 2, "u"), r("b", null, 0, 2, "u")), 1, "q");
    assertThat(table(path)).containsEntry("a", "1/0/2").containsEntry("b", "1/0/1");
  }

  @Test
  void deleteRemovesTheKeyAndALaterOlderUpdateCannotBringItBack() {
    String path = "deletes";
    SparkTableSink sink = sink(path, WriteMode.UPSERT, "op = 'd'");
    sink.write(rows(r("a", 1L, 0, 1, "u"), r("b", 1L, 0, 1, "u")), 0, "q");
    sink.write(rows(r("a", 3L, 0, 0, "d")), 1, "q");
    assertThat(table(path)).doesNotContainKey("a").containsKey("b");

    sink.write(rows(r("a", 2L, 0, 2, "u")), 2, "q"); // older than the delete: stays deleted
    assertThat(table(path)).doesNotContainKey("a");

    sink.write(rows(r("c", 2L, 0, 0, "d")), 3, "q"); // delete before the key was ever seen
    sink.write(rows(r("c", 1L, 0, 1, "u")), 4, "q");
    assertThat(table(path)).doesNotContainKey("c");

    sink.write(rows(r("a", 4L, 0, 4, "u")), 5, "q"); // newer than the delete: back
    assertThat(table(path)).containsEntry("a", "4/0/4");
    assertThat(read(path + SinkSpec.TOMBSTONE_SUFFIX).count()).isEqualTo(2);
  }

  @Test
  void insertIfAbsentKeepsTheFirstRowForever() {
    String path = "insert";
    SinkSpec spec = SinkSpec.builder().name("t").mode(WriteMode.INSERT_IF_ABSENT).keyColumns("id").build();
    SparkTableSink sink = newSink(spec, path);
    sink.write(rows(r("a", 1L, 0, 1, "u"), r("a", 1L, 0, 1, "u")), 0, "q");
    BatchOutcome second = sink.write(rows(r("a", 9L, 0, 9, "u"), r("b", 1L, 0, 1, "u")), 1, "q");
    assertThat(table(path)).containsEntry("a", "1/0/1").containsEntry("b", "1/0/1").hasSize(2);
    assertThat(second.rowsWritten()).isEqualTo(1);
  }

  @Test
  void appendWritesEveryRowOnce() {
    String path = "append";
    SparkTableSink sink = sink(path, WriteMode.APPEND, null);
    sink.write(rows(r("a", 1L, 0, 1, "u"), r("a", 1L, 0, 1, "u")), 0, "q");
    sink.write(rows(r("a", 1L, 0, 1, "u"), r("a", 1L, 0, 1, "u")), 0, "q");
    assertThat(read(path).count()).isEqualTo(2);
  }

  @Test
  void anUncachedAppendIsWrittenInOnePassAndItsRowsComeFromTheCommit() {
    SparkTableSink sink = sink("onepass", WriteMode.APPEND, null);
    Dataset<Row> seven = spark.range(7).selectExpr("CAST(id AS STRING) AS id", "id AS version");
    assertThat(AbstractBatchSink.servedFromCache(seven)).isFalse();
    BatchOutcome first = sink.write(seven, 0, "q");
    assertThat(first.status()).isEqualTo(Status.COMMITTED);
    assertThat(first.rowsIn()).isEqualTo(7);
    assertThat(first.rowsWritten()).isEqualTo(7);
    assertThat(sink.write(spark.range(0).selectExpr("CAST(id AS STRING) AS id", "id AS version"), 1, "q").status())
        .isEqualTo(Status.EMPTY);
    assertThat(sink.write(seven, 0, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(read("onepass").count()).isEqualTo(7);
  }

  /** An empty batch commits its record with no row, so the records have no gap a reconciliation must excuse. */
  @Test
  void anEmptyBatchCommitsItsRecordAndNoRow() {
    String path = "empty";
    SparkTableSink sink = sink(path, WriteMode.UPSERT, null);
    BatchOutcome empty = sink.write(rows(), 0, "q");
    assertThat(empty.status()).isEqualTo(Status.COMMITTED);
    assertThat(empty.rowsWritten()).isZero();
    assertThat(read(path).count()).isZero();
    assertThat(sink.table().committedBatch(spark, new WriterId("t", "q"))).as("batch 0 recorded").isZero();
    long commits = commits(path);
    assertThat(sink.write(rows(), 0, "q").status()).as("a replay of it").isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(commits(path)).isEqualTo(commits);
  }

  @Test
  void nullKeyIsRefusedWithAClearError() {
    String path = "nullkey";
    SparkTableSink sink = sink(path, WriteMode.UPSERT, null);
    assertThatThrownBy(() -> sink.write(rows(r(null, 1L, 0, 1, "u"), r("a", 1L, 0, 1, "u")), 0, "q"))
        .hasMessageContaining("1 of 2 rows have a null in key column(s) [id]");
  }

  @Test
  void missingKeyColumnNamesTheKey() {
    String path = "missingcol";
    SinkSpec spec = SinkSpec.builder().name("t").mode(WriteMode.UPSERT).keyColumns("payment_id").build();
    SparkTableSink sink = newSink(spec, path);
    assertThatThrownBy(() -> sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q"))
        .hasMessageContaining("sink.key.columns: column 'payment_id' is not in the batch")
        .hasMessageContaining(Arrays.toString(SCHEMA.fieldNames()).replace("[", "").replace("]", ""));
  }

  /**
   * Upsert with a delete condition and no version column (issue 13 item 4): a later batch wins, a
   * delete removes its key, and a key deleted in one batch comes back with the next batch that
   * writes it (no version, so nothing to remember a delete by). Within a batch the greatest whole
   * row wins, so a replay picks the same row.
   */
  @Test
  void upsertWithDeletesAndNoVersionLetsTheLaterBatchWin() {
    String path = "noversion";
    SinkSpec spec = SinkSpec.builder().name("t").mode(WriteMode.UPSERT).keyColumns("id").deleteCondition("op = 'd'").build();
    SparkTableSink sink = newSink(spec, path);
    assertThat(sink.write(rows(r("a", 5L, 0, 10, "u"), r("b", 5L, 0, 20, "u"), r("c", 5L, 0, 30, "u")), 0, "q").status())
        .isEqualTo(Status.COMMITTED);
    sink.write(rows(r("a", 1L, 0, 11, "u"), r("b", 1L, 0, 0, "d")), 1, "q"); // lower "version" values: no version column
    assertThat(table(path)).containsExactlyInAnyOrderEntriesOf(Map.of("a", "1/0/11", "c", "5/0/30"));

    sink.write(rows(r("b", 0L, 0, 21, "u"), r("c", 0L, 0, 0, "d")), 2, "q");
    assertThat(table(path)).containsExactlyInAnyOrderEntriesOf(Map.of("a", "1/0/11", "b", "0/0/21"));
    assertThat(sink.write(rows(r("b", 0L, 0, 21, "u"), r("c", 0L, 0, 0, "d")), 2, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(exists(path + SinkSpec.TOMBSTONE_SUFFIX)).as("no version: no tombstones to keep").isFalse();
  }
}
