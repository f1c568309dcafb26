package dev.eventproc.sink.iceberg;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.SparkTableSink;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.exceptions.CommitFailedException;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.spark.SparkSQLProperties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Exactly-once writes to an Iceberg table through Spark SQL MERGE. Iceberg has no idempotency
 * primitive for {@code foreachBatch} (apache/iceberg#8809), so the writer and batch go into the
 * summary of the very snapshot that commits the batch; before writing, the sink walks the current
 * snapshot's ancestry for this writer's last batch (stopping at its first snapshot) and skips a batch
 * already there. After an unknown commit state the base class reads the record again before anything
 * is retried (apache/iceberg#14425 shows the duplicate a blind retry makes); a concurrent commit
 * conflict is retried after the same check.
 *
 * <p>Snapshot expiry removes commit records with the snapshots: keep at least the last snapshot of
 * each writer (expire by age, not by count alone), or a replay after expiry writes its batch again.
 */
public final class IcebergSink extends SparkTableSink {
  private static final long serialVersionUID = 1L;

  public static final String TABLE = "iceberg.table";
  public static final String WAREHOUSE = "iceberg.warehouse";
  public static final String CREATE = "iceberg.create";
  public static final boolean CREATE_DEFAULT = true;
  public static final String PARTITION_COLUMNS = "iceberg.partition.columns";
  public static final String MERGE_MODE = "iceberg.merge.mode";
  public static final String TOMBSTONE_RETENTION = "iceberg.tombstone.retention";
  public static final Duration TOMBSTONE_RETENTION_DEFAULT = Duration.ofDays(7);
  /** The branch written, and walked for the commit record; none for main. */
  public static final String BRANCH = "iceberg.branch";
  public static final String COMMIT_RETRIES = "iceberg.commit.retries";
  public static final int COMMIT_RETRIES_DEFAULT = 5;
  static final String EXTENSION = "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions";
  static final String MAIN_BRANCH = "main";
  /** Session settings of Iceberg's write-audit-publish, which send writes where the sink does not look. */
  static final List<String> WAP_SETTINGS = List.of(SparkSQLProperties.WAP_BRANCH, SparkSQLProperties.WAP_ID);

  /** How row-level changes are written, as in {@code iceberg.merge.mode}. */
  public enum MergeMode { COPY_ON_WRITE, MERGE_ON_READ }

  private final String warehouse;

  private IcebergSink(SinkSpec spec, IcebergTable table, String warehouse, TableSettings settings) {
    super(spec, table, settings);
    this.warehouse = warehouse;
  }

  /** Reads the Iceberg keys of one sink scope. */
  public static IcebergSink fromConfig(SinkSpec spec, ConfigReader scope) {
    List<String> name = scope.qualifiedName(TABLE);
    if (!scope.has(TABLE)) {
      scope.problem(TABLE, "is required. Name the table with its catalog: catalog.namespace.table, e.g. lake.sales.payments.");
    } else if (name != null && name.size() < 3) {
      scope.problem(TABLE, "'" + String.join(".", name) + "' has no catalog. Write catalog.namespace.table, e.g. lake.sales.payments.");
      name = null;
    }
    String warehouse = scope.path(WAREHOUSE, null);
    MergeMode mode = scope.choice(MERGE_MODE, MergeMode.class, MergeMode.COPY_ON_WRITE);
    String branch = scope.identifier(BRANCH);
    if (MAIN_BRANCH.equals(branch)) {
      branch = null; // Iceberg's main is the table itself
    }
    TableSettings settings = new TableSettings(scope.bool(CREATE, CREATE_DEFAULT), scope.identifiers(PARTITION_COLUMNS),
        scope.duration(TOMBSTONE_RETENTION, TOMBSTONE_RETENTION_DEFAULT), scope.integer(COMMIT_RETRIES, COMMIT_RETRIES_DEFAULT, 0, 100));
    if (spec == null || name == null) {
      return null;
    }
    return new IcebergSink(spec, new IcebergTable(name, ConfigReader.configName(mode), branch), warehouse, settings);
  }

  /** An Iceberg sink for {@code catalog.namespace.table}; with a warehouse path the catalog is a local Hadoop catalog. */
  public static IcebergSink forTable(SinkSpec spec, String qualifiedName, String warehouse) {
    List<String> parts = Identifiers.parseQualified(qualifiedName);
    if (parts == null || parts.size() < 3) {
      throw new ConfigException(spec.key(TABLE) + ": '" + qualifiedName + "' is not catalog.namespace.table. " + Identifiers.RULE);
    }
    return new IcebergSink(spec, new IcebergTable(parts, "copy-on-write"), warehouse,
        new TableSettings(CREATE_DEFAULT, List.of(), TOMBSTONE_RETENTION_DEFAULT, COMMIT_RETRIES_DEFAULT));
  }

  /** The catalog a table needs: Spark's Iceberg catalog, a Hadoop one at {@code warehouse} when given. */
  public static void registerCatalog(SparkSession session, String catalog, String warehouse) {
    String key = "spark.sql.catalog." + catalog;
    session.conf().set(key, "org.apache.iceberg.spark.SparkCatalog");
    session.conf().set(key + ".type", "hadoop");
    session.conf().set(key + ".warehouse", warehouse);
  }

  /** Makes the table's catalog usable in {@code session} (as a write would), for reading it outside a batch. */
  public void useCatalog(SparkSession session) {
    checkSession(session);
  }

  /**
   * The snapshot ids of the branch this sink writes ({@code iceberg.branch}), from its head back through its
   * parents: the ancestry its commit records are read from. Empty when it writes the main branch (the table's
   * history metadata table gives that ancestry); {@code [-1]} for a branch with no snapshot yet.
   */
  public List<Long> branchLineage(SparkSession session) {
    return ((IcebergTable) table()).branchLineage(session);
  }

  @Override
  protected void checkSession(SparkSession session) {
    if (!session.conf().get("spark.sql.extensions", "").contains(EXTENSION)) {
      throw new IllegalStateException("sink " + name() + ": the Spark session lacks Iceberg's SQL extension. Start it with "
          + "spark.sql.extensions=" + EXTENSION + " (eventproc run adds it when a sink is Iceberg).");
    }
    for (String wap : WAP_SETTINGS) {
      String value = session.conf().get(wap, null);
      if (value != null) {
        throw new IllegalStateException("sink " + name() + ": " + wap + "=" + value + " is set on the Spark session: Iceberg "
            + "would stage or branch the writes away from where the sink looks up its commit record, and a replay would be "
            + "written again. Unset " + wap + " for the stream and set " + spec.key(BRANCH) + " to the branch to write "
            + "(the sink writes it and walks its ancestry); publish from that branch as usual.");
      }
    }
    String catalog = ((IcebergTable) table()).catalog();
    String key = "spark.sql.catalog." + catalog;
    if (warehouse != null && !warehouse.equals(session.conf().get(key + ".warehouse", null))) {
      registerCatalog(session, catalog, warehouse);
    } else if (!session.conf().contains(key)) {
      throw new IllegalStateException("sink " + name() + ": catalog '" + catalog + "' of " + spec.key(TABLE) + " is not configured. "
          + "Set spark.sql.catalog." + catalog + "=org.apache.iceberg.spark.SparkCatalog with its type and warehouse, or "
          + spec.key(WAREHOUSE) + "=/path for a local Hadoop catalog.");
    }
  }

  /** The table whose snapshot summaries hold the records. */
  @Override
  protected Map<String, String> shape() {
    IcebergTable t = (IcebergTable) table();
    return shapeOf(SinkType.ICEBERG, TABLE, t.dotted(), BRANCH, t.branch());
  }

  @Override
  protected boolean isConflict(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof CommitFailedException || t instanceof ValidationException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Iceberg rewrites an insert-only MERGE into a plain append, which no concurrent commit fails, so two
   * attempts of one writer could both insert the batch: append the absent keys as a validated commit.
   */
  @Override
  protected CommitResult insertIfAbsent(BatchContext batch, Dataset<Row> firstPerKey) {
    return ((IcebergTable) table()).insertAbsent(firstPerKey, spec.keyColumns(), batch.writer(), batch.batchId());
  }

  @Override
  protected String createKey() {
    return spec.key(CREATE);
  }
}
