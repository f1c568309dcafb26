package dev.eventproc.sink.kafka;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.hash;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitRecord;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.StageGuarantee;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.WriterId;
import dev.eventproc.sink.kafka.KafkaSinkOptions.Writers;
import dev.eventproc.util.Errors;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.BiConsumer;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Option;

/**
 * Exactly-once records in a Kafka topic, for {@code read_committed} consumers. Each batch is written
 * in Kafka transactions that also commit the batch's progress: offset {@code batch + 1} of the
 * consumer group {@code eventproc-<sink>-<query>} (per writer partition), through
 * {@code sendOffsetsToTransaction}. A batch whose progress is committed is skipped. A plain
 * transactional producer is not enough: without that check a replayed batch is written again.
 *
 * <p>Each record belongs to one of {@code kafka.slices} slices by a hash of its key (the count is
 * recorded with the progress). {@code kafka.writers=single} (default) with {@code kafka.produce.on=driver}
 * (default): the driver's producer sends the records as the tasks hand them over and commits the batch in
 * one transaction ({@link DriverProducer}); a batch whose transaction reaches its budget before the last
 * record, or with a partition too large for the driver, is aborted and written in slices, as are the
 * writer's next {@value #SLICED_AFTER_FALLBACK} batches. Sliced
 * ({@code produce.on=task}, a batch committed in part, or that fallback): the batch is shuffled into its
 * slices (one shuffle partition each) and one transactional producer, in one Spark task, writes every
 * slice; {@code partitioned}: writer partition {@code w} of {@code kafka.partitions} writes slices
 * {@code w, w + partitions, ...} with its own transactional id and progress, in parallel. A sliced batch
 * written within half of {@code transaction.timeout.ms} is one transaction per writer partition, seen by
 * readers at once; a longer one is committed at slice boundaries in several, each with the progress
 * "this batch, slices below s" ({@link ProgressTag}), so a batch of any size commits and a replay resumes
 * after the last committed slice. Slices depend only on the key, not on how Spark partitions or orders a
 * replayed batch (SPARK-28650), so a resumed batch is written exactly once.
 *
 * <p>Every transactional producer starts with {@code initTransactions()}, which fences an older
 * producer of the same writer partition (a zombie) and aborts its open transaction; the progress is
 * read after that, so a zombie cannot commit in between. Records: key = the key columns (one column's
 * text, or a JSON object of several), value = the row as JSON, headers {@code eventproc.writer},
 * {@code eventproc.batch} and {@code eventproc.slice}; a writer partition whose group lost its offsets
 * (expired after a long outage) gets its progress back from them ({@link ProgressRecovery}). Mode
 * {@code upsert} sends the newest row of each key and a delete as a tombstone (null value) for
 * compacted topics; {@code append} sends every row.
 */
public final class KafkaSink extends AbstractBatchSink implements AutoCloseable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(KafkaSink.class);
  static final String SLICE = "slice";

  private final KafkaSinkOptions options;
  private final KafkaTopic topic;
  private final WriterProgress progress;
  /** Batches after one that outgrew a driver transaction go to slices directly: a backlog's batches come in runs. */
  static final int SLICED_AFTER_FALLBACK = 16;
  /** Partitions of a batch the driver's producer lets Spark compute ahead of the one it sends, at most. */
  static final int DRIVER_AHEAD_MAX = 8;
  /** How long a failed write waits for a commit that went through to become readable (the coordinator's markers follow it). */
  static final long COMMIT_SETTLE_MILLIS = 5_000;
  /** Set when a batch outgrew a driver transaction: the batches that go to slices directly. */
  private transient volatile SlicedUntil slicedUntil;

  private KafkaSink(SinkSpec spec, KafkaSinkOptions options) {
    super(spec);
    this.options = options;
    this.topic = new KafkaTopic(options, spec.name());
    this.progress = new WriterProgress(options, spec.name(), topic);
  }

  private static final String HISTORY_REFUSED = "'history' does not apply to a Kafka topic: a topic cannot close an "
      + "earlier record when a late version arrives. Use a Delta, Iceberg or PostgreSQL sink for history, or upsert here.";

  /** Reads the {@code kafka.*} keys of a sink scope. */
  public static KafkaSink fromConfig(SinkSpec spec, ConfigReader scope) {
    KafkaSinkOptions o = KafkaSinkOptions.read(scope, spec == null ? "sink" : spec.name());
    if (spec != null && spec.mode() == WriteMode.INSERT_IF_ABSENT) {
      scope.problem(SinkSpec.MODE, "'insert-if-absent' does not apply to a Kafka topic. Use append (every row), or upsert "
          + "(the newest row per key; deletes as tombstones).");
      return null;
    }
    if (spec != null && spec.mode() == WriteMode.HISTORY) {
      scope.problem(SinkSpec.MODE, HISTORY_REFUSED);
      return null;
    }
    return spec == null || o == null ? null : new KafkaSink(spec, o);
  }

  public static KafkaSink create(SinkSpec spec, KafkaSinkOptions options) {
    if (spec.mode() == WriteMode.INSERT_IF_ABSENT) {
      throw new ConfigException(spec.key(SinkSpec.MODE) + ": 'insert-if-absent' does not apply to Kafka.");
    }
    if (spec.mode() == WriteMode.HISTORY) {
      throw new ConfigException(spec.key(SinkSpec.MODE) + ": " + HISTORY_REFUSED);
    }
    return new KafkaSink(spec, options);
  }

  public KafkaSinkOptions options() {
    return options;
  }

  /**
   * A topic cannot refuse an older record: {@code upsert} orders versions only within a batch, so an
   * older version in a later batch would become the newest record of its key (or bring a deleted key
   * back after its tombstone). A version column is accepted only behind a stage that drops older
   * versions across batches ({@code dedupe-latest} on the same key and version).
   */
  @Override
  public void checkStage(StageGuarantee stage, BiConsumer<String, String> problem) {
    String version = spec.versionColumn();
    if (spec.mode() != WriteMode.UPSERT || version == null
        || stage.newerVersionsOnly(spec.keyColumns(), version, spec.tiebreakColumn())) {
      super.checkStage(stage, problem);
      return;
    }
    problem.accept(spec.key(SinkSpec.VERSION_COLUMN), "'" + version + "' with " + spec.key(SinkSpec.MODE) + "=upsert on a Kafka "
        + "sink needs stage.type=dedupe-latest on the same key and version (source.key.columns=" + String.join(",", spec.keyColumns())
        + ", stage.version.column=" + version + (spec.tiebreakColumn() == null ? "" : ", stage.tiebreak.column=" + spec.tiebreakColumn())
        + "). A topic cannot refuse an older record: the sink keeps the newest version only within a batch, so an older version "
        + "arriving in a later batch would become the newest record of its key, or bring a deleted key back after its tombstone; "
        + "dedupe-latest's state drops it. Set that stage, or remove " + spec.key(SinkSpec.VERSION_COLUMN)
        + " (each batch's records then win over earlier ones).");
  }

  @Override
  public String target() {
    return "kafka:" + options.topic();
  }

  /** Topic and writer shape: progress groups and transactional ids are per writer part. */
  @Override
  protected Map<String, String> shape() {
    boolean parts = options.writers() == Writers.PARTITIONED;
    return shapeOf(SinkType.KAFKA, KafkaSinkOptions.TOPIC, options.topic(), KafkaSinkOptions.WRITERS,
        ConfigReader.configName(options.writers()), KafkaSinkOptions.PARTITIONS, parts ? String.valueOf(options.partitions()) : null);
  }

  /**
   * The producer counts what it sends: the batch is read once (twice when the driver's transaction
   * outgrew its budget and the batch goes to slices).
   */
  @Override
  protected boolean writesInOnePass() {
    return true;
  }

  static String group(WriterId writer, int partition, Writers writers) {
    return "eventproc-" + writer.sinkName() + "-" + writer.queryId() + (writers == Writers.PARTITIONED ? "-p" + partition : "");
  }

  /** Stable per writer partition: a restarted or zombie producer of the same partition is fenced by the next one. */
  static String transactionalId(KafkaSinkOptions options, WriterId writer, int partition) {
    return options.transactionalIdPrefix() + "-" + writer.queryId()
        + (options.writers() == Writers.PARTITIONED ? "-p" + partition : "");
  }

  @Override
  protected boolean isCommitted(SparkSession session, WriterId writer, long batchId) {
    topic.ensureExists();
    topic.checkTransactionTimeout(); // before any producer starts (a recovery starts some)
    return progress.firstWithout(progress.orRecovered(writer, batchId), batchId) < 0;
  }

  /**
   * The batch every writer part has committed in full, from the progress groups only: a recovery from
   * the topic would start transactional producers and fence a running pipeline. Parts ahead of the
   * others, parts in the middle of a batch and parts without progress are named in
   * {@link CommitRecord#partly()}.
   */
  @Override
  public CommitRecord lastCommit(SparkSession session, WriterId writer) {
    return ProgressStatus.of(progress.committed(writer), options, writer);
  }

  @Override
  protected CommitResult commit(BatchContext batch) {
    topic.checkTransactionTimeout();
    int partitions = options.partitions();
    Map<Integer, Progress> before = progress.orRecovered(batch.writer(), batch.batchId());
    int slices = progress.slicesOf(before, batch.batchId());
    boolean resumed = before.values().stream().anyMatch(o -> o.partOf(batch.batchId()));
    Map<Integer, Progress> fallback = progress.recoveredFor(batch.writer(), batch.batchId());
    // Slice s of a record: the same hash Spark's repartition uses (pmod(murmur3(x), n)), so a sliced write's
    // shuffle partition s holds slice s. The task checks that each writer sees its slices whole and ascending.
    Column hashed = spec.keyColumns().isEmpty() ? col(KafkaRecords.VALUE) : col(KafkaRecords.KEY);
    Dataset<Row> records = KafkaRecords.of(spec, batch.rows());
    BatchWrite write = new BatchWrite(options, name(), batch.writer(), batch.batchId(), partitions, slices, UUID.randomUUID().toString());
    Exception fencedBy = null;
    CommitResult despite = null;
    try {
      if (!onDriver(batch, resumed, write, records, fallback)) {
        writeSliced(write, records.withColumn(SLICE, pmod(hash(hashed), lit(slices))).repartition(slices, hashed), fallback);
      }
    } catch (Exception e) { // SparkException is checked, thrown through Scala
      if (!KafkaErrors.fenced(e)) {
        despite = committedDespite(e, batch, write.attempt());
        if (despite == null) {
          throw Errors.<RuntimeException>rethrow(e);
        }
      } else if (awaitOtherAttempt(batch)) {
        LOG.warn("sink={} batch={}: a producer of this attempt was fenced ({}); the batch is committed", name(), batch.batchId(),
            e.getMessage());
        fencedBy = e;
      } else {
        throw Errors.<RuntimeException>rethrow(e);
      }
    }
    CommitResult result = despite != null ? despite : outcome(batch, write.attempt());
    if (fencedBy != null && result.alreadyCommitted()) {
      return CommitResult.lostRace(fencedBy); // no writer partition of this attempt committed: the other attempt wrote it all
    }
    if (result.alreadyCommitted() && result.lostTo() == null) {
      // Found uncommitted before this call, committed now, none of it by this attempt: another attempt wrote it
      // meanwhile, and this one's producers, reading the progress after their fencing, sent nothing.
      return CommitResult.lostRace(new IllegalStateException("sink " + name() + " batch " + batch.batchId() + ": another attempt of "
          + batch.writer() + " committed the batch while this attempt was writing it"));
    }
    // Resumed a batch committed in part and found nothing left to write: it was committed, a replay.
    return resumed && !result.alreadyCommitted() && result.rowsWritten() == 0 ? CommitResult.skipped() : result;
  }

  /**
   * Writes the batch with the driver's producer when the options say so, it was not committed in part,
   * and no batch of this writer among the last {@value #SLICED_AFTER_FALLBACK} outgrew a driver
   * transaction; false: write it in slices (the driver's transaction, if any, was aborted).
   */
  private boolean onDriver(BatchContext batch, boolean resumed, BatchWrite write, Dataset<Row> records, Map<Integer, Progress> fallback) {
    SlicedUntil until = slicedUntil;
    if (!options.producesOnDriver() || resumed || (until != null && until.holds(batch.writer(), batch.batchId()))) {
      return false;
    }
    // As many partitions computed ahead as Spark has task slots, so the upstream keeps them busy; at most
    // DRIVER_AHEAD_MAX, since each is held on the driver (compressed) until sent.
    int ahead = Math.min(DRIVER_AHEAD_MAX, Math.max(1, batch.session().sparkContext().defaultParallelism()));
    long bound = DriverProducer.partitionBound(batch.session().sparkContext().getConf(), ahead);
    DriverProducer.Outcome outcome = DriverProducer.write(write, records, fallback.get(0), ahead, bound);
    if (outcome == DriverProducer.Outcome.OUTGREW) {
      slicedUntil = new SlicedUntil(batch.writer(), batch.batchId() + 1 + SLICED_AFTER_FALLBACK);
    }
    return outcome == DriverProducer.Outcome.WRITTEN;
  }

  /** After a batch outgrew a driver transaction: this writer's batches before {@code batchId} go to slices directly. */
  private record SlicedUntil(WriterId writer, long batchId) {
    boolean holds(WriterId w, long batch) {
      return writer.equals(w) && batch < batchId && batch >= batchId - 1 - SLICED_AFTER_FALLBACK;
    }
  }

  /** One Spark task per writer partition produces its slices; Spark's internal rows, sent as they are. */
  private void writeSliced(BatchWrite write, Dataset<Row> sliced, Map<Integer, Progress> fallback) {
    JavaRDD<InternalRow> writers = sliced.queryExecution().toRdd()
        .coalesce(write.partitions(), false, Option.apply(new SliceCoalescer()), null).toJavaRDD();
    writers.mapPartitions(new ProduceTask(write, fallback)).collect();
  }

  /**
   * What this attempt did, read from the committed progress rather than from task results: a task
   * whose commit went through but whose answer was lost (fenced on a retried request, a lost
   * connection) still counts as ours, and partitions another attempt committed do not.
   */
  private CommitResult outcome(BatchContext batch, String attempt) {
    return ofAttempt(progress.awaitVisible(batch.writer(), batch.batchId()), batch.batchId(), attempt);
  }

  /** Written (the records of {@code attempt}'s commits) when it committed the batch in some writer partition, else skipped. */
  private static CommitResult ofAttempt(Map<Integer, Progress> committed, long batchId, String attempt) {
    long sent = 0;
    int ours = 0;
    for (Progress o : committed.values()) {
      ProgressTag tag = o.tag();
      if (o.offset() - 1 == batchId && attempt.equals(tag.attempt())) {
        ours++;
        sent += tag.rows();
      }
    }
    return ours == 0 ? CommitResult.skipped() : CommitResult.written(sent);
  }

  /**
   * After a failed write: what the progress says when it shows the batch committed in full (the failure
   * came after the commit went through, its answer lost to a timeout or a lost connection; or another
   * attempt committed it): written by this attempt's commits, or a lost race; else null, and the failure stands.
   */
  private CommitResult committedDespite(Exception failure, BatchContext batch, String attempt) {
    try {
      // A commit that just went through becomes readable a moment later: wait a little for it.
      Map<Integer, Progress> now = progress.visibleWithin(batch.writer(), batch.batchId(), COMMIT_SETTLE_MILLIS);
      if (now == null) {
        return null;
      }
      CommitResult ours = ofAttempt(now, batch.batchId(), attempt);
      if (ours.alreadyCommitted()) {
        return CommitResult.lostRace(failure); // no commit of this attempt: another one wrote the batch
      }
      LOG.warn("sink={} batch={}: the write failed after its commit went through ({}); the batch is committed", name(),
          batch.batchId(), failure.toString());
      return ours;
    } catch (RuntimeException lookup) {
      failure.addSuppressed(lookup);
      return null;
    }
  }


  /**
   * Fenced: another attempt of this writer took over its transactional id and is writing the batch.
   * Wait for it (up to the transaction timeout, after which the broker aborts it) and report whether
   * it committed the batch.
   */
  private boolean awaitOtherAttempt(BatchContext batch) {
    long deadline = System.currentTimeMillis() + Math.min(options.transactionTimeoutMs(), 120_000);
    while (System.currentTimeMillis() < deadline) {
      if (isCommitted(batch.session(), batch.writer(), batch.batchId())) {
        LOG.info("sink={} batch={}: fenced by another attempt of this writer, which committed the batch", name(), batch.batchId());
        return true;
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return false;
  }

  @Override
  public void close() {
    topic.close();
  }
}
