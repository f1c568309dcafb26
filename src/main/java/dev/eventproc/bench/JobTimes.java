package dev.eventproc.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;

/**
 * Where a streaming query's batches spend their time, by Spark job: each job's wall time (submission to
 * completion) under the phase its description names, and the time of a batch in no job (driver work:
 * planning, commits, checks). Delta names a MERGE's jobs ("MERGE operation - scanning files for matches",
 * "Compute snapshot for version: N", ...); a job without such a name is the query's own (in a pipeline:
 * the source, the stage and the batch's counts). Spark's event log holds the same; this prints it beside
 * the figures it explains.
 *
 * <p>A phase's time is the sum of its jobs' wall times (jobs that overlap count twice there, once in the
 * time outside jobs), and each figure is a median of its own, so the figures of a batch do not add up to
 * its duration.
 */
final class JobTimes extends SparkListener {
  /** The query's own jobs, with no phase in their description. */
  static final String OWN_JOBS = "query's own jobs (source, stage, counts)";
  /** Time of a batch in no job. */
  static final String OUTSIDE_JOBS = "outside jobs (driver: planning, commits, checks)";
  /** Spark's local properties on a streaming query's jobs (StreamExecution, MicroBatchExecution). */
  private static final String QUERY_ID = "sql.streaming.queryId";
  private static final String BATCH_ID = "streaming.sql.batchId";
  private static final String DESCRIPTION = "spark.job.description";
  /** What separates Delta's job name from Spark's "batch = N": ": " or " - ". */
  private static final Pattern SEPARATOR = Pattern.compile("^[:\\s-]+");
  private static final Pattern NUMBER = Pattern.compile("\\d+");

  /** One job of one batch of a query. */
  record Job(String queryId, long batchId, String phase, long startMillis, long endMillis) {}

  private final Map<Integer, Job> running = new ConcurrentHashMap<>();
  private final List<Job> done = new ArrayList<>();
  private volatile boolean incomplete;

  /** Collects without being registered (tests); see {@link #register}. */
  JobTimes() {}

  /** Starts collecting the jobs of streaming queries (register before a query starts, to see its first batch). */
  static JobTimes register(SparkSession spark) {
    JobTimes t = new JobTimes();
    spark.sparkContext().addSparkListener(t);
    return t;
  }

  /**
   * Stops collecting, after Spark's listener bus has delivered what it holds (or 10 s; the summary then
   * says it may be incomplete). The wait is Spark-internal API (public in bytecode, meant for Spark's tests):
   * a bench may lean on it, eventproc's pipeline does not.
   */
  void unregister(SparkSession spark) {
    try {
      spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
    } catch (TimeoutException e) {
      incomplete = true;
    } finally {
      spark.sparkContext().removeSparkListener(this);
    }
  }

  @Override
  public void onJobStart(SparkListenerJobStart start) {
    Properties p = start.properties();
    if (p == null) {
      return;
    }
    Job job = parse(p.getProperty(QUERY_ID), p.getProperty(BATCH_ID), p.getProperty(DESCRIPTION), start.time());
    if (job != null) {
      running.put(start.jobId(), job);
    }
  }

  @Override
  public void onJobEnd(SparkListenerJobEnd end) {
    Job job = running.remove(end.jobId());
    if (job != null) {
      synchronized (done) {
        done.add(new Job(job.queryId(), job.batchId(), job.phase(), job.startMillis(), end.time()));
      }
    }
  }

  /**
   * A started job from its query's id, its batch id and its description (Spark's ends with "batch = N",
   * Delta's job names follow); null for a job of no streaming batch. Numbers in the phase (versions) are
   * dropped, so a phase is one label across batches.
   */
  static Job parse(String queryId, String batchId, String description, long startMillis) {
    if (queryId == null || batchId == null || !NUMBER.matcher(batchId).matches()) {
      return null;
    }
    // The last "batch = <id>": a query's name comes before it and could hold the same words.
    String marker = "batch = " + batchId;
    int at = description == null ? -1 : description.lastIndexOf(marker);
    String named = at < 0 ? "" : SEPARATOR.matcher(description.substring(at + marker.length())).replaceFirst("");
    String phase = NUMBER.matcher(named.trim()).replaceAll("N").trim();
    return new Job(queryId, Long.parseLong(batchId), phase.isEmpty() ? OWN_JOBS : phase, startMillis, startMillis);
  }

  /** {@link #summary(List, Map)} of the jobs seen of query {@code queryId}. */
  String summary(String queryId, Map<Long, Long> batchMillis) {
    String summary;
    synchronized (done) {
      summary = summary(done.stream().filter(j -> j.queryId().equals(queryId)).toList(), batchMillis);
    }
    return incomplete ? summary + " (incomplete: Spark's listener bus did not deliver every job within 10 s)" : summary;
  }

  /**
   * The median time per batch of each phase over the batches of {@code batchMillis} (batch id to its
   * wall time; a batch without a phase counts 0 for it) and of the time in no job, largest first:
   * "phase 1,234 ms; ...".
   */
  static String summary(List<Job> jobs, Map<Long, Long> batchMillis) {
    Map<Long, List<Job>> byBatch = jobs.stream().filter(j -> batchMillis.containsKey(j.batchId()))
        .collect(Collectors.groupingBy(Job::batchId));
    Map<String, Long> medians = new LinkedHashMap<>();
    for (String phase : new TreeSet<>(byBatch.values().stream().flatMap(List::stream).map(Job::phase).toList())) {
      medians.put(phase, median(batchMillis.keySet().stream()
          .map(b -> byBatch.getOrDefault(b, List.of()).stream().filter(j -> j.phase().equals(phase))
              .mapToLong(j -> j.endMillis() - j.startMillis()).sum())
          .toList()));
    }
    medians.put(OUTSIDE_JOBS, median(batchMillis.entrySet().stream()
        .map(e -> Math.max(0, e.getValue() - busy(byBatch.getOrDefault(e.getKey(), List.of()))))
        .toList()));
    return medians.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed())
        .map(e -> String.format(Locale.ROOT, "%s %,d ms", e.getKey(), e.getValue()))
        .collect(Collectors.joining("; "));
  }

  /** The time in which at least one of a batch's jobs ran (jobs may overlap). */
  static long busy(List<Job> batch) {
    List<Job> sorted = batch.stream().sorted(Comparator.comparingLong(Job::startMillis)).toList();
    long busy = 0;
    long reached = Long.MIN_VALUE;
    for (Job j : sorted) {
      long from = Math.max(j.startMillis(), reached);
      busy += Math.max(0, j.endMillis() - from);
      reached = Math.max(reached, j.endMillis());
    }
    return busy;
  }

  /** The middle value; of an even count, the upper of the two middle ones; 0 of none. */
  static long median(List<Long> values) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
