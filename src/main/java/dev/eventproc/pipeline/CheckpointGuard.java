package dev.eventproc.pipeline;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.Durations;
import dev.eventproc.sink.BatchSink;
import dev.eventproc.stage.SourceOptions;
import dev.eventproc.stage.StageOptions;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.BinaryOperator;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refuses to run a pipeline on a checkpoint written for a different one. Spark restarts from a
 * checkpoint whatever the query now reads or keys by, and state built for other keys or another
 * schema then gives wrong answers quietly (or fails deep inside a state store). The guard stores a
 * fingerprint of what the checkpoint depends on in {@value #FILE} inside the checkpoint, and on a
 * restart compares it with the config, naming every key that changed:
 * <ul>
 *   <li>source, schema, keys, event time and stage, compared as normalised values (lists without
 *       spacing, durations as durations, the schema as Spark's DDL), and the id of a Kafka source's
 *       cluster (its bootstrap addresses may change, the cluster may not). A compatible change of the
 *       schema ({@link SchemaGuard}: nullable columns added, types widened) is accepted and stored; a
 *       refused one names each column, why, and the fix;
 *   <li>each sink's identity and commit shape ({@link BatchSink#identity()}: name, type, target, Kafka
 *       writers, PostgreSQL commit shape), for the main sink or every route of a fan-out and for the
 *       quarantine sink. A changed one would look a replayed batch up in the wrong place and write it
 *       again. A sink (or route) that the fingerprint does not know yet is added to it, so adding a
 *       route, or a fingerprint written before sinks were recorded, passes.
 * </ul>
 * The first write is atomic (create if absent): of two pipelines starting on one new checkpoint at the
 * same moment, the one that loses refuses to start. {@code eventproc run --reset-checkpoint} (or
 * {@link #reset}) deletes the checkpoint and starts over: the query reads from the source's starting
 * offsets again under a new query id.
 */
public final class CheckpointGuard {
  /** The fingerprint's file name inside the checkpoint directory. */
  public static final String FILE = "eventproc-fingerprint.properties";
  /** The id of the Kafka cluster a Kafka source reads (not a config key: asked from the cluster). */
  public static final String KAFKA_CLUSTER_ID = "source.kafka.cluster.id";
  private static final List<String> KEYS = List.of(SourceOptions.TYPE, SourceOptions.KAFKA_TOPIC, SourceOptions.FILES_PATH,
      SourceOptions.KEY_COLUMNS, SourceOptions.EVENT_TIME_COLUMN, StageOptions.TYPE, StageOptions.VERSION_COLUMN,
      StageOptions.TIEBREAK_COLUMN, StageOptions.WINDOW_DURATION, StageOptions.WINDOW_SLIDE, StageOptions.GROUP_COLUMNS,
      StageOptions.AGGREGATES, StageOptions.AGGREGATE_DEDUPE);
  /** Keys holding comma-separated lists, compared item by item. */
  private static final Set<String> LISTS = Set.of(SourceOptions.KAFKA_TOPIC, SourceOptions.KEY_COLUMNS, StageOptions.GROUP_COLUMNS);
  private static final Set<String> DURATIONS = Set.of(StageOptions.WINDOW_DURATION, StageOptions.WINDOW_SLIDE);
  /** How a sink's entries are recognised in the fingerprint: its {@code <scope>type} key. */
  private static final String TYPE_SUFFIX = "type";
  private static final Logger LOG = LoggerFactory.getLogger(CheckpointGuard.class);

  private CheckpointGuard() {}

  /** What the checkpoint depends on, per config key, normalised; without the Kafka cluster id. */
  static Map<String, String> fingerprint(PipelineConfig config) {
    Map<String, String> out = new LinkedHashMap<>();
    for (String k : KEYS) {
      out.put(k, normalise(k, config.raw().get(k)));
    }
    out.put(SourceOptions.SCHEMA, config.source().schema().toDDL());
    out.putAll(config.sink().identity());
    out.putAll(config.quarantine().identity());
    StageStateLayout.record(out, config);
    return out;
  }

  /** A config value as the guard compares it: lists item by item, durations by length, expressions without spacing. */
  static String normalise(String key, String value) {
    if (value == null || value.isBlank()) {
      return "";
    }
    String v = value.trim();
    if (LISTS.contains(key)) {
      return Arrays.stream(v.split(",")).map(String::trim).filter(x -> !x.isEmpty()).collect(Collectors.joining(","));
    }
    if (DURATIONS.contains(key)) {
      Duration d = Durations.parse(v);
      return d == null ? v : d.toString();
    }
    if (key.equals(StageOptions.AGGREGATES)) {
      return v.replaceAll("\\s+", " ").replaceAll(" ?([,()]) ?", "$1");
    }
    return v;
  }

  /**
   * Writes the fingerprint into a new checkpoint, or checks it against a used one.
   *
   * @throws ConfigException naming each changed key, with its old and new value, and the way out
   */
  public static void check(SparkSession spark, PipelineConfig config) {
    Path dir = new Path(config.checkpoint());
    Map<String, String> now = fingerprint(config);
    if (config.source().type() == SourceOptions.Type.KAFKA) {
      String cluster = KafkaClusterId.of(config.source());
      if (cluster != null) {
        now.put(KAFKA_CLUSTER_ID, cluster);
      }
    }
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      Path file = new Path(dir, FILE);
      if (!fs.exists(file)) {
        Map<String, String> safe = FingerprintSecrets.protect(now, config.raw(), FingerprintSecrets.newSalt());
        if (!GuardFile.createIfAbsent(fs, spark, file, safe)) {
          throw new ConfigException("checkpoint " + config.checkpoint() + ": another pipeline wrote its fingerprint there "
              + "at the same moment. Two queries must never share a checkpoint: give this one its own checkpoint.location.");
        }
        return;
      }
      Map<String, String> before = GuardFile.read(fs, file);
      StageStateLayout.check(before, now, config.checkpoint());
      // Secrets are compared and stored as digests under the stored salt; a fingerprint without one holds plain values.
      boolean digested = before.containsKey(FingerprintSecrets.SALT);
      Map<String, String> safe = FingerprintSecrets.protect(now, config.raw(),
          digested ? before.get(FingerprintSecrets.SALT) : FingerprintSecrets.newSalt());
      Map<String, String> compared = digested ? safe : now;
      // A compatible schema change (columns added, types widened) is accepted and stored below; others are explained.
      SchemaGuard.Review schema = before.getOrDefault(SourceOptions.SCHEMA, "").equals(compared.get(SourceOptions.SCHEMA))
          || !before.containsKey(SourceOptions.SCHEMA) ? null : SchemaGuard.review(before.get(SourceOptions.SCHEMA), config);
      Map<String, String> old = before;
      if (schema != null && schema.accepted()) {
        old = new LinkedHashMap<>(before);
        old.put(SourceOptions.SCHEMA, compared.get(SourceOptions.SCHEMA));
        LOG.info("checkpoint {}: source.schema changed compatibly from '{}' to '{}'; the sinks evolve their targets",
            config.checkpoint(), before.get(SourceOptions.SCHEMA), compared.get(SourceOptions.SCHEMA));
      }
      List<String> changes = changes(old, compared, (k, v) -> FingerprintSecrets.shown(k, v, config.raw()));
      if (schema != null && !schema.accepted()) {
        changes.replaceAll(c -> c.startsWith(SourceOptions.SCHEMA + " was ") ? c + schema.why() : c);
      }
      if (!changes.isEmpty()) {
        throw new ConfigException("checkpoint " + config.checkpoint() + " was written by a pipeline with a different "
            + "source, schema, key, stage or sink, and its offsets, state and the sinks' commit records do not fit this one: "
            + String.join("; ", changes) + ". Set the old values back, use a new checkpoint.location, or run with "
            + "--reset-checkpoint to delete it and read the source again from its starting offsets (a new writer: an "
            + "append sink then gets the events again). If no batch ever ran on it, a reset loses nothing.");
      }
      Map<String, String> merged = new LinkedHashMap<>(before);
      merged.putAll(safe);
      if (!merged.equals(before)) {
        GuardFile.replace(fs, spark, file, merged); // a new sink, a cluster id, or a fingerprint of an older version
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read or write " + FILE + " in checkpoint " + config.checkpoint() + ": " + e, e);
    }
  }

  /**
   * What changed, "key was 'old', now 'new'": every source and stage key; the Kafka cluster when both
   * sides know it; every key of a sink that both sides know (by its type key), a key absent on one side
   * counting as empty.
   */
  static List<String> changes(Map<String, String> before, Map<String, String> now) {
    return changes(before, now, (k, v) -> v);
  }

  /** As {@link #changes(Map, Map)}, showing each value as {@code shown} gives it (secrets hidden). */
  static List<String> changes(Map<String, String> before, Map<String, String> now, BinaryOperator<String> shown) {
    List<String> out = new ArrayList<>();
    Set<String> compared = new LinkedHashSet<>(KEYS);
    compared.add(SourceOptions.SCHEMA);
    if (before.containsKey(KAFKA_CLUSTER_ID) && now.containsKey(KAFKA_CLUSTER_ID)) {
      compared.add(KAFKA_CLUSTER_ID);
    }
    Set<String> keys = new TreeSet<>(before.keySet());
    keys.addAll(now.keySet());
    for (String scope : sinkScopes(now)) {
      if (before.containsKey(scope + TYPE_SUFFIX)) {
        keys.stream().filter(k -> k.startsWith(scope) && !isInOtherScope(k, scope, now, before)).forEach(compared::add);
      }
    }
    for (String k : compared) {
      String old = before.getOrDefault(k, "");
      String v = now.getOrDefault(k, "");
      if (!old.equals(v)) {
        out.add(k + " was '" + shown.apply(k, old) + "', now '" + shown.apply(k, v) + "'" + (k.equals(KAFKA_CLUSTER_ID)
            ? " (another Kafka cluster: the checkpoint's offsets belong to the old one)" : ""));
      }
    }
    return out;
  }

  /** The scopes ({@code sink.}, {@code sink.<route>.}, {@code quarantine.}) of the sinks in a fingerprint. */
  private static Set<String> sinkScopes(Map<String, String> fingerprint) {
    Set<String> out = new LinkedHashSet<>();
    for (String k : fingerprint.keySet()) {
      if ((k.startsWith("sink.") || k.startsWith(PipelineConfig.QUARANTINE)) && k.endsWith("." + TYPE_SUFFIX)) {
        out.add(k.substring(0, k.length() - TYPE_SUFFIX.length()));
      }
    }
    return out;
  }

  /** Whether a key under {@code scope} belongs to a longer scope (a route {@code sink.a.} under {@code sink.}). */
  private static boolean isInOtherScope(String key, String scope, Map<String, String> now, Map<String, String> before) {
    for (Map<String, String> side : List.of(now, before)) {
      for (String other : sinkScopes(side)) {
        if (!other.equals(scope) && other.startsWith(scope) && key.startsWith(other)) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * Deletes the pipeline's checkpoint (offsets, state and fingerprint), and only that: see {@link CheckpointReset}.
   *
   * @throws ConfigException when the location is not a checkpoint eventproc wrote, holds anything else, or is a
   *     root or a directory above another path of the config
   */
  public static void reset(SparkSession spark, PipelineConfig config) {
    CheckpointReset.checkLocation(config, CheckpointReset.roots(config.raw()));
    Path dir = new Path(config.checkpoint());
    try {
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (CheckpointReset.holdsCheckpoint(fs, dir, config.checkpoint()) && !fs.delete(dir, true)) {
        throw new IllegalStateException("could not delete checkpoint " + config.checkpoint());
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot delete checkpoint " + config.checkpoint() + ": " + e, e);
    }
  }
}
