package dev.eventproc.cli;

import dev.eventproc.cli.EventGenerator.Message;
import dev.eventproc.util.KafkaProducers;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

/** Sends generated messages to a topic (idempotent, acks=all) and fails if any send failed: none is dropped unseen. */
final class MessageProducer {
  private MessageProducer() {}

  /**
   * Sends every message in order; {@code afterEach} gets the count sent so far (for pacing or a
   * progress bar).
   *
   * @throws IllegalStateException naming the first failed send, after the rest were flushed
   */
  static void send(String servers, String topic, List<Message> messages, LongConsumer afterEach) {
    Properties p = KafkaProducers.idempotent(servers, 5);
    AtomicReference<Exception> failure = new AtomicReference<>();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
      long sent = 0;
      for (Message m : messages) {
        producer.send(new ProducerRecord<>(topic, m.key(), m.payload()), (meta, e) -> {
          if (e != null) {
            failure.compareAndSet(null, e);
          }
        });
        afterEach.accept(++sent);
      }
      producer.flush();
    }
    if (failure.get() != null) {
      throw new IllegalStateException("could not send every message to topic " + topic + " at " + servers + ": "
          + failure.get().getMessage(), failure.get());
    }
  }
}
