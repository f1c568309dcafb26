package dev.eventproc.sink.postgres;

import static dev.eventproc.sink.postgres.PostgresOptions.CONNECT_TIMEOUT_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.CREATE_TABLES_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_MAX_ROWS_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_PREFETCH;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_PREFETCH_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_PREFETCH_MAX;
import static dev.eventproc.sink.postgres.PostgresOptions.LEDGER_TABLE;
import static dev.eventproc.sink.postgres.PostgresOptions.LEDGER_TABLE_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.LOCK_TIMEOUT_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.PARTITIONS;
import static dev.eventproc.sink.postgres.PostgresOptions.PARTITIONS_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.POOL_SIZE_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.SCHEMA;
import static dev.eventproc.sink.postgres.PostgresOptions.SCHEMA_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.TABLE;
import static dev.eventproc.sink.postgres.PostgresOptions.TASK_LOCK_TIMEOUT;
import static dev.eventproc.sink.postgres.PostgresOptions.TASK_LOCK_TIMEOUT_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.TOMBSTONE_RETENTION_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.URL;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import java.time.Duration;

/** Fluent construction of {@link PostgresOptions} from code ({@link PostgresOptions#builder()}). */
public final class PostgresOptionsBuilder {
  String url;
  String user;
  String password;
  String sslmode;
  String schema = SCHEMA_DEFAULT;
  String table;
  boolean createTables = CREATE_TABLES_DEFAULT;
  String ledgerTable = LEDGER_TABLE_DEFAULT;
  CommitShape commit = CommitShape.BATCH;
  int slices = PARTITIONS_DEFAULT;
  int poolSize = POOL_SIZE_DEFAULT;
  Duration connectTimeout = CONNECT_TIMEOUT_DEFAULT;
  Duration tombstoneRetention = TOMBSTONE_RETENTION_DEFAULT;
  Duration lockTimeout = LOCK_TIMEOUT_DEFAULT;
  Duration taskLockTimeout = TASK_LOCK_TIMEOUT_DEFAULT;
  long directMaxRows = DIRECT_MAX_ROWS_DEFAULT;
  int directPrefetch = DIRECT_PREFETCH_DEFAULT;
  Integer fillfactor;
  Integer explicitPoolSize;
  String keyPrefix = "sink.";

  public PostgresOptionsBuilder url(String url) {
    this.url = url;
    return this;
  }

  public PostgresOptionsBuilder user(String user) {
    this.user = user;
    return this;
  }

  public PostgresOptionsBuilder password(String password) {
    this.password = password;
    return this;
  }

  public PostgresOptionsBuilder schema(String schema) {
    this.schema = Identifiers.requirePlain(keyPrefix + SCHEMA, schema);
    return this;
  }

  public PostgresOptionsBuilder table(String table) {
    this.table = Identifiers.requirePlain(keyPrefix + TABLE, table);
    return this;
  }

  public PostgresOptionsBuilder createTables(boolean create) {
    this.createTables = create;
    return this;
  }

  public PostgresOptionsBuilder ledgerTable(String table) {
    this.ledgerTable = Identifiers.requirePlain(keyPrefix + LEDGER_TABLE, table);
    return this;
  }

  public PostgresOptionsBuilder commit(CommitShape shape) {
    this.commit = shape;
    return this;
  }

  public PostgresOptionsBuilder poolSize(int n) {
    this.explicitPoolSize = n;
    return this;
  }

  public PostgresOptionsBuilder directMaxRows(long rows) {
    this.directMaxRows = rows;
    return this;
  }

  /**
   * Spark partitions of a direct-path batch computed ahead of the one the driver sends, 0 to
   * {@value PostgresOptions#DIRECT_PREFETCH_MAX} ({@code postgres.direct.prefetch}); see {@link PostgresOptions#directPrefetch()}.
   */
  public PostgresOptionsBuilder directPrefetch(int partitions) {
    if (partitions < 0 || partitions > DIRECT_PREFETCH_MAX) {
      throw new ConfigException(keyPrefix + DIRECT_PREFETCH + ": '" + partitions + "' is out of range. Use 0 (one partition "
          + "after another) to " + DIRECT_PREFETCH_MAX + ".");
    }
    this.directPrefetch = partitions;
    return this;
  }

  public PostgresOptionsBuilder fillfactor(int percent) {
    this.fillfactor = percent;
    return this;
  }

  public PostgresOptionsBuilder lockTimeout(Duration timeout) {
    this.lockTimeout = timeout;
    return this;
  }

  /** How long a staging task waits for a lock before it fails and Spark retries it; positive. */
  public PostgresOptionsBuilder taskLockTimeout(Duration timeout) {
    if (timeout.toMillis() < 1) {
      throw new ConfigException(keyPrefix + TASK_LOCK_TIMEOUT + ": '" + timeout + "' is too short: staging tasks would wait "
          + "without limit. Give a positive duration such as 2 minutes.");
    }
    this.taskLockTimeout = timeout;
    return this;
  }

  /** The key-hash slices of the partition shape, 1 to 1024 ({@code postgres.partitions}). */
  public PostgresOptionsBuilder slices(int n) {
    if (n < 1 || n > 1024) {
      throw new ConfigException(keyPrefix + PARTITIONS + ": '" + n + "' is out of range. Use 1 to 1024.");
    }
    this.slices = n;
    return this;
  }

  /**
   * Sets the slice count, named after its config key.
   *
   * @deprecated the key-hash parts are called slices in code; use {@link #slices(int)}
   */
  @Deprecated
  public PostgresOptionsBuilder partitions(int n) {
    return slices(n);
  }

  public PostgresOptions build() {
    poolSize = explicitPoolSize != null ? explicitPoolSize : commit == CommitShape.PARTITION ? slices + 1 : POOL_SIZE_DEFAULT;
    if (url == null || !url.startsWith("jdbc:postgresql://") || table == null) {
      throw new ConfigException(keyPrefix + URL + " and " + keyPrefix + TABLE
          + " are required; the URL looks like jdbc:postgresql://HOST:PORT/DATABASE.");
    }
    return new PostgresOptions(this);
  }
}
