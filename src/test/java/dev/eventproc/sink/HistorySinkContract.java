package dev.eventproc.sink;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.testutils.TestSpark;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * What every sink with {@code mode=history} must do, run by each adapter's test: the same events in
 * order, reversed, shuffled, duplicated, all in one batch, with ties broken by a column and a key deleted
 * then inserted again, give one and the same table, the one written out in {@link #EXPECTED}; a
 * replayed batch and a rewrite of every event by a new writer change nothing.
 */
public abstract class HistorySinkContract {
  protected static final StructType SCHEMA = StructType.fromDDL("id STRING, version BIGINT, lsn BIGINT, amount INT, op STRING");
  protected final SparkSession spark = TestSpark.session();

  /** The events: (id, version, lsn, amount, op); op d deletes. */
  protected static final List<Object[]> EVENTS = List.of(
      e("a", 1, 0, 10, "u"), e("a", 2, 0, 11, "u"), e("a", 3, 1, 12, "u"), e("a", 3, 5, 13, "u"), e("a", 5, 0, 0, "d"),
      e("a", 7, 0, 15, "u"), e("b", 2, 0, 20, "u"), e("b", 4, 0, 0, "d"), e("c", 1, 0, 30, "u"), e("d", 3, 0, 0, "d"),
      e("d", 1, 0, 40, "u"), e("e", 1, 0, 50, "u"), e("e", 6, 0, 51, "u"), e("f", 2, 0, 60, "u"));

  /**
   * id/__start_at/lsn/__end_at/amount. a: a tie at version 3 broken by lsn (the lower closes at 3 itself),
   * deleted at 5 (its row closes at 5), inserted again at 7. b: deleted last, no current row. d: the
   * update at 1 arrives after (or with) the delete at 3, which closes it. The current rows (end null) are
   * what upsert holds: a at 7, c, e at 6, f.
   */
  protected static final List<String> EXPECTED = List.of(
      "a/1/0/2/10", "a/2/0/3/11", "a/3/1/3/12", "a/3/5/5/13", "a/7/0/null/15", "b/2/0/4/20", "c/1/0/null/30",
      "d/1/0/3/40", "e/1/0/6/50", "e/6/0/null/51", "f/2/0/null/60");

  /** A sink of this adapter writing history to a new table identified by {@code name}. */
  protected abstract BatchSink newSink(SinkSpec spec, String name);

  /** The table's rows (the event's columns plus __start_at and __end_at). */
  protected abstract Dataset<Row> read(String name);

  /** Batches each arrival order is written in (a lakehouse MERGE costs about a second: fewer there). */
  protected int batchesPerOrder() {
    return 3;
  }

  private static Object[] e(String id, long version, long lsn, int amount, String op) {
    return new Object[] {id, version, lsn, amount, op};
  }

  protected static SinkSpec spec(String name) {
    return SinkSpec.builder().name(name).mode(WriteMode.HISTORY).keyColumns("id").versionColumn("version")
        .tiebreakColumn("lsn").deleteCondition("op = 'd'").build();
  }

  protected Dataset<Row> rows(List<Object[]> events) {
    List<Row> list = new ArrayList<>();
    for (Object[] r : events) {
      list.add(RowFactory.create(r));
    }
    return spark.createDataFrame(list, SCHEMA).repartition(2);
  }

  /** The table as sorted id/__start_at/lsn/__end_at/amount lines; __start_at must equal the row's version. */
  protected List<String> table(String name) {
    List<String> out = new ArrayList<>();
    for (Row row : read(name).collectAsList()) {
      Object start = row.get(row.fieldIndex(HistoryMode.START_AT));
      assertThat(start).as("__start_at is the row's version").isEqualTo(row.get(row.fieldIndex("version")));
      out.add(row.getAs("id") + "/" + start + "/" + row.getAs("lsn") + "/" + row.get(row.fieldIndex(HistoryMode.END_AT)) + "/"
          + row.getAs("amount"));
    }
    Collections.sort(out);
    return out;
  }

  /** Writes the events in {@code batches} consecutive batches of one writer, from batch 0. */
  protected void writeAll(BatchSink sink, List<Object[]> events, int batches, String queryId) {
    int size = (events.size() + batches - 1) / batches;
    for (int b = 0; b * size < events.size(); b++) {
      BatchOutcome o = sink.write(rows(events.subList(b * size, Math.min(events.size(), (b + 1) * size))), b, queryId);
      assertThat(o.status()).as("batch " + b).isEqualTo(Status.COMMITTED);
    }
  }

  private static List<Object[]> shuffled(List<Object[]> events, long seed) {
    List<Object[]> out = new ArrayList<>(events);
    Collections.shuffle(out, new Random(seed));
    return out;
  }

  @Test
  void inOrderAndThenAReplayAndARewriteByANewWriter() {
    List<Object[]> sorted = new ArrayList<>(EVENTS);
    sorted.sort((x, y) -> x[1].equals(y[1]) ? Long.compare((long) x[2], (long) y[2]) : Long.compare((long) x[1], (long) y[1]));
    BatchSink sink = newSink(spec("h_sorted"), "h_sorted");
    writeAll(sink, sorted, batchesPerOrder(), "q1");
    assertThat(table("h_sorted")).isEqualTo(EXPECTED);

    assertThat(sink.write(rows(sorted.subList(0, 5)), 0, "q1").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(sink.write(rows(EVENTS), 0, "q2").status()).as("a reset checkpoint: a new writer").isEqualTo(Status.COMMITTED);
    assertThat(table("h_sorted")).as("every event again changes nothing").isEqualTo(EXPECTED);
  }

  @Test
  void reversed() {
    List<Object[]> reversed = new ArrayList<>(EVENTS);
    Collections.reverse(reversed);
    writeAll(newSink(spec("h_reversed"), "h_reversed"), reversed, batchesPerOrder(), "q1");
    assertThat(table("h_reversed")).isEqualTo(EXPECTED);
  }

  @Test
  void shuffledAndDuplicated() {
    List<Object[]> twice = new ArrayList<>(shuffled(EVENTS, 7));
    twice.addAll(shuffled(EVENTS, 11));
    writeAll(newSink(spec("h_shuffled"), "h_shuffled"), twice, batchesPerOrder(), "q1");
    assertThat(table("h_shuffled")).isEqualTo(EXPECTED);
  }

  @Test
  void allInOneBatchWithDuplicates() {
    List<Object[]> twice = new ArrayList<>(EVENTS);
    twice.addAll(shuffled(EVENTS, 3));
    writeAll(newSink(spec("h_one"), "h_one"), twice, 1, "q1");
    assertThat(table("h_one")).isEqualTo(EXPECTED);
  }
}
