package dev.eventproc.pipeline;

import dev.eventproc.stage.SourceOptions;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The id of the Kafka cluster a source reads, for the checkpoint guard: a checkpoint's offsets belong
 * to one cluster. The bootstrap addresses may change (a DNS move, a new broker list); the cluster may
 * not. Asked once at start with the source's own client settings (security included).
 */
final class KafkaClusterId {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaClusterId.class);
  static final int TIMEOUT_MS = 15_000;
  /** Spark's prefix of Kafka client settings among the source options. */
  private static final String CLIENT_PREFIX = "kafka.";

  private KafkaClusterId() {}

  /** The cluster id, or null when the cluster does not answer in time (the guard then cannot compare it). */
  static String of(SourceOptions source) {
    Properties p = new Properties();
    for (Map.Entry<String, String> e : source.kafkaOptions().entrySet()) {
      if (e.getKey().startsWith(CLIENT_PREFIX)) {
        p.put(e.getKey().substring(CLIENT_PREFIX.length()), e.getValue());
      }
    }
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, source.bootstrapServers());
    p.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
    p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, TIMEOUT_MS);
    try (Admin admin = Admin.create(p)) {
      return admin.describeCluster().clusterId().get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException | KafkaException e) {
      LOG.warn("checkpoint guard: Kafka at {} did not say its cluster id ({}); the cluster is not compared this time",
          source.bootstrapServers(), e.toString());
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }
}
