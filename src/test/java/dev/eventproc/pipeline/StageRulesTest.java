package dev.eventproc.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.PipelineConfigTest;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The stage's config rules that keep surprising input from being dropped without a trace (issue 21). */
class StageRulesTest {

  private static PipelineConfig config(Map<String, String> c) {
    return PipelineConfig.from(EventprocConfig.of(c));
  }

  @Test
  void aFutureSkewAboveTheWatermarkDelayIsRefusedWithItsConsequence() {
    Map<String, String> c = PipelineConfigTest.valid();
    c.put("source.max.future.skew", "1 hour");
    assertThatThrownBy(() -> config(c)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("source.max.future.skew: 1.0 h is more than stage.watermark.delay (10.0 min)")
        .hasMessageContaining("dropped as late");
    c.put("source.max.future.skew", "10 minutes");
    assertThat(config(c).source().maxFutureSkew()).hasMinutes(10);
    c.remove("source.max.future.skew");
    assertThat(config(c).source().maxFutureSkew()).as("the default is below the default delay").hasMinutes(1);
  }
}
