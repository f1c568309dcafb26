package dev.eventproc.util;

import java.util.Properties;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.StringSerializer;

/** Producer settings for tools that feed topics (the generator, the demo, benches): none is lost unseen. */
public final class KafkaProducers {
  private KafkaProducers() {}

  /** Idempotent, {@code acks=all}, string keys and values; callers add or override what differs. */
  public static Properties idempotent(String servers, int lingerMillis) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, String.valueOf(lingerMillis));
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    return p;
  }
}
