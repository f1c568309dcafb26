package dev.eventproc.sink.postgres;

import static dev.eventproc.sink.postgres.PostgresOptions.COMMIT;
import static dev.eventproc.sink.postgres.PostgresOptions.CONNECT_TIMEOUT;
import static dev.eventproc.sink.postgres.PostgresOptions.CONNECT_TIMEOUT_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.CREATE_TABLES;
import static dev.eventproc.sink.postgres.PostgresOptions.CREATE_TABLES_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_MAX_ROWS;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_MAX_ROWS_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_PREFETCH;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_PREFETCH_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.DIRECT_PREFETCH_MAX;
import static dev.eventproc.sink.postgres.PostgresOptions.FILLFACTOR;
import static dev.eventproc.sink.postgres.PostgresOptions.LEDGER_TABLE;
import static dev.eventproc.sink.postgres.PostgresOptions.LEDGER_TABLE_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.LOCK_TIMEOUT;
import static dev.eventproc.sink.postgres.PostgresOptions.LOCK_TIMEOUT_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.PARTITIONS;
import static dev.eventproc.sink.postgres.PostgresOptions.PARTITIONS_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.PASSWORD;
import static dev.eventproc.sink.postgres.PostgresOptions.POOL_SIZE;
import static dev.eventproc.sink.postgres.PostgresOptions.POOL_SIZE_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.SCHEMA;
import static dev.eventproc.sink.postgres.PostgresOptions.SCHEMA_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.SSLMODE;
import static dev.eventproc.sink.postgres.PostgresOptions.TABLE;
import static dev.eventproc.sink.postgres.PostgresOptions.TASK_LOCK_TIMEOUT;
import static dev.eventproc.sink.postgres.PostgresOptions.TASK_LOCK_TIMEOUT_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.TOMBSTONE_RETENTION;
import static dev.eventproc.sink.postgres.PostgresOptions.TOMBSTONE_RETENTION_DEFAULT;
import static dev.eventproc.sink.postgres.PostgresOptions.URL;
import static dev.eventproc.sink.postgres.PostgresOptions.USER;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.EventprocConfig;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.sink.postgres.PostgresOptions.SslMode;

/** Reads and checks the {@code postgres.*} keys of a sink scope into {@link PostgresOptions}. */
final class PostgresOptionsReader {
  private PostgresOptionsReader() {}

  static PostgresOptions read(ConfigReader scope) {
    PostgresOptionsBuilder b = PostgresOptions.builder();
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
    b.directPrefetch = scope.integer(DIRECT_PREFETCH, DIRECT_PREFETCH_DEFAULT, 0, DIRECT_PREFETCH_MAX);
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
}
