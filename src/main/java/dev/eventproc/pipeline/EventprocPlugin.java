package dev.eventproc.pipeline;

import com.codahale.metrics.Gauge;
import com.codahale.metrics.MetricRegistry;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.api.plugin.DriverPlugin;
import org.apache.spark.api.plugin.ExecutorPlugin;
import org.apache.spark.api.plugin.PluginContext;
import org.apache.spark.api.plugin.SparkPlugin;

/**
 * The Spark plugin ({@code spark.plugins}) that gives eventproc a metric registry in Spark's metrics
 * system, next to Spark's own sources: whatever sinks {@code spark.metrics.conf.*} configures
 * (the {@code PrometheusServlet}, JMX, Graphite, ...) report it. Driver side only; pipelines add their
 * metrics when they start ({@link PipelineMetrics}). Enable it with {@link SparkMetrics#enable}, or
 * {@code metrics.spark=true} in {@code eventproc run}.
 */
public final class EventprocPlugin implements SparkPlugin {
  /**
   * The driver plugin's registry of each running application, by application id: Spark creates the
   * plugin, so a pipeline finds its registry here. One entry per SparkContext; removed at shutdown.
   */
  private static final Map<String, MetricRegistry> REGISTRIES = new ConcurrentHashMap<>();

  @Override
  public DriverPlugin driverPlugin() {
    return new Driver();
  }

  @Override
  public ExecutorPlugin executorPlugin() {
    return null;
  }

  /** The registry of the application, or null when the plugin is not enabled for it. */
  static MetricRegistry registry(String applicationId) {
    return REGISTRIES.get(applicationId);
  }

  /** Pipelines with metrics in the registry. */
  private static long pipelines(MetricRegistry registry) {
    return registry.getNames().stream().filter(n -> n.endsWith("." + PipelineMetrics.BATCHES)).count();
  }

  /** Keeps the plugin's registry while its SparkContext lives. */
  private static final class Driver implements DriverPlugin {
    private String applicationId;

    @Override
    public void registerMetrics(String appId, PluginContext context) {
      applicationId = appId;
      MetricRegistry registry = context.metricRegistry();
      // Spark adds the plugin's registry to its metrics system only when it holds a metric at this point;
      // pipelines add theirs later, and the metrics system follows a registry's later additions.
      registry.register(PipelineMetrics.PREFIX + ".pipelines", (Gauge<Long>) () -> pipelines(registry));
      REGISTRIES.put(appId, registry);
    }

    @Override
    public void shutdown() {
      if (applicationId != null) {
        REGISTRIES.remove(applicationId);
      }
    }
  }
}
