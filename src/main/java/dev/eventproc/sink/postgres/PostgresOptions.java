package dev.eventproc.sink.postgres;

import dev.eventproc.config.ConfigException;
import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.config.Identifiers;
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
  private final Integer fillfactor;
  private final String keyPrefix;

  private PostgresOptions(Builder b) {
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
    this.fillfactor = b.fillfactor;
    this.keyPrefix = b.keyPrefix;
  }

  /** Reads the {@code postgres.*} keys of a sink scope; problems go to the reader. Null when invalid. */
  public static PostgresOptions read(ConfigReader scope) {
    Builder b = builder();
    b.keyPrefix = scope.key("");
    b.url = scope.required(URL, "Give a JDBC URL such as jdbc:postgresql://db.example.com:5432/analytics.");
    if (b.url != null && !b.url.startsWith("jdbc:postgresql://")) {
      scope.problem(URL, "'" + EventprocConfig.maskUrlPassword(b.url) + "' is not a PostgreSQL JDBC URL. "
          + "Write it as jdbc:postgresql://HOST:PORT/DATABASE.");
    } else if (b.url != null && PgUrl.problem(b.url) != null) {
      scope.problem(URL, "pgjdbc cannot parse the URL: " + PgUrl.problem(b.url)); // pgjdbc's own error would quote it whole
    }
    b.user = scope.string(USER, null);
    b.password = scope.string(PASSWORD, null);
    SslMode ssl = scope.choice(SSLMODE, SslMode.class, null);
    b.sslmode = ssl == null ? null : ConfigReader.configName(ssl);
    b.schema = scope.identifier(SCHEMA);
    if (b.schema == null) {
      b.schema = SCHEMA_DEFAULT;
    }
    b.table = scope.identifier(TABLE);
    if (!scope.has(TABLE)) {
      scope.problem(TABLE, "is required. Name the target table (a plain name; the schema goes in "
          + scope.key(SCHEMA) + ").");
    }
    b.createTables = scope.bool(CREATE_TABLES, CREATE_TABLES_DEFAULT);
    String ledger = scope.identifier(LEDGER_TABLE);
    b.ledgerTable = ledger == null ? LEDGER_TABLE_DEFAULT : ledger;
    b.commit = scope.choice(COMMIT, CommitShape.class, CommitShape.BATCH);
    b.slices = scope.integer(PARTITIONS, PARTITIONS_DEFAULT, 1, 1024);
    if (b.commit != CommitShape.PARTITION && scope.has(PARTITIONS)) {
      scope.problem(PARTITIONS, "is only used with " + scope.key(COMMIT) + "=partition. Remove it.");
    }
    b.poolSize = scope.integer(POOL_SIZE, b.commit == CommitShape.PARTITION ? b.slices + 1 : POOL_SIZE_DEFAULT, 2, 256);
    b.lockTimeout = scope.duration(LOCK_TIMEOUT, LOCK_TIMEOUT_DEFAULT);
    b.taskLockTimeout = scope.duration(TASK_LOCK_TIMEOUT, TASK_LOCK_TIMEOUT_DEFAULT);
    if (b.taskLockTimeout.toMillis() < 1) {
      scope.problem(TASK_LOCK_TIMEOUT, "'" + scope.string(TASK_LOCK_TIMEOUT, "") + "' is too short: staging tasks would wait "
          + "without limit. Give a positive duration such as 2 minutes.");
      b.taskLockTimeout = TASK_LOCK_TIMEOUT_DEFAULT;
    }
    b.directMaxRows = scope.longValue(DIRECT_MAX_ROWS, DIRECT_MAX_ROWS_DEFAULT, 0, Long.MAX_VALUE);
    if (scope.has(FILLFACTOR)) {
      b.fillfactor = scope.integer(FILLFACTOR, 100, 10, 100);
    }
    b.connectTimeout = scope.duration(CONNECT_TIMEOUT, CONNECT_TIMEOUT_DEFAULT);
    b.tombstoneRetention = scope.duration(TOMBSTONE_RETENTION, TOMBSTONE_RETENTION_DEFAULT);
    for (String derived : new String[] {b.table == null ? null : b.table + PostgresTables.TOMBSTONE_SUFFIX}) {
      if (derived != null && derived.length() > PostgresTables.MAX_IDENTIFIER) {
        scope.problem(TABLE, "'" + b.table + "' is too long: the tombstone table " + derived + " would exceed PostgreSQL's "
            + PostgresTables.MAX_IDENTIFIER + " characters. Use a shorter name.");
      }
    }
    return b.url == null || b.table == null ? null : new PostgresOptions(b);
  }

  public static Builder builder() {
    return new Builder();
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

  /** Fluent construction from code. */
  public static final class Builder {
    private String url;
    private String user;
    private String password;
    private String sslmode;
    private String schema = SCHEMA_DEFAULT;
    private String table;
    private boolean createTables = CREATE_TABLES_DEFAULT;
    private String ledgerTable = LEDGER_TABLE_DEFAULT;
    private CommitShape commit = CommitShape.BATCH;
    private int slices = PARTITIONS_DEFAULT;
    private int poolSize = POOL_SIZE_DEFAULT;
    private Duration connectTimeout = CONNECT_TIMEOUT_DEFAULT;
    private Duration tombstoneRetention = TOMBSTONE_RETENTION_DEFAULT;
    private Duration lockTimeout = LOCK_TIMEOUT_DEFAULT;
    private Duration taskLockTimeout = TASK_LOCK_TIMEOUT_DEFAULT;
    private long directMaxRows = DIRECT_MAX_ROWS_DEFAULT;
    private Integer fillfactor;
    private Integer explicitPoolSize;
    private String keyPrefix = "sink.";

    public Builder url(String url) {
      this.url = url;
      return this;
    }

    public Builder user(String user) {
      this.user = user;
      return this;
    }

    public Builder password(String password) {
      this.password = password;
      return this;
    }

    public Builder schema(String schema) {
      this.schema = Identifiers.requirePlain(keyPrefix + SCHEMA, schema);
      return this;
    }

    public Builder table(String table) {
      this.table = Identifiers.requirePlain(keyPrefix + TABLE, table);
      return this;
    }

    public Builder createTables(boolean create) {
      this.createTables = create;
      return this;
    }

    public Builder ledgerTable(String table) {
      this.ledgerTable = Identifiers.requirePlain(keyPrefix + LEDGER_TABLE, table);
      return this;
    }

    public Builder commit(CommitShape shape) {
      this.commit = shape;
      return this;
    }

    public Builder poolSize(int n) {
      this.explicitPoolSize = n;
      return this;
    }

    public Builder directMaxRows(long rows) {
      this.directMaxRows = rows;
      return this;
    }

    public Builder fillfactor(int percent) {
      this.fillfactor = percent;
      return this;
    }

    public Builder lockTimeout(Duration timeout) {
      this.lockTimeout = timeout;
      return this;
    }

    /** How long a staging task waits for a lock before it fails and Spark retries it; positive. */
    public Builder taskLockTimeout(Duration timeout) {
      if (timeout.toMillis() < 1) {
        throw new ConfigException(keyPrefix + TASK_LOCK_TIMEOUT + ": '" + timeout + "' is too short: staging tasks would wait "
            + "without limit. Give a positive duration such as 2 minutes.");
      }
      this.taskLockTimeout = timeout;
      return this;
    }

    /** The key-hash slices of the partition shape, 1 to 1024 ({@code postgres.partitions}). */
    public Builder slices(int n) {
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
    public Builder partitions(int n) {
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
}
