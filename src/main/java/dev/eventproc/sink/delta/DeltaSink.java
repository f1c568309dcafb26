package dev.eventproc.sink.delta;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.BatchContext;
import dev.eventproc.sink.CommitResult;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.SinkType;
import dev.eventproc.sink.SparkTableSink;
import dev.eventproc.sink.WriteMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaConcurrentModificationException;

/**
 * Exactly-once writes to a Delta table. The commit record is Delta's own transaction identifier:
 * every write of batch N carries {@code SetTransaction(appId = writer, version = N)} in the same
 * Delta commit; a batch is committed when the table's transaction version for this writer is at least
 * N. MERGE, tombstones and retries are {@link SparkTableSink}'s.
 *
 * <p>Deletes (upsert with a delete condition) leave tombstones in a sibling Delta table
 * ({@code <table>__tombstones}), committed first with the same transaction id, so a crash between the
 * two commits replays as: tombstones skipped by Delta, target written.
 */
public final class DeltaSink extends SparkTableSink {
  private static final long serialVersionUID = 1L;

  public static final String PATH = "delta.path";
  public static final String TABLE = "delta.table";
  public static final String CREATE = "delta.create";
  public static final boolean CREATE_DEFAULT = true;
  public static final String PARTITION_COLUMNS = "delta.partition.columns";
  public static final String TOMBSTONE_RETENTION = "delta.tombstone.retention";
  public static final Duration TOMBSTONE_RETENTION_DEFAULT = Duration.ofDays(7);
  /** Whether a table eventproc creates has deletion vectors; default: on for the MERGE modes (upsert, history). */
  public static final String DELETION_VECTORS = "delta.deletion.vectors";
  public static final String COMMIT_RETRIES = "delta.commit.retries";
  public static final int COMMIT_RETRIES_DEFAULT = 5;

  static final String DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension";
  /** Spark's session catalog, the only one whose Delta tables the sink reads its record from. */
  static final String SESSION_CATALOG = "spark_catalog";
  private static final TableSettings DEFAULTS = new TableSettings(CREATE_DEFAULT, List.of(), TOMBSTONE_RETENTION_DEFAULT,
      COMMIT_RETRIES_DEFAULT);

  private DeltaSink(SinkSpec spec, DeltaTarget target, TableSettings settings) {
    super(spec, target, settings);
  }

  /** Reads the Delta keys of one sink scope ({@code sink.} or {@code sink.<name>.}). */
  public static DeltaSink fromConfig(SinkSpec spec, ConfigReader scope) {
    String path = scope.path(PATH, null);
    List<String> table = scope.qualifiedName(TABLE);
    String otherCatalog = table == null ? null : otherCatalog(table);
    if (otherCatalog != null) {
      scope.problem(TABLE, catalogMessage(String.join(".", table), otherCatalog, scope.key(PATH)));
      table = null;
    }
    if ((path == null) == (scope.string(TABLE, null) == null) && otherCatalog == null) {
      scope.problem(PATH, "set exactly one of " + scope.key(PATH) + " (a directory or URI) and "
          + scope.key(TABLE) + " (a catalog table such as db.payments).");
    }
    if (path != null && (path.indexOf('`') >= 0 || path.chars().anyMatch(Character::isISOControl))) {
      scope.problem(PATH, "'" + path + "' holds a backtick or a control character. Use a plain path.");
      path = null;
    }
    TableSettings settings = new TableSettings(scope.bool(CREATE, CREATE_DEFAULT), scope.identifiers(PARTITION_COLUMNS),
        scope.duration(TOMBSTONE_RETENTION, TOMBSTONE_RETENTION_DEFAULT), scope.integer(COMMIT_RETRIES, COMMIT_RETRIES_DEFAULT, 0, 100));
    if (spec == null || (path == null && table == null)) {
      return null;
    }
    boolean deletionVectors = scope.bool(DELETION_VECTORS, deletionVectorsByDefault(spec));
    return new DeltaSink(spec, (path != null ? DeltaTarget.atPath(path) : DeltaTarget.named(table)).withDeletionVectors(deletionVectors),
        settings);
  }

  /**
   * Deletion vectors are on by default where eventproc MERGEs changed rows into existing ones (upsert,
   * history): without them each batch copies every file holding one of its keys, which for keys spread
   * over the table is the whole table. Appends and inserts-if-absent change no row and gain nothing.
   */
  static boolean deletionVectorsByDefault(SinkSpec spec) {
    return spec != null && (spec.mode() == WriteMode.UPSERT || spec.mode() == WriteMode.HISTORY);
  }

  /** A Delta sink writing to a table directory (or URI), created on the first batch when absent. */
  public static DeltaSink atPath(SinkSpec spec, String path) {
    Identifiers.quoteSparkPath(path);
    return new DeltaSink(spec, DeltaTarget.atPath(path).withDeletionVectors(deletionVectorsByDefault(spec)), DEFAULTS);
  }

  /** A Delta sink writing to a catalog table such as {@code db.payments}, created when absent. */
  public static DeltaSink forTable(SinkSpec spec, String qualifiedName) {
    List<String> parts = Identifiers.parseQualified(qualifiedName);
    if (parts == null) {
      throw new ConfigException(spec.key(TABLE) + ": '" + qualifiedName + "' is not a table name. " + Identifiers.RULE);
    }
    String catalog = otherCatalog(parts);
    if (catalog != null) {
      throw new ConfigException(spec.key(TABLE) + ": " + catalogMessage(qualifiedName, catalog, spec.key(PATH)));
    }
    return new DeltaSink(spec, DeltaTarget.named(parts).withDeletionVectors(deletionVectorsByDefault(spec)), DEFAULTS);
  }

  /**
   * The catalog of a name that is not in Spark's session catalog, or null. The commit record is read
   * through Delta's log of a session-catalog table ({@code DeltaLog.forTable}); a table of another
   * catalog could be a different table than the one the MERGE writes.
   */
  private static String otherCatalog(List<String> name) {
    if (name.size() <= 2 || (name.size() == 3 && SESSION_CATALOG.equalsIgnoreCase(name.get(0)))) {
      return null;
    }
    return name.get(0);
  }

  private static String catalogMessage(String name, String catalog, String pathKey) {
    return "'" + name + "' names catalog '" + catalog + "': the sink reads its commit record (the Delta log) only for "
        + "tables of Spark's session catalog, so it could read another table than the one it writes. Write db.table (or "
        + SESSION_CATALOG + ".db.table), or give the table's location in " + pathKey + ".";
  }

  /**
   * Commits with Delta's transaction-id confs borrowed from the session: a user's own values are kept
   * out of the sink's writes and restored after; another thread committing through the same session
   * makes this commit fail with a message ({@link TxnConfs}).
   */
  @Override
  protected CommitResult commit(BatchContext batch) {
    return TxnConfs.borrow(batch.session(), name(), () -> super.commit(batch));
  }

  @Override
  protected void checkSession(SparkSession session) {
    String extensions = session.conf().get("spark.sql.extensions", "");
    if (!extensions.contains(DELTA_EXTENSION)) {
      throw new IllegalStateException("sink " + name() + ": the Spark session lacks Delta's SQL extension. Start it with "
          + "spark.sql.extensions=" + DELTA_EXTENSION + " and spark.sql.catalog.spark_catalog="
          + "org.apache.spark.sql.delta.catalog.DeltaCatalog (eventproc run sets both).");
    }
  }

  /** The table's path or catalog name: the Delta log that holds the transaction ids. */
  @Override
  protected Map<String, String> shape() {
    DeltaTarget t = (DeltaTarget) table();
    return shapeOf(SinkType.DELTA, t.isPath() ? PATH : TABLE, t.normalised());
  }

  @Override
  protected boolean isConflict(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof DeltaConcurrentModificationException) {
        return true;
      }
    }
    return false;
  }

  @Override
  protected String createKey() {
    return spec.key(CREATE);
  }
}
