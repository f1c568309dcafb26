package dev.eventproc.pipeline;

import com.codahale.metrics.MetricRegistry;
import dev.eventproc.sink.BatchSink;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * eventproc's metrics in Spark's metrics system, for library users: one call before the session is
 * built ({@link #enable}), and pipelines started with {@link Pipeline#start} register theirs. A job
 * that calls a sink from its own {@code foreachBatch} registers it with {@link #register}.
 *
 * <pre>{@code
 * SparkSession spark = SparkSession.builder().config(SparkMetrics.enable(new SparkConf())).getOrCreate();
 * }</pre>
 */
public final class SparkMetrics {
  /** Spark's key listing plugin classes. */
  public static final String PLUGINS = "spark.plugins";

  private SparkMetrics() {}

  /** Adds {@link EventprocPlugin} to {@code spark.plugins} of {@code conf} (keeping the plugins listed there); returns conf. */
  public static SparkConf enable(SparkConf conf) {
    return conf.set(PLUGINS, withPlugin(conf.get(PLUGINS, "")));
  }

  /** A {@code spark.plugins} value with eventproc's plugin added to {@code plugins} (a comma-separated list). */
  public static String withPlugin(String plugins) {
    Set<String> out = new LinkedHashSet<>();
    Arrays.stream(plugins.split(",")).map(String::trim).filter(p -> !p.isEmpty()).forEach(out::add);
    out.add(EventprocPlugin.class.getName());
    return String.join(",", out);
  }

  /** The plugin's registry for this session's application, when the plugin is enabled. */
  public static Optional<MetricRegistry> registry(SparkSession spark) {
    return Optional.ofNullable(EventprocPlugin.registry(spark.sparkContext().applicationId()));
  }

  /**
   * Registers the per-sink metrics of sinks that a job calls from its own {@code foreachBatch}, under
   * {@code eventproc.<pipeline>.<sink>.*} (replacing earlier ones of that name); empty when the plugin
   * is not enabled. The pipeline-wide figures ({@code eventproc.<pipeline>.*}) come from passing the
   * returned object each batch's {@link ProgressListener.BatchStats} (a {@link ProgressListener} does).
   */
  public static Optional<PipelineMetrics> register(SparkSession spark, String pipeline, List<BatchSink> sinks) {
    return registry(spark).map(r -> PipelineMetrics.register(r, pipeline, sinks));
  }
}
