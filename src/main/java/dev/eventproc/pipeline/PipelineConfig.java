package dev.eventproc.pipeline;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.Identifiers;
import dev.eventproc.reconcile.ReconcileOptions;
import dev.eventproc.security.RestrictedConfig;
import dev.eventproc.sink.AbstractBatchSink;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.FanOut;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.StageGuarantee;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.stage.InputRules;
import dev.eventproc.stage.SourceOptions;
import dev.eventproc.stage.StageOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * A whole pipeline's configuration, validated at once: source, stage, sink, quarantine, checkpoint,
 * trigger and Spark settings. Every problem is reported together in one {@link ConfigException}.
 *
 * <p>Pipeline keys: {@code pipeline.name} (required; the query name and the default sink name),
 * {@code checkpoint.location} (required), {@code trigger} ({@code processing-time} (default),
 * {@code available-now} to drain what is there and stop, or {@code once}), {@code trigger.interval}
 * (for processing-time; default 0: start the next batch as soon as the last one ends), and
 * {@code spark.*} (set on the Spark session when eventproc creates it), {@code metrics.file} (a local
 * file that gets one JSON line of {@link ProgressListener.BatchStats} per batch), {@code metrics.spark}
 * ({@code true}: eventproc's metrics in Spark's metrics system, see {@link SparkMetrics}).
 *
 * <p>Quarantine keys: a sink scope {@code quarantine.*} with the same keys as {@code sink.*}. By
 * default a Delta table in append mode at {@code <checkpoint.location>-quarantine}, named
 * {@code <pipeline.name>_quarantine}.
 */
public final class PipelineConfig {
  public static final String NAME = "pipeline.name";
  public static final String CHECKPOINT = "checkpoint.location";
  public static final String TRIGGER = "trigger";
  public static final String TRIGGER_INTERVAL = "trigger.interval";
  public static final Duration TRIGGER_INTERVAL_DEFAULT = Duration.ZERO;
  public static final String SPARK = "spark";
  public static final String METRICS_FILE = "metrics.file";
  /** Whether {@code eventproc run} adds {@link EventprocPlugin} to the session, putting the metrics in Spark's metrics system. */
  public static final String METRICS_SPARK = "metrics.spark";
  public static final boolean METRICS_SPARK_DEFAULT = false;
  public static final String QUARANTINE = "quarantine.";
  public static final String QUARANTINE_SUFFIX = "-quarantine";

  /** How the query is triggered, as written in {@code trigger}. */
  public enum Trigger { PROCESSING_TIME, AVAILABLE_NOW, ONCE }

  private final EventprocConfig raw;
  private final String name;
  private final String checkpoint;
  private final Trigger trigger;
  private final Duration triggerInterval;
  private final Map<String, String> sparkConf;
  private final SourceOptions source;
  private final StageOptions stage;
  private final BatchSink sink;
  private final BatchSink quarantine;
  private final String metricsFile;
  private final boolean metricsSpark;
  private final ReconcileOptions reconcile;
  private final InputRules inputRules;

  private PipelineConfig(EventprocConfig raw, String name, String checkpoint, Trigger trigger, Duration triggerInterval,
      Map<String, String> sparkConf, SourceOptions source, StageOptions stage, BatchSink sink, BatchSink quarantine,
      String metricsFile, boolean metricsSpark, ReconcileOptions reconcile) {
    this.raw = raw;
    this.name = name;
    this.checkpoint = checkpoint;
    this.trigger = trigger;
    this.triggerInterval = triggerInterval;
    this.sparkConf = Map.copyOf(sparkConf);
    this.source = source;
    this.stage = stage;
    this.sink = sink;
    this.quarantine = quarantine;
    this.metricsFile = metricsFile;
    this.metricsSpark = metricsSpark;
    this.reconcile = reconcile;
    this.inputRules = sink == null || source == null ? InputRules.NONE : inputRules(source, stage, sink);
  }

  /** Validates a config; throws one {@link ConfigException} listing every problem. */
  public static PipelineConfig from(EventprocConfig config) {
    ConfigReader r = new ConfigReader(withQuarantineDefaults(config));
    PipelineConfig p = read(r, config);
    r.finish();
    return p;
  }

  /** Every key a pipeline reads for this config (for documentation checks), problems or not. */
  public static Set<String> keysRead(EventprocConfig config) {
    ConfigReader r = new ConfigReader(withQuarantineDefaults(config));
    read(r, config);
    Set<String> keys = new TreeSet<>(r.knownKeys());
    r.knownPrefixes().keySet().forEach(p -> keys.add(p + "*"));
    return keys;
  }

  private static PipelineConfig read(ConfigReader r, EventprocConfig config) {
    String name = r.required(NAME, "Name the pipeline (letters, digits, underscores), e.g. payments.");
    if (name != null && !Identifiers.isPlain(name)) {
      r.problem(NAME, "'" + name + "' is not a plain name. " + Identifiers.RULE);
      name = null;
    }
    String checkpoint = r.path(CHECKPOINT, "Give a directory (or URI) where Spark keeps this query's progress.");
    Trigger trigger = r.choice(TRIGGER, Trigger.class, Trigger.PROCESSING_TIME);
    Duration interval = r.duration(TRIGGER_INTERVAL, TRIGGER_INTERVAL_DEFAULT);
    if (trigger != Trigger.PROCESSING_TIME && r.has(TRIGGER_INTERVAL)) {
      r.problem(TRIGGER_INTERVAL, "is only used with trigger=processing-time. Remove it.");
    }
    Map<String, String> spark = new TreeMap<>();
    r.prefixed(SPARK, "Spark settings").forEach((k, v) -> spark.put(SPARK + "." + k, v));

    SourceOptions source = SourceOptions.read(r);
    StageOptions stage = StageOptions.read(r, source);
    // A dedupe stage leaves at most one row per key in each batch: sinks keyed on those columns need not reduce.
    List<String> uniqueKeys = source != null && stage.keysUniquePerBatch()
        ? source.keyColumns() : List.of();
    BatchSink sink = Sinks.readAll(r, name, uniqueKeys);
    BatchSink quarantine = Sinks.read(r.scope(QUARANTINE), name == null ? null : name + "_quarantine");
    if (sink != null) {
      sink.checkStage(stageGuarantee(source, stage), r::problem);
    }
    if (quarantine != null) {
      quarantine.checkStage(StageGuarantee.NONE, r::problem);
    }
    if (sink != null && source != null) {
      checkOrderTypes(source, sink, r);
    }
    if (sink != null && quarantine != null && sinkNames(sink).contains(quarantine.name())) {
      r.problem(QUARANTINE + "name", "'" + quarantine.name() + "' is also the sink's name. Give each sink its own name.");
    }
    String metricsFile = r.localPath(METRICS_FILE, null);
    boolean metricsSpark = r.bool(METRICS_SPARK, METRICS_SPARK_DEFAULT);
    ReconcileOptions reconcile = ReconcileOptions.read(r);
    RestrictedConfig.check(r); // when the operator restricted the config: after every key was read
    return new PipelineConfig(config, name, checkpoint, trigger, interval, spark, source, stage, sink, quarantine, metricsFile,
        metricsSpark, reconcile);
  }

  /**
   * The parse step's checks for this pipeline: nulls in columns a sink keys on or the stage groups by,
   * and null versions and tie-breaks of the stage and the sinks (unless allowed), among the source's
   * columns. Routes with their own query are left to that query.
   */
  private static InputRules inputRules(SourceOptions source, StageOptions stage, BatchSink sink) {
    Set<String> columns = Set.of(source.schema().fieldNames());
    Set<String> keys = new LinkedHashSet<>();
    Set<String> versions = new LinkedHashSet<>();
    if (stage.aggregation() != null) {
      keys.addAll(stage.aggregation().groupColumns());
    } else {
      for (SinkSpec spec : plainSpecs(sink)) {
        keys.addAll(spec.keyColumns());
        versions.addAll(spec.orderColumns());
      }
    }
    if (stage.versionColumn() != null) {
      versions.add(stage.versionColumn());
    }
    if (stage.tiebreakColumn() != null) {
      versions.add(stage.tiebreakColumn());
    }
    keys.retainAll(columns);
    keys.removeAll(source.keyColumns());
    versions.retainAll(columns);
    return new InputRules(List.copyOf(keys), stage.allowNullVersions() ? List.of() : List.copyOf(versions));
  }

  /** A sink's version or tie-break from the source must not be a string (see {@link SinkSpec#stringOrder}). */
  private static void checkOrderTypes(SourceOptions source, BatchSink sink, ConfigReader r) {
    StructType schema = source.schema();
    for (SinkSpec spec : plainSpecs(sink)) {
      for (String c : spec.orderColumns()) {
        if (List.of(schema.fieldNames()).contains(c)
            && schema.apply(c).dataType().equals(DataTypes.StringType)) {
          String key = c.equals(spec.versionColumn()) ? SinkSpec.VERSION_COLUMN : SinkSpec.TIEBREAK_COLUMN;
          r.problem(spec.key(key), SinkSpec.stringOrder(c, " in source.schema"));
        }
      }
    }
  }

  /** The specs of the sinks that take the stage's rows as they are (not through a route query). */
  private static List<SinkSpec> plainSpecs(BatchSink sink) {
    List<BatchSink> plain = sink instanceof FanOut f
        ? f.routes().stream().filter(r -> r.query() == null).map(FanOut.Route::sink).toList()
        : List.of(sink);
    return plain.stream().filter(s -> s instanceof AbstractBatchSink).map(s -> ((AbstractBatchSink) s).spec()).toList();
  }

  /**
   * What the stage promises the sinks across batches: dedupe-latest emits only newer versions of its
   * keys; dedupe-first-seen drops later copies of its keys.
   */
  private static StageGuarantee stageGuarantee(SourceOptions source, StageOptions stage) {
    if (source == null) {
      return StageGuarantee.NONE;
    }
    return switch (stage.type()) {
      case DEDUPE_LATEST -> StageGuarantee.latest(source.keyColumns(), stage.versionColumn(), stage.tiebreakColumn());
      case DEDUPE_FIRST_SEEN -> StageGuarantee.firstSeen(source.keyColumns());
      default -> StageGuarantee.NONE;
    };
  }

  private static List<BatchSink> sinks(BatchSink sink) {
    return sink instanceof FanOut f ? f.routes().stream().map(FanOut.Route::sink).toList()
        : List.of(sink);
  }

  private static List<String> sinkNames(BatchSink sink) {
    return sinks(sink).stream().map(BatchSink::name).toList();
  }

  /** The adapters this config uses (main sinks and quarantine), to set the Spark session up for them. */
  public Set<SinkType> sinkTypes() {
    Set<SinkType> out = EnumSet.noneOf(SinkType.class);
    EventprocConfig c = withQuarantineDefaults(raw);
    for (String k : c.keys()) {
      if (k.equals("sink.type") || k.equals(QUARANTINE + Sinks.TYPE) || (k.startsWith(Sinks.PREFIX) && k.endsWith("." + Sinks.TYPE)
          && k.chars().filter(ch -> ch == '.').count() == 2)) {
        for (SinkType t : SinkType.values()) {
          if (t.name().equalsIgnoreCase(c.get(k))) {
            out.add(t);
          }
        }
      }
    }
    return out;
  }

  /**
   * Quarantine defaults: a Delta table, append mode, beside the checkpoint, a record only for batches
   * that quarantined rows. Explicit keys win.
   */
  private static EventprocConfig withQuarantineDefaults(EventprocConfig c) {
    EventprocConfig out = c;
    if (!c.contains(QUARANTINE + Sinks.TYPE)) {
      out = out.with(QUARANTINE + Sinks.TYPE, "delta");
    }
    if (!c.contains(QUARANTINE + "mode")) {
      out = out.with(QUARANTINE + "mode", "append");
    }
    if (!c.contains(QUARANTINE + SinkSpec.RECORD_EMPTY_BATCHES)) {
      out = out.with(QUARANTINE + SinkSpec.RECORD_EMPTY_BATCHES, "false");
    }
    String checkpoint = c.get(CHECKPOINT);
    // Without a checkpoint the config fails on that key; a placeholder avoids a second, derived error.
    String base = checkpoint == null || checkpoint.isEmpty() ? "checkpoint.location"
        : checkpoint.endsWith("/") ? checkpoint.substring(0, checkpoint.length() - 1) : checkpoint;
    out = Sinks.withDefaultLocation(out, QUARANTINE, base + QUARANTINE_SUFFIX);
    return out;
  }

  /** The config as given (with secrets), for components that need raw keys. */
  public EventprocConfig raw() {
    return raw;
  }

  public String name() {
    return name;
  }

  public String checkpoint() {
    return checkpoint;
  }

  public Trigger trigger() {
    return trigger;
  }

  public Duration triggerInterval() {
    return triggerInterval;
  }

  /** The {@code spark.*} keys, with their prefix. */
  public Map<String, String> sparkConf() {
    return sparkConf;
  }

  public SourceOptions source() {
    return source;
  }

  public StageOptions stage() {
    return stage;
  }

  public BatchSink sink() {
    return sink;
  }

  public BatchSink quarantine() {
    return quarantine;
  }

  /** What {@code eventproc reconcile} compares the sinks with ({@code reconcile.*}). */
  public ReconcileOptions reconcile() {
    return reconcile;
  }

  /** Whether eventproc's metrics go to Spark's metrics system ({@code metrics.spark}). */
  public boolean sparkMetrics() {
    return metricsSpark;
  }

  /** Every sink a batch is written to: the main sink (each route of a fan-out), then the quarantine sink. */
  public List<BatchSink> sinksAndQuarantine() {
    List<BatchSink> out = new ArrayList<>(sinks(sink));
    out.add(quarantine);
    return List.copyOf(out);
  }

  /** What the parse step quarantines beyond the source's own checks (see {@link InputRules}). */
  public InputRules inputRules() {
    return inputRules;
  }

  /** Local file that gets one JSON line per batch ({@code metrics.file}), or null. */
  public String metricsFile() {
    return metricsFile;
  }
}
