package dev.eventproc.bench;

import static dev.eventproc.bench.E2eSupport.checkSink;
import static dev.eventproc.bench.E2eSupport.config;
import static dev.eventproc.bench.E2eSupport.end;
import static dev.eventproc.bench.E2eSupport.newTopic;
import static dev.eventproc.bench.E2eSupport.pipelineConfig;
import static dev.eventproc.bench.E2eSupport.producer;
import static dev.eventproc.bench.E2eSupport.withData;
import static dev.eventproc.bench.EndToEndBench.WATERMARK_DELAY;

import dev.eventproc.bench.E2eSupport.Feed;
import dev.eventproc.bench.EndToEndBench.Settings;
import dev.eventproc.bench.EndToEndBench.Target;
import dev.eventproc.pipeline.Pipeline;
import dev.eventproc.pipeline.ProgressListener;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/**
 * Phase 1 of {@link EndToEndBench}: a backlog drained in batches of a fixed size, by eventproc's
 * pipeline or by the {@link HandWrittenPipeline hand-written one}; the rate and the state per batch.
 */
final class SustainedPhase {
  private SustainedPhase() {}

  /**
   * @param stateStore "RocksDB" when the state operators report RocksDB's metrics, else "default"
   * @param jobTimes where the measured batches' time went, by Spark job ({@link JobTimes})
   */
  record Sustained(long rows, double seconds, List<Long> state, long stateBound, boolean flat, String sinkCheck, String stateStore,
      List<Long> writeMillis, String jobTimes) {
    /**
     * Where a batch's time goes: the median of Spark's {@code addBatch} (the foreachBatch call: stage,
     * sink, commit) over the full batches after the first, and that of the last batch (a few rows: the fixed cost).
     */
    String writeTimes() {
      List<Long> full = writeMillis.size() > 2 ? writeMillis.subList(1, writeMillis.size() - 1) : writeMillis;
      return String.format(Locale.ROOT, "batch write (Spark's addBatch) median %,d ms, last batch %,d ms",
          JobTimes.median(full), writeMillis.get(writeMillis.size() - 1));
    }
  }

  /** A backlog on a fresh topic: the events and what the sink must end up holding. */
  private record Backlog(String topic, Feed feed) {}

  /** eventproc's pipeline ({@code eventproc run}'s config: Kafka, dedupe-latest, the sink and its commit records). */
  static Sustained sustained(SparkSession spark, Settings s, Target target) throws Exception {
    Backlog backlog = produce(s);
    Map<String, String> c = config(s, target, "sustained", backlog.topic());
    c.put("trigger", "available-now");
    c.put("source.kafka.max.offsets.per.trigger", String.valueOf(s.batchEvents()));
    JobTimes jobs = JobTimes.register(spark);
    Pipeline p;
    try {
      p = Pipeline.start(spark, pipelineConfig(c, s), null);
      try {
        p.query().awaitTermination();
      } finally {
        p.removeListener();
      }
    } finally {
      jobs.unregister(spark);
    }
    // Keys live in state from their first event until the watermark passes their newest one: half
    // the event rate (two versions per key) over the delay plus one batch of event time.
    return measure(p.query(), jobs, s, 2, checkSink(spark, s, target, c, backlog.feed()));
  }

  /** The same backlog through {@link HandWrittenPipeline}, measured the same way. */
  static Sustained handWritten(SparkSession spark, Settings s, Target target) throws Exception {
    Backlog backlog = produce(s);
    JobTimes jobs = JobTimes.register(spark);
    StreamingQuery q;
    try {
      q = HandWrittenPipeline.start(spark, s, target, backlog.topic());
      q.awaitTermination();
    } finally {
      jobs.unregister(spark);
    }
    // Its state holds every (key, version) until the watermark passes it: the whole event rate.
    return measure(q, jobs, s, 1, checkSink(spark, s, target, HandWrittenPipeline.sinkLocation(s, target), backlog.feed()));
  }

  private static Backlog produce(Settings s) throws Exception {
    String topic = newTopic(s.kafkaServers(), "sustained");
    Feed feed = new Feed();
    long eventMicrosStep = 1_000_000L / s.rate();
    // The backlog's event times end before now: the source quarantines events ahead of the time it received them.
    long base = Instant.now().minusSeconds(86_400).minus(s.events() * eventMicrosStep, ChronoUnit.MICROS)
        .truncatedTo(ChronoUnit.DAYS).toEpochMilli() * 1000;
    try (KafkaProducer<String, String> producer = producer(s.kafkaServers(), 20)) {
      AtomicReference<Exception> failed = new AtomicReference<>();
      for (long n = 0; n < s.events(); n++) {
        for (String payload : feed.next(base + n * eventMicrosStep)) {
          producer.send(new ProducerRecord<>(topic, feed.key(), payload), (meta, e) -> {
            if (e != null) {
              failed.compareAndSet(null, e);
            }
          });
        }
      }
      producer.flush();
      if (failed.get() != null) {
        throw new IllegalStateException("e2e: could not produce the backlog: " + failed.get().getMessage(), failed.get());
      }
    }
    return new Backlog(topic, feed);
  }

  /**
   * The rows of every batch after the first over the time from the first batch's end to the last's,
   * and whether state stayed within its bound: (delay + one batch of event time + 1 s) x event rate /
   * {@code eventsPerStateRow}, over the second half of the batches.
   */
  private static Sustained measure(StreamingQuery query, JobTimes jobs, Settings s, int eventsPerStateRow, String sinkCheck) {
    List<StreamingQueryProgress> batches = withData(query);
    if (batches.size() < 2) {
      throw new IllegalStateException("e2e: the backlog fit in one batch; give more --rows or a smaller --e2e-batch");
    }
    long rows = 0;
    for (StreamingQueryProgress b : batches.subList(1, batches.size())) {
      rows += b.numInputRows();
    }
    double seconds = (end(batches.get(batches.size() - 1)) - end(batches.get(0))) / 1000.0;
    List<Long> state = batches.stream().map(ProgressListener::stateRows).toList();
    long eventMicrosStep = 1_000_000L / s.rate();
    long batchEventSeconds = Math.max(1, s.batchEvents() * eventMicrosStep / 1_000_000);
    long bound = (WATERMARK_DELAY.toSeconds() + batchEventSeconds + 1) * s.rate() / eventsPerStateRow;
    List<Long> tail = state.subList(state.size() / 2, state.size());
    boolean flat = tail.stream().allMatch(n -> n <= bound);
    boolean rocksDb = batches.stream().flatMap(b -> Arrays.stream(b.stateOperators()))
        .anyMatch(op -> op.customMetrics().keySet().stream().anyMatch(k -> k.startsWith("rocksdb")));
    List<Long> writeMillis = batches.stream().map(b -> b.durationMs().getOrDefault("addBatch", 0L)).toList();
    Map<Long, Long> measured = new LinkedHashMap<>();
    for (StreamingQueryProgress b : batches.subList(1, batches.size())) {
      measured.put(b.batchId(), b.durationMs().getOrDefault("triggerExecution", 0L));
    }
    return new Sustained(rows, seconds, state, bound, flat, sinkCheck, rocksDb ? "RocksDB" : "default", writeMillis,
        jobs.summary(query.id().toString(), measured));
  }
}
