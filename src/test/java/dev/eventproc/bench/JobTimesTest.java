package dev.eventproc.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.bench.JobTimes.Job;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.spark.scheduler.JobSucceeded$;
import org.apache.spark.scheduler.SparkListenerJobEnd;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.StageInfo;
import org.junit.jupiter.api.Test;
import scala.jdk.javaapi.CollectionConverters;

/** The e2e case's breakdown of a batch's time by Spark job, on descriptions as Spark and Delta write them. */
class JobTimesTest {
  private static final String HEAD = "Delta: e2e_delta_sustained\nid = 060ec082\nrunId = c0584aca\n";

  @Test
  void aJobsPhaseIsWhatDeltaNamesAfterTheBatchWithoutItsNumbers() {
    Job snapshot = JobTimes.parse("q", "12", HEAD + "batch = 12: Compute snapshot for version: 13", 100);
    Job merge = JobTimes.parse("q", "3", HEAD + "batch = 3 - MERGE operation - scanning files for matches: Compute snapshot for version: 4",
        100);
    Job own = JobTimes.parse("q", "7", "e2e_delta_sustained\nid = 060ec082\nrunId = c0584aca\nbatch = 7", 100);
    // A query named with the same words: the batch line is the last one.
    Job named = JobTimes.parse("q", "2", "batch = 2 - MERGE operation\nid = 1\nbatch = 2", 100);
    assertThat(snapshot.batchId()).isEqualTo(12);
    assertThat(snapshot.phase()).isEqualTo("Compute snapshot for version: N");
    assertThat(merge.batchId()).isEqualTo(3);
    assertThat(merge.phase()).isEqualTo("MERGE operation - scanning files for matches: Compute snapshot for version: N");
    assertThat(own.phase()).isEqualTo(JobTimes.OWN_JOBS);
    assertThat(named.phase()).isEqualTo(JobTimes.OWN_JOBS);
    assertThat(JobTimes.parse("q", "4", null, 0).phase()).isEqualTo(JobTimes.OWN_JOBS);
    assertThat(JobTimes.parse("q", null, "a job of no batch", 0)).isNull();
    assertThat(JobTimes.parse(null, "4", HEAD + "batch = 4", 0)).isNull();
  }

  @Test
  void theListenerTimesEachJobFromItsStartToItsEndAndKeepsQueriesApart() {
    JobTimes times = new JobTimes();
    times.onJobStart(start(1, 1_000, "q1", "5", "q1\nbatch = 5"));
    times.onJobStart(start(2, 1_100, "q2", "5", "q2\nbatch = 5: Compute snapshot for version: 9"));
    times.onJobStart(start(3, 1_100, null, null, "a job outside any query"));
    times.onJobEnd(end(1, 1_400));
    times.onJobEnd(end(2, 1_150));
    times.onJobEnd(end(3, 1_900));
    assertThat(times.summary("q1", Map.of(5L, 1_000L))).isEqualTo(JobTimes.OUTSIDE_JOBS + " 600 ms; " + JobTimes.OWN_JOBS + " 400 ms");
    assertThat(times.summary("q2", Map.of(5L, 1_000L)))
        .isEqualTo(JobTimes.OUTSIDE_JOBS + " 950 ms; Compute snapshot for version: N 50 ms");
  }

  private static SparkListenerJobStart start(int jobId, long time, String queryId, String batchId, String description) {
    Properties p = new Properties();
    if (queryId != null) {
      p.setProperty("sql.streaming.queryId", queryId);
      p.setProperty("streaming.sql.batchId", batchId);
    }
    p.setProperty("spark.job.description", description);
    return new SparkListenerJobStart(jobId, time, CollectionConverters.asScala(List.<StageInfo>of()).toList(), p);
  }

  private static SparkListenerJobEnd end(int jobId, long time) {
    return new SparkListenerJobEnd(jobId, time, JobSucceeded$.MODULE$);
  }

  @Test
  void overlappingJobsCountOnceAndTheRestOfTheBatchIsOutsideJobs() {
    // Batch 1 (1,000 ms): 0-300 and 200-400 overlap (400 ms busy), then 600-700: 500 ms in jobs, 500 outside.
    // Batch 2 (800 ms): one job of 100 ms in a phase batch 1 lacks: 0 ms for it there.
    List<Job> jobs = List.of(
        new Job("q", 1, "stage", 0, 300),
        new Job("q", 1, "MERGE", 200, 400),
        new Job("q", 1, "MERGE", 600, 700),
        new Job("q", 2, "snapshot", 1000, 1100));
    assertThat(JobTimes.busy(jobs.subList(0, 3))).isEqualTo(500);
    Map<Long, Long> batches = new LinkedHashMap<>();
    batches.put(1L, 1000L);
    batches.put(2L, 800L);
    batches.put(3L, 900L);
    // Medians of three batches: stage (300, 0, 0) -> 0; MERGE (300, 0, 0) -> 0; snapshot (0, 100, 0) -> 0;
    // outside (500, 700, 900) -> 700.
    assertThat(JobTimes.summary(jobs, batches)).startsWith(JobTimes.OUTSIDE_JOBS + " 700 ms;")
        .contains("MERGE 0 ms").contains("stage 0 ms").contains("snapshot 0 ms");
    batches.remove(3L);
    // Two batches: the upper middle. stage (300, 0) -> 300; MERGE (300, 0) -> 300; snapshot (0, 100) -> 100.
    assertThat(JobTimes.summary(jobs, batches)).isEqualTo(JobTimes.OUTSIDE_JOBS + " 700 ms; MERGE 300 ms; stage 300 ms; snapshot 100 ms");
  }
}
