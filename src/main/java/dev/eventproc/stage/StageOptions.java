package dev.eventproc.stage;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Durations;
import dev.eventproc.sink.SinkSpec;
import java.io.Serializable;
import java.time.Duration;
import java.util.List;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.IntegralType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The streaming stage between source and sink: the {@code stage.*} keys.
 *
 * <p>{@code stage.type}: {@code none} (events go to the sink as parsed), {@code dedupe-first-seen}
 * (drop later copies of a key within the watermark), {@code dedupe-latest} (per key keep the highest
 * {@code stage.version.column}, ties broken by {@code stage.tiebreak.column}; see
 * {@link LatestVersion}) or {@code aggregate} (watermarked windows, see {@link WindowAggregate}).
 * {@code stage.watermark.delay}: how late an event may arrive, relative to the newest event time
 * seen, and still count (default 10 minutes). {@code stage.version.allow.null} ({@code false}: a row
 * with a null version or tie-break, of the stage or of a sink, goes to quarantine as
 * {@code missing-version}; {@code true}: it ranks below every version). {@code stage.state.store}: {@code default} (Spark's
 * in-memory store backed by the checkpoint) or {@code rocksdb} (state off the JVM heap, for many keys).
 *
 * <p>Aggregate keys: {@code stage.window.duration} (required), {@code stage.window.slide} (default:
 * the duration, i.e. tumbling windows), {@code stage.group.columns} (optional), {@code stage.aggregates}
 * (Spark SQL expressions with aliases, e.g. {@code count(*) AS events, sum(amount) AS total}) and
 * {@code stage.aggregate.dedupe} ({@code none} or {@code first-seen}: drop duplicate keys before
 * aggregating).
 */
public final class StageOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String TYPE = "stage.type";
  public static final String WATERMARK_DELAY = "stage.watermark.delay";
  public static final Duration WATERMARK_DELAY_DEFAULT = Duration.ofMinutes(10);
  public static final String VERSION_COLUMN = "stage.version.column";
  public static final String TIEBREAK_COLUMN = "stage.tiebreak.column";
  /** Whether rows with a null version or tie-break (of the stage or a sink) are kept; else quarantined. */
  public static final String VERSION_ALLOW_NULL = "stage.version.allow.null";
  public static final String STATE_STORE = "stage.state.store";
  public static final String WINDOW_DURATION = "stage.window.duration";
  public static final String WINDOW_SLIDE = "stage.window.slide";
  public static final String GROUP_COLUMNS = "stage.group.columns";
  public static final String AGGREGATES = "stage.aggregates";
  public static final String AGGREGATE_DEDUPE = "stage.aggregate.dedupe";

  /** The stages, as written in {@code stage.type}. */
  public enum Type { NONE, DEDUPE_FIRST_SEEN, DEDUPE_LATEST, AGGREGATE }

  /** Where stateful stages keep their state, as written in {@code stage.state.store}. */
  public enum StateStore {
    DEFAULT(null),
    ROCKSDB("org.apache.spark.sql.execution.streaming.state.RocksDBStateStoreProvider");

    private final String providerClass;

    StateStore(String providerClass) {
      this.providerClass = providerClass;
    }

    /** The value of {@code spark.sql.streaming.stateStore.providerClass}, or null for Spark's default. */
    public String providerClass() {
      return providerClass;
    }
  }

  /** Duplicate removal before aggregating, as written in {@code stage.aggregate.dedupe}. */
  public enum AggregateDedupe { NONE, FIRST_SEEN }

  /** Window and aggregates of an {@code aggregate} stage. */
  public record Aggregation(Duration windowDuration, Duration windowSlide, List<String> groupColumns, String aggregates,
      AggregateDedupe dedupe) implements Serializable {}

  private final Type type;
  private final Duration watermarkDelay;
  private final String versionColumn;
  private final String tiebreakColumn;
  private final StateStore stateStore;
  private final Aggregation aggregation;
  private final boolean allowNullVersions;

  private StageOptions(Type type, Duration watermarkDelay, String versionColumn, String tiebreakColumn, StateStore stateStore,
      Aggregation aggregation, boolean allowNullVersions) {
    this.allowNullVersions = allowNullVersions;
    this.type = type;
    this.watermarkDelay = watermarkDelay;
    this.versionColumn = versionColumn;
    this.tiebreakColumn = tiebreakColumn;
    this.stateStore = stateStore;
    this.aggregation = aggregation;
  }

  /** Reads the {@code stage.*} keys, checking them against the source. */
  public static StageOptions read(ConfigReader r, SourceOptions source) {
    Type type = r.choice(TYPE, Type.class, Type.NONE);
    Duration delay = r.duration(WATERMARK_DELAY, WATERMARK_DELAY_DEFAULT);
    StateStore store = r.choice(STATE_STORE, StateStore.class, StateStore.DEFAULT);
    if (type != Type.NONE && source != null && source.eventTimeColumn() == null) {
      r.problem(TYPE, ConfigReader.configName(type) + " needs an event time for its watermark. Set "
          + SourceOptions.EVENT_TIME_COLUMN + " to a TIMESTAMP column of source.schema.");
    }
    if (type != Type.NONE && source != null && source.eventTimeColumn() != null && delay != null
        && source.maxFutureSkew() != null && source.maxFutureSkew().compareTo(delay) > 0) {
      r.problem(SourceOptions.MAX_FUTURE_SKEW, Durations.human(source.maxFutureSkew()) + " is more than " + WATERMARK_DELAY
          + " (" + Durations.human(delay) + "): one event stamped that far ahead would move the watermark past events that are "
          + "on time, and they would be dropped as late. Set it below the delay (the default is "
          + Durations.human(SourceOptions.MAX_FUTURE_SKEW_DEFAULT) + "), or raise the delay.");
    }
    String version = null;
    String tiebreak = null;
    if (type == Type.DEDUPE_LATEST) {
      version = r.identifier(VERSION_COLUMN);
      if (version == null && !r.has(VERSION_COLUMN)) {
        r.problem(VERSION_COLUMN, "is required by dedupe-latest: the column whose highest value wins per key.");
      }
      tiebreak = r.identifier(TIEBREAK_COLUMN);
      checkOrderColumn(r, source, VERSION_COLUMN, version);
      checkOrderColumn(r, source, TIEBREAK_COLUMN, tiebreak);
    } else {
      only(r, type, Type.DEDUPE_LATEST, VERSION_COLUMN, TIEBREAK_COLUMN);
    }
    Aggregation aggregation = null;
    if (type == Type.AGGREGATE) {
      aggregation = readAggregation(r, source);
    } else {
      only(r, type, Type.AGGREGATE, WINDOW_DURATION, WINDOW_SLIDE, GROUP_COLUMNS, AGGREGATES, AGGREGATE_DEDUPE);
    }
    boolean allowNull = r.bool(VERSION_ALLOW_NULL, false);
    return new StageOptions(type, delay, version, tiebreak, store, aggregation, allowNull);
  }

  private static Aggregation readAggregation(ConfigReader r, SourceOptions source) {
    Duration duration = r.duration(WINDOW_DURATION, null);
    if (duration == null && !r.has(WINDOW_DURATION)) {
      r.problem(WINDOW_DURATION, "is required by the aggregate stage, e.g. 1 minute.");
    }
    Duration slide = r.duration(WINDOW_SLIDE, duration);
    if (duration != null && slide != null && (slide.isZero() || slide.compareTo(duration) > 0)) {
      r.problem(WINDOW_SLIDE, slide + " must be above zero and at most " + WINDOW_DURATION + " (" + duration + ").");
    }
    if (duration != null && duration.isZero()) {
      r.problem(WINDOW_DURATION, "must be above zero.");
    }
    List<String> groups = r.has(GROUP_COLUMNS) ? r.identifiers(GROUP_COLUMNS) : List.of();
    for (String g : groups == null ? List.<String>of() : groups) {
      if (source != null && source.schema() != null && !List.of(source.schema().fieldNames()).contains(g)) {
        r.problem(GROUP_COLUMNS, "'" + g + "' is not a column of source.schema (" + String.join(", ", source.schema().fieldNames()) + ").");
      }
    }
    String aggregates = r.required(AGGREGATES, "List Spark SQL aggregate expressions with aliases, e.g. count(*) AS events, "
        + "sum(amount) AS total.");
    AggregateDedupe dedupe = r.choice(AGGREGATE_DEDUPE, AggregateDedupe.class, AggregateDedupe.NONE);
    return new Aggregation(duration, slide, groups == null ? List.of() : groups, aggregates, dedupe);
  }

  /** A version or tie-break column must exist and have a type that orders the way people expect. */
  private static void checkOrderColumn(ConfigReader r, SourceOptions source, String key, String column) {
    if (column == null || source == null || source.schema() == null) {
      return;
    }
    StructType schema = source.schema();
    if (!List.of(schema.fieldNames()).contains(column)) {
      r.problem(key, "'" + column + "' is not a column of source.schema (" + String.join(", ", schema.fieldNames()) + ").");
      return;
    }
    StructField f = schema.apply(column);
    if (f.dataType().equals(DataTypes.StringType)) {
      r.problem(key, SinkSpec.stringOrder(column, ""));
    } else if (!LatestVersion.isOrderable(f.dataType())) {
      r.problem(key, "'" + column + "' is " + f.dataType().simpleString() + "; use an integer, timestamp or date column.");
    }
  }

  private static void only(ConfigReader r, Type type, Type owner, String... keys) {
    for (String k : keys) {
      if (r.has(k)) {
        r.problem(k, "is only used with " + TYPE + "=" + ConfigReader.configName(owner) + " (this stage is "
            + ConfigReader.configName(type) + "). Remove it.");
      }
    }
  }

  static boolean isIntegral(DataType t) {
    return t instanceof IntegralType || t.equals(DataTypes.TimestampType) || t.equals(DataTypes.DateType)
        || t.equals(DataTypes.TimestampNTZType);
  }

  public Type type() {
    return type;
  }

  public Duration watermarkDelay() {
    return watermarkDelay;
  }

  /** The version column of {@code dedupe-latest}, else null. */
  public String versionColumn() {
    return versionColumn;
  }

  /** The tie-break column of {@code dedupe-latest}, or null. */
  public String tiebreakColumn() {
    return tiebreakColumn;
  }

  /**
   * Whether a null version or tie-break ({@code stage.version.allow.null}) is kept, ranking below every
   * version; by default such rows go to quarantine as {@code missing-version}.
   */
  public boolean allowNullVersions() {
    return allowNullVersions;
  }

  public StateStore stateStore() {
    return stateStore;
  }

  /** The window and aggregates of an {@code aggregate} stage, else null. */
  public Aggregation aggregation() {
    return aggregation;
  }

  /** Whether the stage leaves at most one row per source key in each batch. */
  public boolean keysUniquePerBatch() {
    return type == Type.DEDUPE_FIRST_SEEN || type == Type.DEDUPE_LATEST;
  }
}
