package dev.eventproc.sink.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.eventproc.config.ConfigException;
import dev.eventproc.sink.BatchOutcome;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.FaultInjection;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.sink.kafka.KafkaSinkOptions.ProduceOn;
import dev.eventproc.sink.kafka.KafkaSinkOptions.Writers;
import dev.eventproc.testutils.CommitGate;
import dev.eventproc.testutils.TestKafka;
import dev.eventproc.testutils.TestSpark;
import dev.eventproc.testutils.TimestampCases;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The Kafka sink against a real broker, read back by read_committed (and read_uncommitted) consumers. */
class KafkaSinkTest {
  private static final AtomicInteger TOPICS = new AtomicInteger();
  private static final ObjectMapper JSON = new ObjectMapper();
  private final SparkSession spark = TestSpark.session();
  private final String topic = "t" + TOPICS.incrementAndGet() + "-" + Long.toHexString(System.nanoTime());

  private Dataset<Row> batch(long from, long to) {
    return spark.range(from, to).selectExpr("concat('k', CAST(id AS STRING)) AS id", "id AS version", "CAST(id % 2 AS STRING) AS op");
  }

  private KafkaSink sink(String name, WriteMode mode, Writers writers, int partitions) {
    SinkSpec.Builder b = SinkSpec.builder().name(name).mode(mode);
    if (mode == WriteMode.UPSERT) {
      b.keyColumns("id").versionColumn("version").deleteCondition("op = 'd'");
    }
    return KafkaSink.create(b.build(), KafkaSinkOptions.of(TestKafka.servers(), topic, writers, partitions, name, Map.of()));
  }

  private Map<String, Integer> committedValues() {
    Map<String, Integer> out = new TreeMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      out.merge(r.value(), 1, Integer::sum);
    }
    return out;
  }

  @ParameterizedTest
  @EnumSource(Writers.class)
  void replayedBatchesAreSkippedAndEveryRecordIsReadOnce(Writers writers) {
    KafkaSink sink = sink("replay_" + writers.name().toLowerCase(), WriteMode.APPEND, writers, 3);
    BatchOutcome first = sink.write(batch(0, 100), 0, "q");
    assertThat(first.status()).isEqualTo(Status.COMMITTED);
    assertThat(first.rowsWritten()).as("records sent, read back from this attempt's progress").isEqualTo(100);
    assertThat(sink.write(batch(100, 150), 1, "q").rowsWritten()).isEqualTo(50);
    BatchOutcome replay = sink.write(batch(100, 150), 1, "q");
    assertThat(replay.status()).isEqualTo(Status.SKIPPED_REPLAY);

    List<ConsumerRecord<String, String>> records = TestKafka.read(topic, true);
    assertThat(records).hasSize(150);
    assertThat(committedValues().values()).allMatch(n -> n == 1);
    ConsumerRecord<String, String> record = records.get(0);
    assertThat(new String(record.headers().lastHeader(ProduceTask.WRITER_HEADER).value(), StandardCharsets.UTF_8))
        .isEqualTo(new WriterId(sink.name(), "q").appId());
    assertThat(record.value()).startsWith("{\"id\":\"k");
    sink.close();
  }

  @Test
  void upsertSendsTheNewestRowPerKeyWithTheKeyAndTombstonesForDeletes() {
    KafkaSink sink = sink("upsert", WriteMode.UPSERT, Writers.SINGLE, 1);
    Dataset<Row> rows = spark.sql("SELECT * FROM VALUES ('a', 1L, 'u'), ('a', 3L, 'u'), ('a', 2L, 'u'), ('b', 1L, 'u'), ('b', 2L, 'd') "
        + "AS t(id, version, op)");
    sink.write(rows, 0, "q");
    Map<String, String> byKey = new TreeMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      assertThat(byKey.put(r.key(), r.value())).as("one record per key").isNull();
    }
    assertThat(byKey).containsEntry("a", "{\"id\":\"a\",\"version\":3,\"op\":\"u\"}").containsEntry("b", null);
    sink.close();
  }

  /**
   * A key that is not valid UTF-8 (a string cast from bytes) goes out as a Java String encodes it, as
   * the sink always sent it: U+FFFD for the bad bytes, so its bytes and its partition do not change.
   */
  @Test
  void aKeyThatIsNotValidUtf8IsSentWithTheReplacementCharacter() {
    KafkaSink sink = sink("bad_utf8", WriteMode.UPSERT, Writers.SINGLE, 1);
    sink.write(spark.sql("SELECT CAST(X'C328' AS STRING) AS id, 1L AS version, 'u' AS op"), 0, "q");
    List<ConsumerRecord<String, String>> records = TestKafka.read(topic, true);
    assertThat(records).hasSize(1);
    assertThat(records.get(0).serializedKeySize()).as("U+FFFD (3 bytes), then '('").isEqualTo(4);
    assertThat(records.get(0).key()).isEqualTo("\uFFFD(");
    sink.close();
  }

  @Test
  void aZombieProducerOfTheWriterIsFencedAndItsRecordsStayInvisible() throws Exception {
    KafkaSink sink = sink("zombie", WriteMode.APPEND, Writers.SINGLE, 1);
    sink.write(batch(0, 10), 0, "q"); // creates the topic
    Properties p = sink.options().producerProperties(KafkaSink.transactionalId(sink.options(), new WriterId("zombie", "q"), 0));
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    try (KafkaProducer<String, String> zombie = new KafkaProducer<>(p)) {
      zombie.initTransactions();
      zombie.beginTransaction();
      zombie.send(new ProducerRecord<>(topic, "zombie", "from a zombie")).get();

      assertThat(sink.write(batch(10, 20), 1, "q").status()).isEqualTo(Status.COMMITTED);

      assertThatThrownBy(zombie::commitTransaction).isInstanceOf(ProducerFencedException.class);
    }
    assertThat(committedValues()).hasSize(20).doesNotContainKey("from a zombie");
    assertThat(TestKafka.read(topic, false)).extracting(ConsumerRecord::value).contains("from a zombie");
    sink.close();
  }

  @Test
  void anAbortedTransactionIsInvisibleAndTheRetryWritesTheBatchOnce() {
    KafkaSink sink = sink("aborted", WriteMode.APPEND, Writers.SINGLE, 1);
    System.setProperty(FaultInjection.PROPERTY, "after-staging@0/aborted:throw");
    try {
      assertThatThrownBy(() -> sink.write(batch(0, 40), 0, "q")).hasStackTraceContaining("injected fault");
    } finally {
      System.clearProperty(FaultInjection.PROPERTY);
    }
    assertThat(TestKafka.read(topic, false)).as("sent, uncommitted").hasSize(40);
    assertThat(TestKafka.read(topic, true)).as("invisible to read_committed").isEmpty();

    assertThat(sink.write(batch(0, 40), 0, "q").status()).isEqualTo(Status.COMMITTED);
    assertThat(committedValues()).hasSize(40).allSatisfy((v, n) -> assertThat(n).isEqualTo(1));
    sink.close();
  }

  /**
   * A zombie: two drivers of one writer identity write batch 1, and both producers are held at the
   * commit point (records sent in an open transaction, not committed) after both read "not committed".
   * One transactional id cannot have two open transactions, so they cannot start at the same moment:
   * the second producer starts once the first is held, and its {@code initTransactions()} fences the
   * first and aborts its transaction. Released, the older producer's commit fails on the fencing; its
   * driver waits for the other attempt's progress and counts a lost race.
   */
  @Test
  void twoWritersRacingOnOneBatchCommitItOnce() throws Exception {
    KafkaSink older = sink("race", WriteMode.APPEND, Writers.SINGLE, 1);
    KafkaSink newer = sink("race", WriteMode.APPEND, Writers.SINGLE, 1);
    older.write(batch(0, 1), 0, "q"); // progress in the group: no recovery (which starts producers of its own)
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try (CommitGate gate = CommitGate.at(FaultInjection.Point.TASK_WRITTEN, "race", 2)) {
      Future<BatchOutcome> first = pool.submit(() -> older.write(batch(1, 301), 1, "q"));
      gate.awaitArrivals(1);
      Future<BatchOutcome> second = pool.submit(() -> newer.write(batch(1, 301), 1, "q"));
      BatchOutcome lost = first.get(2, TimeUnit.MINUTES);
      BatchOutcome won = second.get(2, TimeUnit.MINUTES);
      assertThat(gate.arrivals()).as("both producers read 'not committed' and sent batch 1, held before either committed")
          .isEqualTo(2);
      assertThat(won.status()).as("the producer that initialised last").isEqualTo(Status.COMMITTED);
      assertThat(won.rowsWritten()).isEqualTo(300);
      assertThat(lost.status()).as("the fenced producer's driver").isEqualTo(Status.SKIPPED_REPLAY);
    } finally {
      pool.shutdownNow();
    }
    assertThat(newer.metrics().racesLost()).isZero();
    assertThat(older.metrics().racesLost()).as("the older producer's commit failed on the fencing").isEqualTo(1);
    assertThat(causes(older.metrics().lastRaceLost())).as("what the older producer's commit failed with")
        .anySatisfy(t -> assertThat(t).isInstanceOfAny(ProducerFencedException.class, InvalidProducerEpochException.class));
    assertThat(older.write(batch(1, 301), 1, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(committedValues()).as("batch 0 and batch 1, each record once").hasSize(301)
        .allSatisfy((v, n) -> assertThat(n).isEqualTo(1));
    older.close();
    newer.close();
  }

  /**
   * A write that fails for another reason than a fencing (a lost connection) after another attempt of
   * its writer committed the batch: a replay for this attempt, counted as a lost race. The older writer
   * is held with its records sent, uncommitted, while the newer one writes and commits the whole batch.
   */
  @Test
  void aWriteFailingAfterAnotherAttemptCommittedTheBatchCountsALostRace() throws Exception {
    KafkaSink older = sink("lost_race", WriteMode.APPEND, Writers.SINGLE, 1); // the driver's producer, by default
    KafkaSink newer = sink("lost_race", WriteMode.APPEND, Writers.SINGLE, 1);
    Race race = overtake(older, newer, FaultInjection.Point.TASK_WRITTEN, () -> {
      throw new IllegalStateException("connection lost after the other attempt committed");
    });
    assertThat(race.won().rowsWritten()).isEqualTo(100);
    assertThat(older.metrics().racesLost()).as("the older writer's failure came after the other attempt's commit").isEqualTo(1);
    assertThat(older.metrics().lastRaceLost()).hasMessageContaining("connection lost");
  }

  /**
   * Another attempt of the writer commits the batch after this attempt found it uncommitted and before
   * this attempt's producer starts: the producer, reading the progress after its fencing, sends nothing,
   * and the batch is a replay for this attempt, counted as a lost race (no failure tells of it).
   */
  @Test
  void anAttemptOvertakenBeforeItsProducerStartsCountsALostRace() throws Exception {
    KafkaSink older = sink("overtaken", WriteMode.APPEND, Writers.SINGLE, 1);
    KafkaSink newer = sink("overtaken", WriteMode.APPEND, Writers.SINGLE, 1);
    overtake(older, newer, FaultInjection.Point.BEFORE_COMMIT, () -> {});
    assertThat(older.metrics().racesLost()).as("the newer attempt committed the batch after the older one's check").isEqualTo(1);
  }

  /**
   * Two attempts of one writer on batch 1: {@code older} is held at {@code point} (on its own thread) while
   * {@code newer} writes and commits the whole batch, then runs {@code then} there and goes on. Checks that
   * the newer one committed, the older one reports a replay and the topic holds every record once; closes
   * both sinks.
   */
  private Race overtake(KafkaSink older, KafkaSink newer, FaultInjection.Point point, Runnable then) throws Exception {
    older.write(batch(0, 1), 0, "q"); // progress in the group: no recovery (which starts producers of its own)
    AtomicReference<Thread> olderThread = new AtomicReference<>();
    CountDownLatch olderHeld = new CountDownLatch(1);
    CountDownLatch newerCommitted = new CountDownLatch(1);
    FaultInjection.setTestHook((p, sinkName, batchId) -> {
      if (p == point && batchId == 1 && Thread.currentThread() == olderThread.get()) {
        olderHeld.countDown();
        try {
          assertThat(newerCommitted.await(2, TimeUnit.MINUTES)).as("the newer writer committed").isTrue();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        then.run();
      }
    });
    ExecutorService pool = Executors.newSingleThreadExecutor();
    BatchOutcome won;
    BatchOutcome lost;
    try {
      Future<BatchOutcome> first = pool.submit(() -> {
        olderThread.set(Thread.currentThread());
        return older.write(batch(1, 101), 1, "q");
      });
      assertThat(olderHeld.await(2, TimeUnit.MINUTES)).as("the older writer reached %s of batch 1 and holds", point.spec()).isTrue();
      won = newer.write(batch(1, 101), 1, "q");
      newerCommitted.countDown();
      lost = first.get(2, TimeUnit.MINUTES);
    } finally {
      FaultInjection.setTestHook(null);
      pool.shutdownNow();
      older.close();
      newer.close();
    }
    assertThat(won.status()).isEqualTo(Status.COMMITTED);
    assertThat(lost.status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(newer.metrics().racesLost()).isZero();
    assertThat(committedValues()).hasSize(101).allSatisfy((v, n) -> assertThat(n).isEqualTo(1));
    return new Race(lost, won);
  }

  /** What the two attempts of {@link #overtake} reported. */
  private record Race(BatchOutcome lost, BatchOutcome won) {}

  private static List<Throwable> causes(Throwable t) {
    List<Throwable> out = new ArrayList<>();
    for (Throwable c = t; c != null && !out.contains(c); c = c.getCause()) {
      out.add(c);
    }
    return out;
  }

  @Test
  void aBrokerThatRestartsMidBatchNeitherLosesNorDoublesRecords() throws Exception {
    KafkaSink sink = sink("restart", WriteMode.APPEND, Writers.SINGLE, 1);
    sink.write(batch(0, 10), 0, "q");
    Dataset<Row> big = batch(10, 150_010).cache();
    big.count();
    // The broker restarts while the first attempt's transaction is open, its records sent, nothing committed:
    // the writer task itself restarts it at that point, so no timing decides where the restart lands.
    AtomicBoolean restarted = new AtomicBoolean();
    FaultInjection.setTestHook((point, name, batchId) -> {
      if (point == FaultInjection.Point.TASK_WRITTEN && name.equals("restart") && batchId == 1 && restarted.compareAndSet(false, true)) {
        TestKafka.broker().restart();
      }
    });
    int attempts = 0;
    try {
      while (true) { // what Spark does: the failed batch runs again after restart
        attempts++;
        try {
          sink.write(big, 1, "q");
          break;
        } catch (Exception e) {
          assertThat(attempts).as("attempts; last failure: %s", e).isLessThan(5);
        }
      }
    } finally {
      FaultInjection.setTestHook(null);
    }
    assertThat(restarted).as("the broker restarted inside the first attempt's open transaction").isTrue();
    assertThat(committedValues()).hasSize(150_010).allSatisfy((v, n) -> assertThat(n).isEqualTo(1));
    big.unpersist();
    sink.close();
  }

  /**
   * Timestamps come back as written, to the microsecond, far from now and before 1970, as a consumer that parses
   * the ISO-8601 text of the record's JSON reads them.
   */
  @Test
  void timestampsRoundTrip() throws Exception {
    KafkaSink sink = KafkaSink.create(SinkSpec.builder().name("ts").mode(WriteMode.APPEND).build(),
        KafkaSinkOptions.of(TestKafka.servers(), topic, Writers.SINGLE, 1, "ts", Map.of()));
    assertThat(sink.write(TimestampCases.rows(spark), 0, "q").status()).isEqualTo(Status.COMMITTED);
    Map<String, Instant> back = new LinkedHashMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      JsonNode value = JSON.readTree(r.value());
      back.put(value.get("id").asText(), OffsetDateTime.parse(value.get("ts").asText()).toInstant());
    }
    TimestampCases.assertReadBack("records' JSON", back);
    sink.close();
  }

  /**
   * {@code writers=single} produces on the driver by default, the batch in one transaction without a
   * shuffle into slices: every record carries the batch's last slice (it commits them all), where a
   * task's sliced write labels each record with its key's slice. Either way each record is read once,
   * and switching between the two on a used writer is fine (same transactional id and progress).
   */
  @Test
  void theSingleWriterProducesOnTheDriverOrInATaskAndEitherWritesOnce() {
    KafkaSink onDriver = sink("where", WriteMode.APPEND, Writers.SINGLE, 1);
    assertThat(onDriver.write(batch(0, 200), 0, "q").rowsWritten()).isEqualTo(200);
    KafkaSink inTask = KafkaSink.create(SinkSpec.builder().name("where").mode(WriteMode.APPEND).build(),
        KafkaSinkOptions.of(TestKafka.servers(), topic, Writers.SINGLE, 1, "where", Map.of()).withProduceOn(ProduceOn.TASK));
    assertThat(inTask.write(batch(0, 200), 0, "q").status()).as("committed by the driver's producer").isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(inTask.write(batch(200, 400), 1, "q").rowsWritten()).isEqualTo(200);
    assertThat(onDriver.write(batch(200, 400), 1, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(onDriver.write(batch(400, 500), 2, "q").rowsWritten()).as("the driver after the task").isEqualTo(100);

    Map<String, Set<String>> slicesByBatch = new TreeMap<>();
    for (ConsumerRecord<String, String> r : TestKafka.read(topic, true)) {
      slicesByBatch.computeIfAbsent(header(r, ProduceTask.BATCH_HEADER), b -> new TreeSet<>()).add(header(r, ProduceTask.SLICE_HEADER));
    }
    assertThat(slicesByBatch.get("0")).as("batch 0, the driver's one transaction").containsExactly("63/64");
    assertThat(slicesByBatch.get("1")).as("batch 1, sliced in a task: each record its key's slice").hasSizeGreaterThan(30);
    assertThat(slicesByBatch.get("2")).as("batch 2, the driver's again").containsExactly("63/64");
    assertThat(committedValues()).hasSize(500).allSatisfy((v, n) -> assertThat(n).isEqualTo(1));
    onDriver.close();
    inTask.close();
  }

  /**
   * A write whose Spark job fails after the writer's commit went through (an executor lost on its way
   * back, the driver's producer failing after its commit): the sink reads its progress and reports the
   * batch written by this attempt, instead of failing a batch that is committed.
   */
  @ParameterizedTest
  @EnumSource(ProduceOn.class)
  void aWriteThatFailsAfterItsCommitWentThroughReportsTheBatchWritten(ProduceOn on) {
    KafkaSink sink = KafkaSink.create(SinkSpec.builder().name("despite").mode(WriteMode.APPEND).build(),
        KafkaSinkOptions.of(TestKafka.servers(), topic, Writers.SINGLE, 1, "despite", Map.of()).withProduceOn(on));
    AtomicInteger failed = new AtomicInteger();
    FaultInjection.setTestHook((point, sinkName, batchId) -> {
      if (point == FaultInjection.Point.TASK_COMMITTED && batchId == 0) {
        failed.incrementAndGet();
        throw new IllegalStateException("lost after the commit");
      }
    });
    BatchOutcome first;
    try {
      first = sink.write(batch(0, 60), 0, "q");
    } finally {
      FaultInjection.setTestHook(null);
    }
    assertThat(failed).as("the write failed after its commit").hasValue(1);
    assertThat(first.status()).isEqualTo(Status.COMMITTED);
    assertThat(first.rowsWritten()).as("read back from this attempt's progress").isEqualTo(60);
    assertThat(sink.metrics().racesLost()).as("its own commit, not a race lost to another attempt").isZero();
    assertThat(sink.write(batch(0, 60), 0, "q").status()).isEqualTo(Status.SKIPPED_REPLAY);
    assertThat(sink.write(batch(60, 80), 1, "q").rowsWritten()).isEqualTo(20);
    assertThat(committedValues()).hasSize(80).allSatisfy((v, n) -> assertThat(n).isEqualTo(1));
    sink.close();
  }

  private static String header(ConsumerRecord<String, String> r, String name) {
    return new String(r.headers().lastHeader(name).value(), StandardCharsets.UTF_8);
  }

  @Test
  void changingThePartitionCountOnAUsedWriterIsRefused() {
    sink("parts", WriteMode.APPEND, Writers.PARTITIONED, 2).write(batch(0, 10), 0, "q");
    KafkaSink three = sink("parts", WriteMode.APPEND, Writers.PARTITIONED, 3);
    assertThatThrownBy(() -> three.write(batch(0, 10), 0, "q"))
        .hasMessageContaining("sink.kafka.partitions is 3 but this writer wrote its batches with 2 partitions");
  }

  @Test
  void configThatCannotWorkIsRefused() {
    Map<String, String> c = new LinkedHashMap<>();
    c.put("sink.type", "kafka");
    c.put("sink.name", "k");
    c.put("sink.mode", "insert-if-absent");
    c.put("sink.key.columns", "id");
    c.put("sink.kafka.bootstrap.servers", "127.0.0.1:1");
    c.put("sink.kafka.topic", "bad topic!");
    c.put("sink.kafka.producer.transactional.id", "mine");
    c.put("sink.kafka.producer.enable.idempotence", "false");
    c.put("sink.kafka.writers", "partitioned");
    c.put("sink.kafka.produce.on", "driver");
    assertThatThrownBy(() -> Sinks.fromConfig(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("sink.kafka.produce.on is only used with sink.kafka.writers=single")
        .hasMessageContaining("sink.kafka.topic: 'bad topic!' is not a Kafka topic name")
        .hasMessageContaining("sink.kafka.producer.transactional.id is set by the sink")
        .hasMessageContaining("sink.kafka.producer.enable.idempotence: 'false' cannot work");

    KafkaSink tooLong = KafkaSink.create(SinkSpec.builder().name("tx").mode(WriteMode.APPEND).build(),
        KafkaSinkOptions.of(TestKafka.servers(), topic, Writers.SINGLE, 1, "tx", Map.of("transaction.timeout.ms", "3600000")));
    assertThatThrownBy(() -> tooLong.write(batch(0, 1), 0, "q"))
        .hasMessageContaining("transaction.timeout.ms is 3600000 but the broker allows at most 900000");
  }
}
