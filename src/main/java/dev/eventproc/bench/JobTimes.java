package dev.eventproc.bench;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
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
 */
final class JobTimes extends SparkListener {
  /** The query's own jobs, with no phase in their description. */
  static final String OWN_JOBS = "query's own jobs (source, stage, counts)";
  /** Time of a batch in no job. */
  static final String OUTSIDE_JOBS = "outside jobs (driver: planning, commits, checks)";
  private static final Pattern BATCH = Pattern.compile("batch = (\\d+)[:\\s-]*(.*)", Pattern.DOTALL);
  private static final Pattern NUMBER = Pattern.compile("\\d+");

  /** One job of one batch of a query. */
  record Job(String queryId, long batchId, String phase, long startMillis, long endMillis) {}

  private final Map<Integer, Job> running = new ConcurrentHashMap<>();
  private final List<Job> done = new ArrayList<>();

  private JobTimes() {}

  /** Starts collecting the jobs of streaming queries (register before a query starts, to see its first batch). */
  static JobTimes register(SparkSession spark) {
    JobTimes t = new JobTimes();
    spark.sparkContext().addSparkListener(t);
    return t;
  }

  /** Stops collecting, after Spark's listener bus has delivered what it holds (or 10 s). */
  void unregister(SparkSession spark) {
    try {
      spark.sparkContext().listenerBus().waitUntilEmpty(10_000);
    } catch (TimeoutException e) {
      // A job end still queued is left out: its batch shows less job time, which the summary would show.
    } finally {
      spark.sparkContext().removeSparkListener(this);
    }
  }

  @Override
  public void onJobStart(SparkListenerJobStart start) {
    Properties p = start.properties();
    String queryId = p == null ? null : p.getProperty("sql.streaming.queryId");
    if (queryId == null) {
      return;
    }
    Job job = parse(queryId, p.getProperty("spark.job.description"), start.time(), start.time());
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
   * A job from its description (Spark's streaming description ends with "batch = N", Delta's job
   * names follow it); null when the description names no batch. Numbers in the phase (versions) are
   * dropped, so a phase is one label across batches.
   */
  static Job parse(String queryId, String description, long startMillis, long endMillis) {
    if (description == null) {
      return null;
    }
    Matcher m = BATCH.matcher(description);
    if (!m.find()) {
      return null;
    }
    String phase = NUMBER.matcher(m.group(2).trim()).replaceAll("N").trim();
    return new Job(queryId, Long.parseLong(m.group(1)), phase.isEmpty() ? OWN_JOBS : phase, startMillis, endMillis);
  }

  /** {@link #summary(List, Map)} of the jobs seen of query {@code queryId}. */
  String summary(String queryId, Map<Long, Long> batchMillis) {
    synchronized (done) {
      return summary(done.stream().filter(j -> j.queryId().equals(queryId)).toList(), batchMillis);
    }
  }

  /**
   * The median time per batch of each phase over the batches of {@code batchMillis} (batch id to its
   * wall time; a batch without a phase counts 0 for it) and of the time in no job, largest first:
   * "phase 1,234 ms; ...".
   */
  static String summary(List<Job> jobs, Map<Long, Long> batchMillis) {
    Map<Long, List<Job>> byBatch = jobs.stream().collect(Collectors.groupingBy(Job::batchId));
    Map<String, List<Long>> perPhase = new TreeMap<>();
    List<Long> outside = new ArrayList<>();
    for (Map.Entry<Long, Long> entry : batchMillis.entrySet()) {
      long b = entry.getKey();
      List<Job> batch = byBatch.getOrDefault(b, List.of());
      Map<String, Long> sums = new LinkedHashMap<>();
      for (Job j : batch) {
        sums.merge(j.phase(), j.endMillis() - j.startMillis(), Long::sum);
      }
      for (String phase : batch.stream().map(Job::phase).distinct().toList()) {
        perPhase.computeIfAbsent(phase, k -> new ArrayList<>());
      }
      for (Map.Entry<String, List<Long>> e : perPhase.entrySet()) {
        e.getValue().add(sums.getOrDefault(e.getKey(), 0L));
      }
      outside.add(Math.max(0, entry.getValue() - busy(batch)));
    }
    Map<String, Long> medians = new LinkedHashMap<>();
    perPhase.forEach((phase, times) -> medians.put(phase, median(padded(times, batchMillis.size()))));
    medians.put(OUTSIDE_JOBS, median(outside));
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

  /** A phase first seen in a later batch took 0 ms in the batches before it. */
  private static List<Long> padded(List<Long> times, int batches) {
    List<Long> out = new ArrayList<>();
    for (int i = times.size(); i < batches; i++) {
      out.add(0L);
    }
    out.addAll(times);
    return out;
  }

  private static long median(List<Long> values) {
    if (values.isEmpty()) {
      return 0;
    }
    List<Long> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
