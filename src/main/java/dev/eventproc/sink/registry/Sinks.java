package dev.eventproc.sink.registry;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.sink.FanOut;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.delta.DeltaSink;
import dev.eventproc.sink.files.FilesSink;
import dev.eventproc.sink.iceberg.IcebergSink;
import dev.eventproc.sink.kafka.KafkaSink;
import dev.eventproc.sink.postgres.PostgresSink;
import dev.eventproc.util.Errors;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.catalyst.parser.CatalystSqlParser$;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;

/**
 * Builds sinks from configuration: the adapter is chosen by {@code sink.type}. Several sinks: list
 * their names in {@code sinks=raw,metrics} and give each its keys as {@code sink.raw.type=...}, plus
 * an optional {@code sink.<name>.query} (SQL over the view {@code batch}) for a derived frame.
 *
 * <p>The registry sits above the sink core and its adapters: it is the one place that knows every
 * adapter, so the core never imports one and adapters never import each other.
 */
public final class Sinks {
  public static final String PREFIX = "sink.";
  public static final String TYPE = "type";
  public static final String SINKS = "sinks";
  public static final String QUERY = "query";
  /** Words a sink name cannot be: the first part of a single sink's keys. */
  static final Set<String> RESERVED = Set.of("type", "name", "mode", "key", "version", "tiebreak", "delete", "query",
      "delta", "postgres", "iceberg", "files", "kafka");

  private Sinks() {}

  /**
   * The sink described by the {@code sink.*} keys of a config. Keys outside {@code sink.} are ignored
   * here (a pipeline validates them); unknown {@code sink.*} keys are errors.
   *
   * @throws ConfigException naming every bad key
   */
  public static BatchSink fromConfig(EventprocConfig config) {
    ConfigReader reader = new ConfigReader(config);
    BatchSink sink = readAll(reader, config.get("pipeline.name"), List.of());
    reader.finish(k -> k.startsWith(PREFIX) || k.equals(SINKS));
    return sink;
  }

  /**
   * The sink of a config: the single {@code sink.*} one, or a {@link FanOut} over the sinks listed in
   * {@code sinks}. Problems are recorded in the reader. Null when the config has problems.
   *
   * @param uniqueKeys columns on which the stage before the sink guarantees one row per key in each
   *     batch (empty when it does not): sinks keyed on them skip reducing batches
   */
  public static BatchSink readAll(ConfigReader root, String pipelineName, List<String> uniqueKeys) {
    List<String> names = root.identifiers(SINKS);
    if (names.isEmpty()) {
      return read(root.scope(PREFIX), pipelineName, uniqueKeys);
    }
    if (root.config().contains(PREFIX + TYPE)) {
      root.problem(SINKS, "is set, and so is sink.type. Use either one sink (sink.type, sink.mode, ...) or several "
          + "(sinks=a,b with sink.a.type, sink.b.type, ...), not both.");
    }
    List<FanOut.Route> routes = new ArrayList<>();
    Set<String> sinkNames = new HashSet<>();
    for (String n : names) {
      if (RESERVED.contains(n.toLowerCase(Locale.ROOT))) {
        root.problem(SINKS, "'" + n + "' cannot name a sink: it is a key word of sink settings. Pick another name.");
        continue;
      }
      ConfigReader scope = root.scope(PREFIX + n + ".");
      String query = scope.string(QUERY, null);
      // A derived frame (a query) may repeat keys whatever the stage did.
      BatchSink sink = read(scope, pipelineName == null ? n : pipelineName + "_" + n, query == null ? uniqueKeys : List.of());
      if (query != null) {
        checkQuery(scope, query);
      }
      if (sink != null && !sinkNames.add(sink.name())) {
        scope.problem(SinkSpec.NAME, "'" + sink.name() + "' is the name of another sink too. Give each its own name.");
      }
      if (sink != null) {
        routes.add(new FanOut.Route(sink, query));
      }
    }
    return routes.size() == names.size() ? new FanOut(pipelineName == null ? "sinks" : pipelineName, routes) : null;
  }

  /** A route's query must parse and be a query (not a command). */
  private static void checkQuery(ConfigReader scope, String query) {
    try {
      LogicalPlan plan = CatalystSqlParser$.MODULE$.parsePlan(query);
      if (plan instanceof Command) {
        scope.problem(QUERY, "'" + query + "' is a command, not a query. Write a SELECT over the view batch.");
      }
    } catch (Exception e) { // Spark's ParseException is checked in Scala's eyes only
      String msg = Errors.summary(e);
      scope.problem(QUERY, "'" + query + "' is not Spark SQL: " + msg + " Write a SELECT over the view batch, e.g. "
          + "SELECT batch_id, count(*) AS n FROM batch GROUP BY batch_id.");
    }
  }

  /**
   * The config with a default place for the sink of {@code scope} (e.g. {@code quarantine.}): when its
   * adapter writes to a path (Delta) and neither a path nor a table is set, {@code location}. Other
   * adapters, and a scope that names its own place, are left as they are.
   */
  public static EventprocConfig withDefaultLocation(EventprocConfig c, String scope, String location) {
    boolean delta = SinkType.DELTA.name().equalsIgnoreCase(c.get(scope + TYPE));
    if (delta && !c.contains(scope + DeltaSink.PATH) && !c.contains(scope + DeltaSink.TABLE)) {
      return c.with(scope + DeltaSink.PATH, location);
    }
    return c;
  }

  /** {@link #fromConfig(EventprocConfig)} for a plain map of keys. */
  public static BatchSink fromConfig(Map<String, String> config) {
    return fromConfig(EventprocConfig.of(config));
  }

  /**
   * Reads one sink from a scope such as {@code sink.}; problems are recorded in the reader, which
   * the caller finishes. Returns null when the config has problems.
   */
  public static BatchSink read(ConfigReader scope, String defaultName) {
    return read(scope, defaultName, List.of());
  }

  /** As {@link #read(ConfigReader, String)}, with the stage's one-row-per-key guarantee (see {@link #readAll}). */
  public static BatchSink read(ConfigReader scope, String defaultName, List<String> uniqueKeys) {
    SinkType type = scope.choice(TYPE, SinkType.class, null);
    if (!scope.has(TYPE)) {
      scope.problem(TYPE, "is required. Set it to one of " + ConfigReader.choices(SinkType.class) + ".");
    }
    for (SinkType other : SinkType.values()) {
      String adapter = other.name().toLowerCase(Locale.ROOT);
      if (type == null) {
        scope.prefixed(adapter, "keys of the " + adapter + " adapter"); // no valid type: one error is enough
      } else if (other != type) {
        scope.explainPrefix(adapter + ".", adapter + " keys apply only when " + scope.key(TYPE) + "=" + adapter + ".");
      }
    }
    SinkSpec spec = SinkSpec.read(scope, defaultName);
    if (spec != null && type != null && type != SinkType.KAFKA && spec.mode() == WriteMode.APPEND && !spec.keyColumns().isEmpty()) {
      scope.problem(SinkSpec.KEY_COLUMNS, "is not used with mode append by a " + type.name().toLowerCase(Locale.ROOT)
          + " sink (only Kafka keys appended records). Remove it, or use mode upsert.");
    }
    if (spec != null && !uniqueKeys.isEmpty() && spec.mode().isKeyed() && spec.keyColumns().containsAll(uniqueKeys)) {
      spec = spec.withKeysUniquePerBatch();
    }
    if (type == null) {
      return null;
    }
    return switch (type) {
      case DELTA -> DeltaSink.fromConfig(spec, scope);
      case POSTGRES -> PostgresSink.fromConfig(spec, scope);
      case ICEBERG -> IcebergSink.fromConfig(spec, scope);
      case FILES -> FilesSink.fromConfig(spec, scope);
      case KAFKA -> KafkaSink.fromConfig(spec, scope);
    };
  }
}
