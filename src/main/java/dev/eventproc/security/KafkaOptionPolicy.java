package dev.eventproc.security;

import java.util.Set;
import java.util.regex.Pattern;

/**
 * The Kafka settings a config may pass through in restricted mode ({@code source.kafka.option.*},
 * {@code sink.kafka.producer.*}, {@code sink.kafka.admin.*}): security, TLS and tuning settings of the
 * clients. Refused: every class name (interceptors, serializers, callback handlers, config providers, which
 * read files and environment variables), OAuth endpoints (Kafka 3.4 reads {@code file:} URLs there),
 * topic choices that would replace the configured topic ({@code subscribe}, {@code assign}), and any other
 * key. A JAAS config may name only the PLAIN or SCRAM login module; key and trust stores must lie below
 * the paths root or in the secrets directory. README lists the same keys.
 */
final class KafkaOptionPolicy {
  /** Kafka client settings (a Spark source option carries them with the prefix {@code kafka.}). */
  static final Set<String> CLIENT = Set.of("security.protocol", "sasl.mechanism", "sasl.jaas.config",
      "ssl.truststore.location", "ssl.truststore.password", "ssl.truststore.type", "ssl.truststore.certificates",
      "ssl.keystore.location", "ssl.keystore.password", "ssl.keystore.type", "ssl.keystore.key",
      "ssl.keystore.certificate.chain", "ssl.key.password", "ssl.endpoint.identification.algorithm", "ssl.protocol",
      "ssl.enabled.protocols", "client.id", "client.dns.lookup", "request.timeout.ms", "retry.backoff.ms",
      "reconnect.backoff.ms", "reconnect.backoff.max.ms", "connections.max.idle.ms", "metadata.max.age.ms",
      "socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms", "default.api.timeout.ms",
      "receive.buffer.bytes", "send.buffer.bytes",
      // producer
      "acks", "linger.ms", "batch.size", "compression.type", "buffer.memory", "max.request.size", "delivery.timeout.ms",
      "max.block.ms", "transaction.timeout.ms", "retries", "max.in.flight.requests.per.connection", "enable.idempotence",
      // consumer
      "fetch.min.bytes", "fetch.max.bytes", "fetch.max.wait.ms", "max.partition.fetch.bytes", "max.poll.records",
      "session.timeout.ms", "heartbeat.interval.ms", "isolation.level", "client.rack", "group.id");
  /** Options of Spark's Kafka source itself (no {@code kafka.} prefix). */
  static final Set<String> SPARK_SOURCE = Set.of("failOnDataLoss", "minPartitions", "maxTriggerDelay",
      "minOffsetsPerTrigger", "includeHeaders", "groupIdPrefix", "kafkaConsumer.pollTimeoutMs", "fetchOffset.numRetries",
      "fetchOffset.retryIntervalMs", "startingOffsetsByTimestamp", "startingTimestamp",
      "startingOffsetsByTimestampStrategy");
  /** PLAIN or SCRAM with key="value" options only: no module that reads key tabs, tickets or other files. */
  private static final Pattern JAAS = Pattern.compile("\\s*org\\.apache\\.kafka\\.common\\.security\\."
      + "(plain\\.PlainLoginModule|scram\\.ScramLoginModule)\\s+required(\\s+[A-Za-z_]+\\s*=\\s*\"[^\"]*\")*\\s*;\\s*");

  private KafkaOptionPolicy() {}

  /** Null when a client setting is allowed (its value checked apart from store locations), else why not. */
  static String checkClient(String name, String value) {
    if (!CLIENT.contains(name)) {
      return "is not one of the Kafka settings a config may pass in restricted mode (README lists them).";
    }
    if (name.equals("sasl.jaas.config") && !JAAS.matcher(value).matches()) {
      return "may name only org.apache.kafka.common.security.plain.PlainLoginModule or scram.ScramLoginModule, with "
          + "key=\"value\" options, in restricted mode.";
    }
    return null;
  }

  /** Null when an option of Spark's Kafka source is allowed, else why not. */
  static String checkSourceOption(String option, String value) {
    if (option.startsWith("kafka.")) {
      return checkClient(option.substring("kafka.".length()), value);
    }
    return SPARK_SOURCE.contains(option) ? null : "is not one of the options of Spark's Kafka source a config may pass in "
        + "restricted mode (README lists them); the topic comes from source.kafka.topic.";
  }

  /** Whether a client setting names a file the client reads (a key or trust store). */
  static boolean isLocation(String name) {
    return name.endsWith(".location");
  }
}
