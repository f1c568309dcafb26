package dev.eventproc.sink.kafka;

import dev.eventproc.config.ConfigReader;
import java.io.Serializable;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where and how a Kafka sink produces: the {@code kafka.*} keys of a sink scope. Serializable
 * (executors build producers from it); producer settings given in config may hold secrets (SASL,
 * TLS), so {@link #toString()} shows none of them.
 */
public final class KafkaSinkOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String BOOTSTRAP_SERVERS = "kafka.bootstrap.servers";
  public static final String TOPIC = "kafka.topic";
  public static final String WRITERS = "kafka.writers";
  public static final String PARTITIONS = "kafka.partitions";
  public static final int PARTITIONS_DEFAULT = 2;
  /** Where the producer of {@code writers=single} runs. */
  public static final String PRODUCE_ON = "kafka.produce.on";
  /** Key-hash slices of a batch: the unit a long batch's transactions are cut at, and a replay resumes after. */
  public static final String SLICES = "kafka.slices";
  public static final int SLICES_DEFAULT = 64;
  /** Records read from the end of each partition, at most, to recover progress a consumer group lost. */
  public static final String RECOVERY_SCAN_RECORDS = "kafka.recovery.scan.records";
  public static final int RECOVERY_SCAN_RECORDS_DEFAULT = 10_000;
  public static final String CREATE_TOPIC = "kafka.create.topic";
  public static final String TOPIC_PARTITIONS = "kafka.topic.partitions";
  public static final int TOPIC_PARTITIONS_DEFAULT = 3;
  public static final String TOPIC_REPLICATION = "kafka.topic.replication.factor";
  public static final String TRANSACTIONAL_ID_PREFIX = "kafka.transactional.id.prefix";
  public static final String PRODUCER = "kafka.producer";
  public static final String ADMIN = "kafka.admin";
  /** Producer defaults eventproc sets (any can be overridden with {@code kafka.producer.*}). */
  static final Map<String, String> PRODUCER_DEFAULTS = Map.of(
      "acks", "all",
      "enable.idempotence", "true",
      "linger.ms", "5",
      "batch.size", "65536",
      "transaction.timeout.ms", "60000");

  /** How a batch is produced, as written in {@code kafka.writers}. */
  public enum Writers {
    /** One transactional producer writes the whole batch in one transaction: batch-atomic for readers. */
    SINGLE,
    /** The batch is split by key hash into a fixed number of writer partitions, one transaction each, in parallel. */
    PARTITIONED
  }

  /** Where the producer of {@code writers=single} runs, as written in {@code kafka.produce.on}. */
  public enum ProduceOn {
    /** On the driver, as the tasks hand the records over: one transaction, no shuffle (a batch past the budget goes to {@code TASK}). */
    DRIVER,
    /** In one Spark task, after a shuffle into key-hash slices: a long batch commits at slice boundaries. */
    TASK
  }

  private final String bootstrapServers;
  private final String topic;
  private final Writers writers;
  private final ProduceOn produceOn;
  private final int partitions;
  private final int slices;
  private final int recoveryScanRecords;
  private final boolean createTopic;
  private final int topicPartitions;
  private final short topicReplication;
  private final String transactionalIdPrefix;
  private final Map<String, String> producer;
  private final Map<String, String> admin;
  private final String keyPrefix;

  private KafkaSinkOptions(String bootstrapServers, String topic, Writers writers, ProduceOn produceOn, int partitions, int slices,
      int recoveryScanRecords, boolean createTopic, int topicPartitions, short topicReplication, String transactionalIdPrefix, Map<String, String> producer,
      Map<String, String> admin, String keyPrefix) {
    this.bootstrapServers = bootstrapServers;
    this.topic = topic;
    this.writers = writers;
    this.produceOn = produceOn;
    this.partitions = partitions;
    this.slices = slices;
    this.recoveryScanRecords = recoveryScanRecords;
    this.createTopic = createTopic;
    this.topicPartitions = topicPartitions;
    this.topicReplication = topicReplication;
    this.transactionalIdPrefix = transactionalIdPrefix;
    this.producer = Map.copyOf(producer);
    this.admin = Map.copyOf(admin);
    this.keyPrefix = keyPrefix;
  }

  /** Reads the {@code kafka.*} keys of a sink scope; null when invalid. */
  public static KafkaSinkOptions read(ConfigReader scope, String sinkName) {
    String servers = scope.required(BOOTSTRAP_SERVERS, "Give the brokers as host:port[,host:port].");
    String topic = scope.required(TOPIC, "Name the topic the records go to.");
    if (topic != null && !topic.matches("[a-zA-Z0-9._-]{1,249}")) {
      scope.problem(TOPIC, "'" + topic + "' is not a Kafka topic name. Use letters, digits, '.', '_' and '-' (at most 249).");
      topic = null;
    }
    Writers writers = scope.choice(WRITERS, Writers.class, Writers.SINGLE);
    int partitions = scope.integer(PARTITIONS, PARTITIONS_DEFAULT, 1, 256);
    if (writers != Writers.PARTITIONED && scope.has(PARTITIONS)) {
      scope.problem(PARTITIONS, "is only used with " + scope.key(WRITERS) + "=partitioned. Remove it.");
    }
    ProduceOn produceOn = scope.choice(PRODUCE_ON, ProduceOn.class, ProduceOn.DRIVER);
    if (writers != Writers.SINGLE && scope.has(PRODUCE_ON)) {
      scope.problem(PRODUCE_ON, "is only used with " + scope.key(WRITERS) + "=single (partitioned writers produce in tasks). Remove it.");
    }
    int writerCount = writers == Writers.PARTITIONED ? partitions : 1;
    int slices = scope.integer(SLICES, defaultSlices(writerCount), 1, 4096);
    if (slices % writerCount != 0) {
      scope.problem(SLICES, slices + " is not a multiple of " + scope.key(PARTITIONS) + " (" + partitions + "): each writer "
          + "partition writes whole slices. Use a multiple, e.g. " + defaultSlices(writerCount) + ".");
    }
    int scan = scope.integer(RECOVERY_SCAN_RECORDS, RECOVERY_SCAN_RECORDS_DEFAULT, 100, 10_000_000);
    boolean create = scope.bool(CREATE_TOPIC, true);
    int topicPartitions = scope.integer(TOPIC_PARTITIONS, TOPIC_PARTITIONS_DEFAULT, 1, 10_000);
    short replication = (short) scope.integer(TOPIC_REPLICATION, -1, -1, Short.MAX_VALUE);
    String prefix = scope.string(TRANSACTIONAL_ID_PREFIX, "eventproc-" + sinkName);
    Map<String, String> producer = new TreeMap<>(scope.prefixed(PRODUCER, "Kafka producer settings"));
    for (String managed : new String[] {"transactional.id", "key.serializer", "value.serializer", "bootstrap.servers"}) {
      if (producer.containsKey(managed)) {
        scope.problem(PRODUCER + "." + managed, "is set by the sink. Remove it"
            + (managed.equals("transactional.id") ? "; use " + scope.key(TRANSACTIONAL_ID_PREFIX) + " for the prefix." : "."));
      }
    }
    if ("false".equalsIgnoreCase(producer.get("enable.idempotence"))) {
      scope.problem(PRODUCER + ".enable.idempotence", "'false' cannot work: transactions need an idempotent producer. Remove it.");
    }
    String timeout = producer.get("transaction.timeout.ms");
    if (timeout != null && !timeout.matches("\\d{4,9}")) {
      scope.problem(PRODUCER + ".transaction.timeout.ms", "'" + timeout + "' is not a number of milliseconds of at least 1000.");
      return null;
    }
    Map<String, String> admin = scope.prefixed(ADMIN, "Kafka admin client settings (default: the producer's security settings)");
    if (servers == null || topic == null) {
      return null;
    }
    return new KafkaSinkOptions(servers, topic, writers, produceOn, partitions, slices, scan, create, topicPartitions, replication, prefix, producer,
        admin, scope.key(""));
  }

  /** Options from code, with eventproc's producer defaults. */
  public static KafkaSinkOptions of(String bootstrapServers, String topic, Writers writers, int partitions, String sinkName,
      Map<String, String> producer) {
    return new KafkaSinkOptions(bootstrapServers, topic, writers, ProduceOn.DRIVER, partitions,
        defaultSlices(writers == Writers.PARTITIONED ? partitions : 1), RECOVERY_SCAN_RECORDS_DEFAULT, true, TOPIC_PARTITIONS_DEFAULT, (short) -1,
        "eventproc-" + sinkName, producer, Map.of(), "sink.");
  }

  /** These options with another slice count (a multiple of the writer partitions). */
  public KafkaSinkOptions withSlices(int slices) {
    if (slices < 1 || slices % partitions() != 0) {
      throw new IllegalArgumentException(key(SLICES) + ": " + slices + " is not a positive multiple of " + partitions());
    }
    return new KafkaSinkOptions(bootstrapServers, topic, writers, produceOn, partitions, slices, recoveryScanRecords, createTopic,
        topicPartitions, topicReplication, transactionalIdPrefix, producer, admin, keyPrefix);
  }

  /** These options with the producer of {@code writers=single} on the driver or in a task. */
  public KafkaSinkOptions withProduceOn(ProduceOn on) {
    return new KafkaSinkOptions(bootstrapServers, topic, writers, on, partitions, slices, recoveryScanRecords, createTopic,
        topicPartitions, topicReplication, transactionalIdPrefix, producer, admin, keyPrefix);
  }

  /** {@value #SLICES_DEFAULT} rounded up to a multiple of the writer partitions. */
  static int defaultSlices(int writerPartitions) {
    return writerPartitions * ((SLICES_DEFAULT + writerPartitions - 1) / writerPartitions);
  }

  /** The producer settings eventproc uses unless {@code kafka.producer.*} overrides them (for a fair comparison). */
  public static Map<String, String> producerDefaults() {
    return PRODUCER_DEFAULTS;
  }

  /** Producer properties for one transactional id. */
  Properties producerProperties(String transactionalId) {
    Properties p = new Properties();
    p.putAll(PRODUCER_DEFAULTS);
    p.putAll(producer);
    p.put("bootstrap.servers", bootstrapServers);
    p.put("transactional.id", transactionalId);
    p.put("key.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    p.put("value.serializer", "org.apache.kafka.common.serialization.ByteArraySerializer");
    return p;
  }

  /** Admin client properties: the producer's connection and security settings, then {@code kafka.admin.*}. */
  Properties adminProperties() {
    Properties p = new Properties();
    for (Map.Entry<String, String> e : producer.entrySet()) {
      String k = e.getKey();
      if (k.startsWith("security.") || k.startsWith("sasl.") || k.startsWith("ssl.") || k.equals("client.dns.lookup")) {
        p.put(k, e.getValue());
      }
    }
    p.putAll(admin);
    p.put("bootstrap.servers", bootstrapServers);
    return p;
  }

  /** The producer's transaction timeout: how long one batch's transaction may stay open. */
  public long transactionTimeoutMs() {
    return Long.parseLong(producer.getOrDefault("transaction.timeout.ms", PRODUCER_DEFAULTS.get("transaction.timeout.ms")));
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public String topic() {
    return topic;
  }

  public Writers writers() {
    return writers;
  }

  /** Whether {@code writers=single} produces on the driver (else in a task, sliced). */
  public boolean producesOnDriver() {
    return writers == Writers.SINGLE && produceOn == ProduceOn.DRIVER;
  }

  /** Writer partitions of the partitioned mode (1 for single). */
  public int partitions() {
    return writers == Writers.PARTITIONED ? partitions : 1;
  }

  /** Key-hash slices a batch is split into (a multiple of {@link #partitions()}), unless a resumed batch recorded another count. */
  public int slices() {
    return slices;
  }

  /** Records read from the end of each partition, at most, when a progress group has no offsets. */
  int recoveryScanRecords() {
    return recoveryScanRecords;
  }

  /**
   * How long one transaction stays open before the writer commits at the next slice boundary: half the
   * transaction timeout, so a slice may take the other half.
   */
  long transactionBudgetMs() {
    return transactionTimeoutMs() / 2;
  }

  boolean createTopic() {
    return createTopic;
  }

  int topicPartitions() {
    return topicPartitions;
  }

  short topicReplication() {
    return topicReplication;
  }

  String transactionalIdPrefix() {
    return transactionalIdPrefix;
  }

  String key(String option) {
    return keyPrefix + option;
  }

  @Override
  public String toString() {
    return "kafka " + topic + " at " + bootstrapServers + " (" + ConfigReader.configName(writers)
        + (writers == Writers.PARTITIONED ? " x" + partitions : ", on the " + ConfigReader.configName(produceOn)) + ")";
  }
}
