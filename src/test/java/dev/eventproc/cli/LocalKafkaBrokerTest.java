package dev.eventproc.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process broker starts even when a port it probed free is bound by someone else first. */
class LocalKafkaBrokerTest {
  @Test
  void aPortTakenBetweenProbeAndBindIsReplacedByAnother(@TempDir Path dir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      AtomicInteger probes = new AtomicInteger();
      // The first port "probed free" is one this test holds: what another process binding it in between looks like.
      try (LocalKafkaBroker broker = LocalKafkaBroker.start(dir, Map.of(),
          () -> probes.getAndIncrement() == 0 ? taken.getLocalPort() : LocalKafkaBroker.freePort())) {
        assertThat(probes).as("ports handed out: two per start, two starts").hasValue(4);
        assertThat(broker.bootstrapServers()).isNotEqualTo("127.0.0.1:" + taken.getLocalPort());
        broker.createTopic("after_retry", 1); // the broker answers
      }
    }
  }
}
