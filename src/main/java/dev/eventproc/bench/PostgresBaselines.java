package dev.eventproc.bench;

import dev.eventproc.util.Jdbc;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Properties;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * What a competent user writes by hand for the Postgres case, tuned as they would tune it: Spark's
 * JDBC writer with pgjdbc's {@code reWriteBatchedInserts=true} and large batches, an upsert through
 * an unlogged staging table and one {@code INSERT ... ON CONFLICT DO UPDATE} (the usual
 * {@code foreachBatch} upsert, at-least-once), and a raw binary COPY of rows already in memory.
 */
final class PostgresBaselines {
  /** Rows per JDBC batch of the tuned writer (Spark's default is 1000). */
  static final int JDBC_BATCH = 10_000;
  static final String JDBC_SETTINGS = "reWriteBatchedInserts=true, batchsize " + JDBC_BATCH;
  private static final String COLUMNS = "id, account_id, amount, currency, version, op, event_time";

  private final PostgresBench.Settings settings;
  private final String table;
  private final String staging;

  PostgresBaselines(PostgresBench.Settings settings, String table) {
    this.settings = settings;
    this.table = settings.schema() + "." + table;
    this.staging = settings.schema() + "." + table + "_stage";
  }

  String table() {
    return table;
  }

  /** The upsert's staging table, created before any timing as a user's deployment would have it. */
  void createStaging() throws SQLException {
    try (Connection c = connect()) {
      exec(c, "DROP TABLE IF EXISTS " + staging);
      exec(c, "CREATE UNLOGGED TABLE " + staging + " (LIKE " + table + " INCLUDING DEFAULTS)");
    }
  }

  /** Spark's JDBC writer, tuned, appending to the table. */
  void jdbcInsert(Dataset<Row> rows) {
    rows.write().mode(SaveMode.Append).option("batchsize", String.valueOf(JDBC_BATCH)).jdbc(tunedUrl(), table, properties());
  }

  /** The hand-written upsert: the batch into staging with the tuned JDBC writer, then one set-based upsert, newer versions win. */
  void jdbcUpsert(Dataset<Row> rows) throws SQLException {
    try (Connection c = connect()) {
      exec(c, "TRUNCATE " + staging);
    }
    rows.write().mode(SaveMode.Append).option("batchsize", String.valueOf(JDBC_BATCH)).jdbc(tunedUrl(), staging, properties());
    try (Connection c = connect()) {
      exec(c, "INSERT INTO " + table + " AS t (" + COLUMNS + ") SELECT " + COLUMNS + " FROM " + staging
          + " ON CONFLICT (id) DO UPDATE SET account_id = EXCLUDED.account_id, amount = EXCLUDED.amount, "
          + "currency = EXCLUDED.currency, version = EXCLUDED.version, op = EXCLUDED.op, event_time = EXCLUDED.event_time "
          + "WHERE t.version < EXCLUDED.version");
    }
  }

  /** One connection, binary COPY of rows already collected on the driver. */
  void binaryCopy(List<Row> prepared) throws SQLException, IOException {
    try (Connection c = connect()) {
      c.setAutoCommit(false);
      CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + table + " (" + COLUMNS + ") FROM STDIN (FORMAT binary)");
      BinaryCopyRows encoder = new BinaryCopyRows();
      for (Row r : prepared) {
        encoder.add(r);
        if (encoder.size() > (1 << 16)) {
          byte[] b = encoder.drain();
          in.writeToCopy(b, 0, b.length);
        }
      }
      byte[] b = encoder.trailer();
      in.writeToCopy(b, 0, b.length);
      in.endCopy();
      c.commit();
    }
  }

  /** The URL the tuned writer uses: the given one with {@code reWriteBatchedInserts=true} unless it says otherwise. */
  String tunedUrl() {
    return tuned(settings.url());
  }

  /** {@code url} with {@code reWriteBatchedInserts=true} unless it says otherwise. */
  static String tuned(String url) {
    if (url.contains("reWriteBatchedInserts")) {
      return url;
    }
    return url + (url.contains("?") ? "&" : "?") + "reWriteBatchedInserts=true";
  }

  Connection connect() throws SQLException {
    return Jdbc.connect(settings.url(), settings.user(), settings.password());
  }

  private Properties properties() {
    return Jdbc.properties(settings.user(), settings.password());
  }

  static void exec(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }
}
