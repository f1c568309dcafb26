package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;

import dev.eventproc.testutils.TestSpark;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.streaming.StreamingQuery;
import org.apache.spark.sql.streaming.StreamingQueryListener;
import org.apache.spark.sql.streaming.Trigger;
import org.junit.jupiter.api.Test;

/**
 * A query can end, and Spark's bus deliver its end, before {@code Pipeline.start} binds the listener to
 * it (an {@code available-now} run with little to read, on a busy machine). The listener then missed
 * the end: {@code Pipeline.removeListener} waited its full bound for an end already delivered.
 */
class ProgressListenerBindTest {
  @Test
  void aQueryWhoseEndWasDeliveredBeforeBindCountsAsTerminated() throws Exception {
    var spark = TestSpark.session();
    CountDownLatch ended = new CountDownLatch(1);
    StreamingQueryListener watcher = new StreamingQueryListener() {
      @Override
      public void onQueryStarted(QueryStartedEvent event) {}

      @Override
      public void onQueryProgress(QueryProgressEvent event) {}

      @Override
      public void onQueryTerminated(QueryTerminatedEvent event) {
        ended.countDown();
      }
    };
    ProgressListener listener = new ProgressListener("bind_late", null, null);
    spark.streams().addListener(listener);
    spark.streams().addListener(watcher); // called after the listener for each event
    try {
      StreamingQuery q = spark.readStream().format("rate-micro-batch").option("rowsPerBatch", 1).load().writeStream()
          .queryName("bind_late").format("noop").option("checkpointLocation", TestSpark.newDir("bind-late").toString())
          .trigger(Trigger.AvailableNow()).start();
      q.awaitTermination();
      assertThat(ended.await(60, TimeUnit.SECONDS)).as("the end delivered on the bus").isTrue();

      listener.bind(q);

      assertThat(listener.awaitTerminated(System.currentTimeMillis() + 2000)).as("the listener knows the run ended").isTrue();
    } finally {
      spark.streams().removeListener(listener);
      spark.streams().removeListener(watcher);
    }
  }
}
