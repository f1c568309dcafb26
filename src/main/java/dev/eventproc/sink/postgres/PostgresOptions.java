package dev.eventproc.sink.postgres;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import java.io.Serializable;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;

/**
 * Connection and table settings of a Postgres sink: the {@code postgres.*} keys of a sink scope.
 * Immutable and serializable (executors open their own connections with it). The password is held
 * only here and never printed: {@link #toString()} and {@link #describe()} leave it out.
 */
public final class PostgresOptions implements Serializable {
  private static final long serialVersionUID = 1L;

  public static final String URL = "postgres.url";
  public static final String USER = "postgres.user";
  public static final String PASSWORD = "postgres.password";
  public static final String SSLMODE = "postgres.sslmode";
  public static final String SCHEMA = "postgres.schema";
  public static final String SCHEMA_DEFAULT = "public";
  public static final String TABLE = "postgres.table";
  public static final String CREATE_TABLES = "postgres.create.tables";
  public static final boolean CREATE_TABLES_DEFAULT = true;
  public static final String LEDGER_TABLE = "postgres.ledger.table";
  public static final String LEDGER_TABLE_DEFAULT = "eventproc_ledger";
  public static final String COMMIT = "postgres.commit";
  /** The slice count of the partition shape (the key keeps its first name). */
  public static final String PARTITIONS = "postgres.partitions";
  public static final int PARTITIONS_DEFAULT = 2;
  public static final String POOL_SIZE = "postgres.pool.size";
  /** Default pool: the writer lock's connection, plus one per slice applied in parallel in the partition shape. */
  public static final int POOL_SIZE_DEFAULT = 2;
  public static final String DIRECT_MAX_ROWS = "postgres.direct.max.rows";
  public static final long DIRECT_MAX_ROWS_DEFAULT = 2_000_000L;
  /** Spark partitions of a direct-path batch computed ahead of the one the driver sends (each held compressed on the driver). */
  public static final String DIRECT_PREFETCH = "postgres.direct.prefetch";
  public static final int DIRECT_PREFETCH_DEFAULT = 1;
  public static final int DIRECT_PREFETCH_MAX = 8;
  public static final String FILLFACTOR = "postgres.fillfactor";
  public static final int FILLFACTOR_UPSERT_DEFAULT = 80;
  public static final String LOCK_TIMEOUT = "postgres.lock.timeout";
  public static final Duration LOCK_TIMEOUT_DEFAULT = Duration.ofMinutes(5);
  /** How long a staging task waits for a lock (held by a lost earlier attempt of the task) before it fails and Spark retries it. */
  public static final String TASK_LOCK_TIMEOUT = "postgres.task.lock.timeout";
  public static final Duration TASK_LOCK_TIMEOUT_DEFAULT = Duration.ofMinutes(2);
  public static final String CONNECT_TIMEOUT = "postgres.connect.timeout";
  public static final Duration CONNECT_TIMEOUT_DEFAULT = Duration.ofSeconds(10);
  public static final String TOMBSTONE_RETENTION = "postgres.tombstone.retention";
  public static final Duration TOMBSTONE_RETENTION_DEFAULT = Duration.ofDays(7);

  /** How a batch is committed, as written in {@code postgres.commit}. */
  public enum CommitShape {
    /**
     * Executors COPY the batch into a staging table; the driver applies it in ONE transaction with
     * its ledger row. Readers see a batch all at once or not at all.
     */
    BATCH,
    /**
     * Executors COPY the batch into a staging table, each row with a slice: a hash of its key modulo
     * a fixed number of slices ({@code postgres.partitions}). The driver applies each slice in its own
     * transaction with its own ledger row, in parallel on pooled connections. Readers may see some
     * slices of a batch before others. (The config value keeps the name {@code partition}.)
     */
    PARTITION
  }

  /** {@code sslmode} values pgjdbc accepts. */
  enum SslMode { DISABLE, ALLOW, PREFER, REQUIRE, VERIFY_CA, VERIFY_FULL }

  private final String url;
  private final String user;
  private final String password;
  private final String sslmode;
  private final String schema;
  private final String table;
  private final boolean createTables;
  private final String ledgerTable;
  private final CommitShape commit;
  private final int slices;
  private final int poolSize;
  private final Duration connectTimeout;
  private final Duration tombstoneRetention;
  private final Duration lockTimeout;
  private final Duration taskLockTimeout;
  private final long directMaxRows;
  private final int directPrefetch;
  private final Integer fillfactor;
  private final String keyPrefix;

  PostgresOptions(PostgresOptionsBuilder b) {
    this.url = b.url;
    this.user = b.user;
    this.password = b.password;
    this.sslmode = b.sslmode;
    this.schema = b.schema;
    this.table = b.table;
    this.createTables = b.createTables;
    this.ledgerTable = b.ledgerTable;
    this.commit = b.commit;
    this.slices = b.slices;
    this.poolSize = b.poolSize;
    this.connectTimeout = b.connectTimeout;
    this.tombstoneRetention = b.tombstoneRetention;
    this.lockTimeout = b.lockTimeout;
    this.taskLockTimeout = b.taskLockTimeout;
    this.directMaxRows = b.directMaxRows;
    this.directPrefetch = b.directPrefetch;
    this.fillfactor = b.fillfactor;
    this.keyPrefix = b.keyPrefix;
  }

  /** Reads the {@code postgres.*} keys of a sink scope; problems go to the reader. Null when invalid. */
  public static PostgresOptions read(ConfigReader scope) {
    return PostgresOptionsReader.read(scope);
  }

  public static PostgresOptionsBuilder builder() {
    return new PostgresOptionsBuilder();
  }

  /** JDBC connection properties: user, password, sslmode, timeouts, application name. */
  Properties connectionProperties(String applicationName) {
    Properties p = new Properties();
    if (user != null) {
      p.setProperty("user", user);
    }
    if (password != null) {
      p.setProperty("password", password);
    }
    if (sslmode != null) {
      p.setProperty("sslmode", sslmode);
    }
    p.setProperty("connectTimeout", String.valueOf(Math.max(1, connectTimeout.toSeconds())));
    p.setProperty("tcpKeepAlive", "true");
    p.setProperty("ApplicationName", applicationName);
    return p;
  }

  public String url() {
    return url;
  }

  /** The user, or null for the driver's default. */
  public String user() {
    return user;
  }

  boolean hasPassword() {
    return password != null;
  }

  String password() {
    return password;
  }

  public String schema() {
    return schema;
  }

  public String table() {
    return table;
  }

  public boolean createTables() {
    return createTables;
  }

  public String ledgerTable() {
    return ledgerTable;
  }

  public CommitShape commit() {
    return commit;
  }

  /** The key-hash slices of the partition shape ({@code postgres.partitions}). */
  public int slices() {
    return slices;
  }

  /**
   * The slice count, named after its config key.
   *
   * @deprecated the key-hash parts are called slices in code; use {@link #slices()}
   */
  @Deprecated
  public int partitions() {
    return slices;
  }

  public int poolSize() {
    return poolSize;
  }

  public Duration connectTimeout() {
    return connectTimeout;
  }

  public Duration tombstoneRetention() {
    return tombstoneRetention;
  }

  /** Batches up to this many rows may take the direct COPY path (rows pass through the driver); 0 turns it off. */
  public long directMaxRows() {
    return directMaxRows;
  }

  /**
   * On the direct path, how many Spark partitions of the batch (one job each) are computed ahead of the one the
   * driver sends: 0 runs them one after another; each one ahead costs the driver that partition's rows, compressed.
   */
  public int directPrefetch() {
    return directPrefetch;
  }

  /** The fillfactor of a target the sink creates, or null for the mode's default. */
  public Integer fillfactor() {
    return fillfactor;
  }

  /** How long a writer waits for another attempt of itself (same sink name) to finish a batch. */
  public Duration lockTimeout() {
    return lockTimeout;
  }

  /** How long a staging task waits for a lock held by another session before it fails (and Spark retries it). */
  public Duration taskLockTimeout() {
    return taskLockTimeout;
  }

  /** The full config key of an option, for messages. */
  String key(String option) {
    return keyPrefix + option;
  }

  /** Where it connects, for messages: URL (password masked), user, table. Never the password. */
  public String describe() {
    return EventprocConfig.maskUrlPassword(url) + (user == null ? "" : " as " + user) + ", table " + schema + "." + table;
  }

  @Override
  public String toString() {
    return "PostgresOptions{" + describe() + ", commit=" + commit.name().toLowerCase(Locale.ROOT) + "}";
  }
}
