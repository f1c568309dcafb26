package dev.eventproc.testutils;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The password-checking server starts even when the port it probed free is bound by someone else first. */
class PasswordPostgresTest {
  @Test
  void aPortTakenBetweenProbeAndBindIsReplacedByAnother() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      AtomicInteger probes = new AtomicInteger();
      // The first port "probed free" is one this test holds: what another process binding it in between looks like.
      try (PasswordPostgres server = PasswordPostgres.startCluster(
          () -> probes.getAndIncrement() == 0 ? taken.getLocalPort() : PasswordPostgres.freePort())) {
        assertThat(probes).as("ports tried").hasValue(2);
        assertThat(URI.create(server.url().substring("jdbc:".length())).getPort()).isNotEqualTo(taken.getLocalPort());
        try (Connection c = DriverManager.getConnection(server.url(), server.user(), server.password())) {
          assertThat(c.isValid(5)).isTrue();
        }
      }
    }
  }
}
