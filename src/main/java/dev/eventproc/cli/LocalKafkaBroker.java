package dev.eventproc.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.server.MetaProperties;
import kafka.tools.StorageTool;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.server.common.MetadataVersion;
import scala.Option;
import scala.jdk.javaapi.CollectionConverters;

/**
 * A single-node Kafka broker (KRaft: broker and controller in one, no ZooKeeper) running inside
 * this JVM, from Kafka's own server jar: a real broker for the demo and the tests, with
 * transactions and {@code read_committed} reads. Its log directory survives {@link #stop()}, so
 * {@link #restart()} brings back the same topics and offsets on the same port.
 *
 * <p>Not for production: one replica, listeners on 127.0.0.1 only.
 */
public final class LocalKafkaBroker implements AutoCloseable {
  private final Path logDir;
  private final int port;
  private final int controllerPort;
  private final String clusterId;
  private final Map<String, String> settings;
  private KafkaRaftServer server;
  /** Starts tried when a port found free was taken before the broker bound it. */
  private static final int START_ATTEMPTS = 5;

  private LocalKafkaBroker(Path logDir, int port, int controllerPort, Map<String, String> settings) {
    this.logDir = logDir;
    this.port = port;
    this.controllerPort = controllerPort;
    this.clusterId = Uuid.randomUuid().toString();
    this.settings = Map.copyOf(settings);
  }

  /** Formats {@code logDir} and starts a broker on two free loopback ports. */
  public static LocalKafkaBroker start(Path logDir) {
    return start(logDir, Map.of());
  }

  /** As {@link #start(Path)}, with broker settings that override the defaults (e.g. transaction timeouts, for tests). */
  public static LocalKafkaBroker start(Path logDir, Map<String, String> settings) {
    return start(logDir, settings, LocalKafkaBroker::freePort);
  }

  /**
   * As {@link #start(Path, Map)}, on ports from {@code ports}. Package-private for tests only: a test hands
   * out a port it holds to show that a port taken between its probe and the broker's bind is replaced.
   */
  static LocalKafkaBroker start(Path logDir, Map<String, String> settings, IntSupplier ports) {
    for (int attempt = 1; ; attempt++) {
      // A port found free can be taken by another process before the broker binds it: then try new ports
      // (in a fresh directory, so nothing of the failed start is read again).
      Path dir = attempt == 1 ? logDir : logDir.resolve("retry-" + attempt);
      LocalKafkaBroker broker = new LocalKafkaBroker(dir, ports.getAsInt(), ports.getAsInt(), settings);
      broker.format();
      try {
        broker.startServer();
        return broker;
      } catch (RuntimeException e) {
        if (attempt >= START_ATTEMPTS || !portTaken(e)) {
          throw e;
        }
        broker.stopAfterFailedStart();
      }
    }
  }

  private static boolean portTaken(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof BindException) {
        return true;
      }
    }
    return false;
  }

  private synchronized void stopAfterFailedStart() {
    try {
      stop();
    } catch (RuntimeException ignored) {
      server = null; // a server that never started has nothing left to stop
    }
  }

  /** {@code host:port} for clients. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** Creates a topic (idempotent). */
  public void createTopic(String name, int partitions) {
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(name, partitions, (short) 1))).all().get(30, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new IllegalStateException("cannot create topic " + name + ": " + e.getCause(), e.getCause());
      }
    } catch (Exception e) {
      throw new IllegalStateException("cannot create topic " + name + ": " + e, e);
    }
  }

  /** An admin client for this broker (close it). */
  public Admin admin() {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000));
  }

  /** Stops the broker, keeping its data. */
  public synchronized void stop() {
    if (server != null) {
      server.shutdown();
      server.awaitShutdown();
      server = null;
    }
  }

  /** Starts a stopped broker again on the same port and data. */
  public synchronized void restart() {
    stop();
    startServer();
  }

  @Override
  public void close() {
    stop();
  }

  private KafkaConfig config() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
    p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", logDir.toAbsolutePath().toString());
    p.put("num.partitions", "1");
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "2");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "2");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("auto.create.topics.enable", "true");
    p.putAll(settings);
    return KafkaConfig.fromProps(p, false);
  }

  private void format() {
    try {
      Files.createDirectories(logDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PrintStream quiet = new PrintStream(PrintStream.nullOutputStream());
    StorageTool.formatCommand(quiet, CollectionConverters.asScala(List.of(logDir.toAbsolutePath().toString())).toSeq(),
        new MetaProperties(clusterId, 1), MetadataVersion.latest(), true);
  }

  private synchronized void startServer() {
    server = new KafkaRaftServer(config(), Time.SYSTEM, Option.empty());
    server.startup();
  }

  static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 0, InetAddress.getLoopbackAddress())) {
      s.setReuseAddress(true);
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
