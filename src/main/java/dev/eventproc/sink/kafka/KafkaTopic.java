package dev.eventproc.sink.kafka;

import java.io.Serializable;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Kafka sink's topic on the driver, through one admin client made on first use: created when absent
 * (if allowed), and the broker's transaction timeout limit checked once before any producer starts.
 */
final class KafkaTopic implements Serializable, AutoCloseable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(KafkaTopic.class);

  private final KafkaSinkOptions options;
  private final String sinkName;
  private transient volatile Admin admin;
  private transient volatile boolean checked;

  KafkaTopic(KafkaSinkOptions options, String sinkName) {
    this.options = options;
    this.sinkName = sinkName;
  }

  /** A transaction longer than the broker allows cannot even start: say so before the first batch. */
  void checkTransactionTimeout() {
    if (checked) {
      return;
    }
    try {
      Admin a = admin();
      Node node = a.describeCluster().nodes().get(30, TimeUnit.SECONDS).iterator().next();
      ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(node.id()));
      Config config = a.describeConfigs(List.of(broker)).all().get(30, TimeUnit.SECONDS).get(broker);
      ConfigEntry max = config == null ? null : config.get("transaction.max.timeout.ms");
      if (max != null && max.value() != null && options.transactionTimeoutMs() > Long.parseLong(max.value())) {
        throw new IllegalStateException("sink " + sinkName + ": " + options.key(KafkaSinkOptions.PRODUCER) + ".transaction.timeout.ms is "
            + options.transactionTimeoutMs() + " but the broker allows at most " + max.value() + " (transaction.max.timeout.ms). "
            + "Lower it, or raise the broker's limit.");
      }
      checked = true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("sink={}: cannot read the broker's transaction.max.timeout.ms ({}); not checked", sinkName, e.toString());
      checked = true;
    }
  }

  /** Finds the topic, or creates it when {@code kafka.create.topic} allows; else fails naming that key. */
  void ensureExists() {
    Admin a = admin();
    try {
      if (a.listTopics().names().get(30, TimeUnit.SECONDS).contains(options.topic())) {
        return;
      }
      if (!options.createTopic()) {
        throw new IllegalStateException("sink " + sinkName + ": topic " + options.topic() + " does not exist and "
            + options.key(KafkaSinkOptions.CREATE_TOPIC) + "=false. Create it, or set " + options.key(KafkaSinkOptions.CREATE_TOPIC) + "=true.");
      }
      try {
        a.createTopics(List.of(new NewTopic(options.topic(), Optional.of(options.topicPartitions()),
            options.topicReplication() < 0 ? Optional.empty() : Optional.of(options.topicReplication()))))
            .all().get(30, TimeUnit.SECONDS);
        LOG.info("sink={}: created topic {} with {} partitions", sinkName, options.topic(), options.topicPartitions());
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof TopicExistsException)) {
          throw e;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException | TimeoutException e) {
      throw KafkaErrors.explain(sinkName, options, e, "find or create its topic");
    }
  }

  /** The admin client, made on first use. */
  Admin admin() {
    Admin a = admin;
    if (a == null) {
      synchronized (this) {
        if (admin == null) {
          admin = Admin.create(options.adminProperties());
        }
        a = admin;
      }
    }
    return a;
  }

  @Override
  public synchronized void close() {
    if (admin != null) {
      admin.close();
      admin = null;
    }
  }
}
