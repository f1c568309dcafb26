package dev.eventproc.stage;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Durations;
import dev.eventproc.util.Errors;
import java.io.Serializable;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Where events come from and what they look like: the {@code source.*} keys.
 *
 * <p>Common: {@code source.type} ({@code kafka} or {@code files}), {@code source.schema} (a Spark DDL
 * string such as {@code id STRING, amount DECIMAL(12,2), ts TIMESTAMP}), {@code source.key.columns},
 * {@code source.event.time.column} (a TIMESTAMP column of the schema), {@code source.max.future.skew}
 * (events stamped further ahead of the time the source received them are quarantined: one wrong clock
 * must not push the watermark past everything else; at most {@code stage.watermark.delay}).
 *
 * <p>Kafka: {@code source.kafka.bootstrap.servers}, {@code source.kafka.topic} (one or more, comma
 * separated), {@code source.kafka.starting.offsets} ({@code earliest} or {@code latest}, used on a
 * new checkpoint only), {@code source.kafka.max.offsets.per.trigger}, and {@code source.kafka.option.*}
 * passed to Spark's Kafka reader as they are (e.g. {@code source.kafka.option.kafka.security.protocol}).
 * The reader uses {@code kafka.isolation.level=read_committed} unless that option says otherwise:
 * records of aborted or unfinished transactions (a zombie writer's) are never taken in.
 *
 * <p>Files: {@code source.files.path} (a directory of JSON-lines files, replayable),
 * {@code source.files.max.files.per.trigger}, and {@code source.files.max.file.age} (unlimited by
 * default: a file moved in late with an old modification time is still read; Spark's own default
 * of 7 days would skip it without a trace). Files must appear whole (written aside, then renamed
 * in) and never change afterwards: each path is read once.
 */
public final class SourceOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String TYPE = "source.type";
  public static final String SCHEMA = "source.schema";
  public static final String KEY_COLUMNS = "source.key.columns";
  public static final String EVENT_TIME_COLUMN = "source.event.time.column";
  public static final String MAX_FUTURE_SKEW = "source.max.future.skew";
  public static final Duration MAX_FUTURE_SKEW_DEFAULT = Duration.ofMinutes(1);
  public static final String KAFKA_BOOTSTRAP_SERVERS = "source.kafka.bootstrap.servers";
  public static final String KAFKA_TOPIC = "source.kafka.topic";
  public static final String KAFKA_STARTING_OFFSETS = "source.kafka.starting.offsets";
  public static final String KAFKA_STARTING_OFFSETS_DEFAULT = "earliest";
  public static final String KAFKA_MAX_OFFSETS_PER_TRIGGER = "source.kafka.max.offsets.per.trigger";
  public static final String KAFKA_OPTION = "source.kafka.option";
  public static final String FILES_PATH = "source.files.path";
  public static final String FILES_MAX_FILES_PER_TRIGGER = "source.files.max.files.per.trigger";
  public static final String FILES_MAX_FILE_AGE = "source.files.max.file.age";
  /**
   * What "unlimited" {@value #FILES_MAX_FILE_AGE} hands Spark: far beyond any file's age, so no file is
   * ever skipped as old (Spark then remembers every path it read, which is what replay needs).
   */
  public static final Duration FILES_MAX_FILE_AGE_UNLIMITED = Duration.ofDays(100L * 365);
  /** The Kafka reader option that chooses which records a source reads, and eventproc's default for it. */
  public static final String KAFKA_ISOLATION_OPTION = "kafka.isolation.level";
  public static final String KAFKA_ISOLATION_DEFAULT = "read_committed";

  /** The source kinds, as written in {@code source.type}. */
  public enum Type { KAFKA, FILES }

  private final Type type;
  private final StructType schema;
  private final List<String> keyColumns;
  private final String eventTimeColumn;
  private final Duration maxFutureSkew;
  private final String bootstrapServers;
  private final String topics;
  private final String startingOffsets;
  private final Long maxOffsetsPerTrigger;
  private final Map<String, String> kafkaOptions;
  private final String filesPath;
  private final Integer maxFilesPerTrigger;
  private final Duration maxFileAge;

  private SourceOptions(Type type, StructType schema, List<String> keyColumns, String eventTimeColumn,
      Duration maxFutureSkew, String bootstrapServers, String topics, String startingOffsets,
      Long maxOffsetsPerTrigger, Map<String, String> kafkaOptions, String filesPath, Integer maxFilesPerTrigger,
      Duration maxFileAge) {
    this.type = type;
    this.schema = schema;
    this.keyColumns = List.copyOf(keyColumns);
    this.eventTimeColumn = eventTimeColumn;
    this.maxFutureSkew = maxFutureSkew;
    this.bootstrapServers = bootstrapServers;
    this.topics = topics;
    this.startingOffsets = startingOffsets;
    this.maxOffsetsPerTrigger = maxOffsetsPerTrigger;
    this.kafkaOptions = Map.copyOf(kafkaOptions);
    this.filesPath = filesPath;
    this.maxFilesPerTrigger = maxFilesPerTrigger;
    this.maxFileAge = maxFileAge;
  }

  /** Reads and validates the {@code source.*} keys; problems go to the reader. Null when invalid. */
  public static SourceOptions read(ConfigReader r) {
    Type type = r.choice(TYPE, Type.class, null);
    if (!r.has(TYPE)) {
      r.problem(TYPE, "is required. Set it to one of " + ConfigReader.choices(Type.class) + ".");
    }
    StructType schema = parseSchema(r);
    List<String> keys = r.identifiers(KEY_COLUMNS);
    if (keys.isEmpty() && r.problems().stream().noneMatch(p -> p.startsWith(KEY_COLUMNS))) {
      r.problem(KEY_COLUMNS, "is required. List the column(s) of source.schema that identify an event, e.g. payment_id.");
    }
    String eventTime = r.identifier(EVENT_TIME_COLUMN);
    Duration skew = r.duration(MAX_FUTURE_SKEW, MAX_FUTURE_SKEW_DEFAULT);
    if (schema != null) {
      for (String k : keys) {
        requireColumn(r, schema, KEY_COLUMNS, k, null);
      }
      if (eventTime != null) {
        requireColumn(r, schema, EVENT_TIME_COLUMN, eventTime, DataTypes.TimestampType);
      }
    }

    String servers = null;
    String topics = null;
    String offsets = null;
    Long maxOffsets = null;
    Map<String, String> kafkaOptions = Map.of();
    String path = null;
    Integer maxFiles = null;
    Duration maxAge = FILES_MAX_FILE_AGE_UNLIMITED;
    if (type == Type.KAFKA) {
      servers = r.required(KAFKA_BOOTSTRAP_SERVERS, "Give the brokers as host:port[,host:port].");
      topics = r.required(KAFKA_TOPIC, "Name the topic(s) to read, comma separated.");
      offsets = r.string(KAFKA_STARTING_OFFSETS, KAFKA_STARTING_OFFSETS_DEFAULT);
      if (!offsets.equals("earliest") && !offsets.equals("latest") && !offsets.startsWith("{")) {
        r.problem(KAFKA_STARTING_OFFSETS, "'" + offsets + "' is not earliest, latest or a JSON offsets object.");
      }
      long n = r.longValue(KAFKA_MAX_OFFSETS_PER_TRIGGER, 0, 1, Long.MAX_VALUE);
      maxOffsets = n == 0 ? null : n;
      kafkaOptions = r.prefixed(KAFKA_OPTION, "options passed to Spark's Kafka reader");
    } else {
      r.explainPrefix("source.kafka.", "kafka keys apply only when source.type=kafka.");
    }
    if (type == Type.FILES) {
      path = r.path(FILES_PATH, "Give the directory that holds the JSON-lines files.");
      int n = r.integer(FILES_MAX_FILES_PER_TRIGGER, 0, 1, Integer.MAX_VALUE);
      maxFiles = n == 0 ? null : n;
      maxAge = r.duration(FILES_MAX_FILE_AGE, FILES_MAX_FILE_AGE_UNLIMITED);
      if (maxAge != null && (maxAge.isZero() || maxAge.isNegative())) {
        r.problem(FILES_MAX_FILE_AGE, "'" + r.string(FILES_MAX_FILE_AGE, "") + "' must be longer than zero. Leave it out "
            + "to read every new file whatever its age.");
      }
    } else {
      r.explainPrefix("source.files.", "files keys apply only when source.type=files.");
    }
    if (type == null || schema == null || keys.isEmpty()) {
      return null;
    }
    return new SourceOptions(type, schema, keys, eventTime, skew, servers, topics, offsets, maxOffsets,
        kafkaOptions, path, maxFiles, maxAge);
  }

  private static StructType parseSchema(ConfigReader r) {
    String ddl = r.required(SCHEMA, "Give the event's fields as Spark DDL, e.g. 'id STRING, amount DOUBLE, ts TIMESTAMP'.");
    if (ddl == null) {
      return null;
    }
    try {
      StructType s = StructType.fromDDL(ddl);
      if (s.fields().length == 0) {
        r.problem(SCHEMA, "'" + ddl + "' declares no fields.");
        return null;
      }
      for (StructField f : s.fields()) {
        if (f.name().startsWith("_eventproc") || EventStream.RESERVED.contains(f.name())) {
          r.problem(SCHEMA, "field '" + f.name() + "' uses a name eventproc reserves. Rename it.");
          return null;
        }
      }
      return s;
    } catch (Exception e) { // Spark's ParseException is checked in Scala's eyes only
      String msg = Errors.summary(e);
      r.problem(SCHEMA, "'" + ddl + "' is not a Spark DDL schema: " + msg
          + " Write it like 'id STRING, amount DECIMAL(12,2), ts TIMESTAMP'.");
      return null;
    }
  }

  private static void requireColumn(ConfigReader r, StructType schema, String key, String column, DataType type) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(column)) {
        if (type != null && !f.dataType().sameType(type)) {
          r.problem(key, "column '" + column + "' is " + f.dataType().sql() + " in source.schema. Declare it "
              + type.sql() + " (event times are parsed from ISO-8601 text such as 2024-05-01T12:00:00Z).");
        }
        return;
      }
    }
    r.problem(key, "column '" + column + "' is not in source.schema. Its fields are: "
        + String.join(", ", schema.fieldNames()) + ".");
  }

  public Type type() {
    return type;
  }

  public StructType schema() {
    return schema;
  }

  public List<String> keyColumns() {
    return keyColumns;
  }

  /** The event-time column, or null when none is configured. */
  public String eventTimeColumn() {
    return eventTimeColumn;
  }

  public Duration maxFutureSkew() {
    return maxFutureSkew;
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public String topics() {
    return topics;
  }

  public String startingOffsets() {
    return startingOffsets;
  }

  /** Null when unlimited. */
  public Long maxOffsetsPerTrigger() {
    return maxOffsetsPerTrigger;
  }

  public Map<String, String> kafkaOptions() {
    return kafkaOptions;
  }

  /** The options for Spark's Kafka reader: {@link #kafkaOptions()} over eventproc's defaults (read_committed). */
  public Map<String, String> kafkaReaderOptions() {
    Map<String, String> out = new LinkedHashMap<>();
    out.put(KAFKA_ISOLATION_OPTION, KAFKA_ISOLATION_DEFAULT);
    out.putAll(kafkaOptions);
    return out;
  }

  public String filesPath() {
    return filesPath;
  }

  /** Null when unlimited. */
  public Integer maxFilesPerTrigger() {
    return maxFilesPerTrigger;
  }

  /** Files older than this (by modification time, against the newest file read) are skipped; see {@link #FILES_MAX_FILE_AGE}. */
  public Duration maxFileAge() {
    return maxFileAge;
  }

  /** A short description for logs. */
  public String describe() {
    return type == Type.KAFKA ? "kafka " + topics + " at " + bootstrapServers : "files " + filesPath;
  }

  @Override
  public String toString() {
    return describe() + " keys=" + keyColumns + " eventTime=" + eventTimeColumn + " skew<=" + Durations.human(maxFutureSkew);
  }
}
