package dev.eventproc.bench;

import static dev.eventproc.bench.E2eSupport.checkSink;
import static dev.eventproc.bench.E2eSupport.config;
import static dev.eventproc.bench.E2eSupport.end;
import static dev.eventproc.bench.E2eSupport.endOffsets;
import static dev.eventproc.bench.E2eSupport.newTopic;
import static dev.eventproc.bench.E2eSupport.pipelineConfig;
import static dev.eventproc.bench.E2eSupport.producer;
import static dev.eventproc.bench.E2eSupport.withData;
import static dev.eventproc.bench.EndToEndBench.WARM_UP;

import dev.eventproc.bench.E2eSupport.Feed;
import dev.eventproc.bench.EndToEndBench.Settings;
import dev.eventproc.bench.EndToEndBench.Target;
import dev.eventproc.pipeline.Pipeline;
import dev.eventproc.pipeline.ProgressListener;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryProgress;

/** Phase 2 of {@link EndToEndBench}: events sent at a fixed rate; event-to-visible latency per event. */
final class LatencyPhase {
  private LatencyPhase() {}

  record Latency(long p50, long p99, long max, long events, int batches, long drainMillis, String stateRange,
      String sinkCheck) {}

  static Latency latency(SparkSession spark, Settings s, Target target) throws Exception {
    String topic = newTopic(s.kafkaServers(), "latency");
    Map<String, String> c = config(s, target, "latency", topic);
    c.put("trigger", "processing-time");
    c.put("trigger.interval", "0");
    Pipeline p = Pipeline.start(spark, pipelineConfig(c, s), null);
    Feed feed = new Feed();
    SendLog sent;
    long measureFrom;
    try {
      long total = (WARM_UP.toSeconds() + s.latencyRun().toSeconds()) * s.rate();
      sent = new SendLog(2, total * 11 / 10 + 10);
      long start = System.currentTimeMillis();
      measureFrom = start + WARM_UP.toMillis();
      AtomicReference<Exception> failed = new AtomicReference<>();
      try (KafkaProducer<String, String> producer = producer(s.kafkaServers(), 5)) {
        long n = 0;
        while (n < total) {
          long due = Math.min(total, (System.currentTimeMillis() - start) * s.rate() / 1000);
          for (; n < due; n++) {
            long now = System.currentTimeMillis();
            for (String payload : feed.next(now * 1000)) {
              producer.send(new ProducerRecord<>(topic, null, now, feed.key(), payload), (meta, e) -> {
                if (e != null) {
                  failed.compareAndSet(null, e);
                } else {
                  sent.record(meta.partition(), meta.offset(), now);
                }
              });
            }
          }
          if (p.query().exception().isDefined()) {
            throw new IllegalStateException("e2e: the pipeline failed", p.query().exception().get());
          }
          Thread.sleep(2);
        }
        producer.flush();
      }
      if (failed.get() != null) {
        throw new IllegalStateException("e2e: could not produce: " + failed.get().getMessage(), failed.get());
      }
      awaitConsumed(p.query(), topic, sent, Duration.ofMinutes(5));
    } finally {
      p.query().stop();
      p.removeListener();
    }
    List<StreamingQueryProgress> batches = withData(p.query());
    long[] latencies = sent.latencies(batches, topic, measureFrom);
    Arrays.sort(latencies);
    if (latencies.length == 0) {
      throw new IllegalStateException("e2e: no event was sent after the warm-up");
    }
    long lastEnd = end(batches.get(batches.size() - 1));
    List<Long> state = batches.stream().map(ProgressListener::stateRows).toList();
    List<Long> tail = state.subList(state.size() / 2, state.size());
    String range = tail.isEmpty() ? "-" : String.format(Locale.ROOT, "%,d-%,d in the second half",
        tail.stream().mapToLong(Long::longValue).min().orElse(0), tail.stream().mapToLong(Long::longValue).max().orElse(0));
    return new Latency(percentile(latencies, 0.50), percentile(latencies, 0.99), latencies[latencies.length - 1], latencies.length,
        batches.size(), lastEnd - sent.lastSendMillis(), range, checkSink(spark, s, target, c, feed));
  }

  static long percentile(long[] sorted, double q) {
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  }

  static void awaitConsumed(StreamingQuery q, String topic, SendLog sent, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (q.exception().isDefined()) {
        throw new IllegalStateException("e2e: the pipeline failed", q.exception().get());
      }
      StreamingQueryProgress last = q.lastProgress();
      if (last != null && sent.coveredBy(endOffsets(last, topic))) {
        return;
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("e2e: the pipeline did not catch up within " + timeout);
  }

  /**
   * Send times by partition and offset (offsets of a fresh topic written without transactions are
   * dense from 0), filled from the producer's callbacks.
   */
  static final class SendLog {
    private final long[][] sentAt;
    private final long[] count;
    private volatile long lastSend;

    SendLog(int partitions, long capacity) {
      sentAt = new long[partitions][(int) Math.min(Integer.MAX_VALUE - 8, capacity)];
      count = new long[partitions];
    }

    synchronized void record(int partition, long offset, long millis) {
      if (partition >= sentAt.length || offset >= sentAt[partition].length) {
        throw new IllegalStateException("e2e: unexpected partition/offset " + partition + "/" + offset);
      }
      sentAt[partition][(int) offset] = millis;
      count[partition] = Math.max(count[partition], offset + 1);
      lastSend = Math.max(lastSend, millis);
    }

    long lastSendMillis() {
      return lastSend;
    }

    synchronized boolean coveredBy(Map<Integer, Long> end) {
      for (int part = 0; part < count.length; part++) {
        if (count[part] > end.getOrDefault(part, 0L)) {
          return false;
        }
      }
      return true;
    }

    /** Per event sent at or after {@code from}: end of the batch that read it minus its send time. */
    synchronized long[] latencies(List<StreamingQueryProgress> batches, String topic, long from) {
      List<StreamingQueryProgress> ordered = new ArrayList<>(batches);
      ordered.sort(Comparator.comparingLong(StreamingQueryProgress::batchId));
      long[] out = new long[(int) Arrays.stream(count).sum()];
      int n = 0;
      long[] done = new long[count.length];
      for (StreamingQueryProgress b : ordered) {
        long visible = end(b);
        for (Map.Entry<Integer, Long> e : endOffsets(b, topic).entrySet()) {
          int part = e.getKey();
          for (long off = done[part]; off < Math.min(e.getValue(), count[part]); off++) {
            long at = sentAt[part][(int) off];
            if (at >= from) {
              out[n++] = visible - at;
            }
          }
          done[part] = Math.max(done[part], e.getValue());
        }
      }
      return Arrays.copyOf(out, n);
    }
  }
}
