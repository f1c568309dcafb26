package dev.eventproc.stage;

import dev.eventproc.config.ConfigReader;
import java.io.Serializable;
import java.time.Duration;

/**
 * The streaming stage between source and sink: the {@code stage.*} keys.
 *
 * <p>{@code stage.type}: {@code none} (events go to the sink as parsed) or {@code dedupe-first-seen}
 * (drop duplicates of a key within the watermark). {@code stage.watermark.delay}: how late an event
 * may arrive, relative to the newest event time seen, and still count (default 10 minutes).
 */
public final class StageOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String TYPE = "stage.type";
  public static final String WATERMARK_DELAY = "stage.watermark.delay";
  public static final Duration WATERMARK_DELAY_DEFAULT = Duration.ofMinutes(10);

  /** The stages, as written in {@code stage.type}. */
  public enum Type { NONE, DEDUPE_FIRST_SEEN }

  private final Type type;
  private final Duration watermarkDelay;

  private StageOptions(Type type, Duration watermarkDelay) {
    this.type = type;
    this.watermarkDelay = watermarkDelay;
  }

  /** Reads the {@code stage.*} keys, checking them against the source. */
  public static StageOptions read(ConfigReader r, SourceOptions source) {
    Type type = r.choice(TYPE, Type.class, Type.NONE);
    Duration delay = r.duration(WATERMARK_DELAY, WATERMARK_DELAY_DEFAULT);
    if (type != Type.NONE && source != null && source.eventTimeColumn() == null) {
      r.problem(TYPE, ConfigReader.configName(type) + " needs an event time for its watermark. Set "
          + SourceOptions.EVENT_TIME_COLUMN + " to a TIMESTAMP column of source.schema.");
    }
    return new StageOptions(type, delay);
  }

  public Type type() {
    return type;
  }

  public Duration watermarkDelay() {
    return watermarkDelay;
  }
}
