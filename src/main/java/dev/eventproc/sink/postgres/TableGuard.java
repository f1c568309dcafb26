package dev.eventproc.sink.postgres;

import dev.eventproc.config.ConfigReader;
import dev.eventproc.config.Identifiers;
import dev.eventproc.sink.HistoryMode;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes sure the sink's tables are there before a batch: creates the missing ones (or says which DDL
 * to run when the sink may not), evolves the target to a batch with new or widened columns
 * ({@link PgEvolution}), rebuilds staging when its columns no longer match the batch, and checks an
 * existing target once per batch schema.
 */
final class TableGuard implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(TableGuard.class);

  private final SinkSpec spec;
  private final PostgresOptions options;
  private final PostgresTables tables;
  private final DriverPool pool;
  private final PgSql sql;
  private transient volatile StructType readySchema;

  TableGuard(SinkSpec spec, PostgresOptions options, PostgresTables tables, DriverPool pool) {
    this.spec = spec;
    this.options = options;
    this.tables = tables;
    this.pool = pool;
    this.sql = new PgSql(tables, spec);
  }

  /**
   * Creates missing tables (or explains which DDL to run), and checks an existing target once per schema;
   * returns whether it evolved the target (added or widened columns, committed).
   */
  boolean ensure(StructType schema) {
    if (schema.equals(readySchema)) {
      return false;
    }
    boolean evolved = pool.run("prepare its tables", c -> {
      try (PreparedStatement lock = c.prepareStatement(PgSql.XACT_LOCK)) {
        lock.setLong(1, PgConnections.lockKey("eventproc-ddl:" + tables.schema));
        lock.execute();
      }
      create(c, tables.ledger, tables.ledgerDdl(), "sql/postgres/ledger.sql (psql -v schema=" + tables.schema
          + " -v ledger=" + tables.ledger + " -f sql/postgres/ledger.sql)");
      create(c, tables.table, tables.targetDdl(schema, spec, options.fillfactor()), null);
      boolean changed = checkTarget(c, schema);
      if (spec.deleteCondition() != null) {
        create(c, tables.tombstones, tables.tombstonesDdl(schema, spec), null);
        if (spec.mode() == WriteMode.HISTORY) {
          checkHistoryTombstones(c);
        }
      }
      create(c, PostgresTables.TASK_MARKERS, tables.taskMarkersDdl(), null);
      ensureStage(c, schema);
      c.commit();
      return changed;
    });
    readySchema = schema;
    return evolved;
  }

  private void create(Connection c, String table, String ddl, String ddlFile) throws SQLException {
    if (exists(c, tables.ref(table))) {
      return;
    }
    if (!options.createTables()) {
      throw new IllegalStateException("sink " + spec.name() + ": table " + tables.schema + "." + table + " does not exist and "
          + options.key(PostgresOptions.CREATE_TABLES) + "=false. Create it" + (ddlFile == null ? " with:\n  " + ddl + ";"
          : " with " + ddlFile) + "\nor set " + options.key(PostgresOptions.CREATE_TABLES) + "=true.");
    }
    try (Statement st = c.createStatement()) {
      st.execute(ddl);
    }
    LOG.info("sink={}: created table {}.{}", spec.name(), tables.schema, table);
  }

  /** Staging is the sink's own scratch table: (re)created whenever its columns do not match the batch. */
  private void ensureStage(Connection c, StructType schema) throws SQLException {
    if (exists(c, tables.stageRef()) && columnTypes(c, tables.stageRef()).equals(PostgresTables.stageSignature(schema))) {
      return;
    }
    try (Statement st = c.createStatement()) {
      st.execute(sql.dropStaging());
      st.execute(tables.stageDdl(schema));
    }
  }

  /**
   * The target must hold every batch column with the batch's type or a wider one ({@link PgEvolution}
   * adds and widens columns, unless the sink may not) and, in keyed modes, a unique index on exactly
   * the key columns. Returns whether it evolved the target.
   */
  private boolean checkTarget(Connection c, StructType schema) throws SQLException {
    List<String> ddl = PgEvolution.statements(tables, columnTypes(c, tables.targetRef()), schema, spec);
    if (!ddl.isEmpty() && !spec.schemaEvolution()) {
      throw PgEvolution.refusal(spec, tables, ddl);
    }
    try (Statement st = c.createStatement()) {
      for (String statement : ddl) {
        st.execute(statement);
        LOG.info("sink={}: evolved table {}: {}", spec.name(), tables.describe(), statement);
      }
    }
    if (spec.mode() == WriteMode.APPEND) {
      return !ddl.isEmpty();
    }
    boolean history = spec.mode() == WriteMode.HISTORY;
    List<String> unique = history ? PostgresTables.historyKey(spec) : spec.keyColumns();
    List<String> have = history ? columnTypes(c, tables.targetRef()).stream().map(PostgresTables.Column::name).toList() : List.of();
    if (history && !(have.contains(HistoryMode.START_AT) && have.contains(HistoryMode.END_AT))) {
      throw new IllegalStateException("sink " + spec.name() + ": table " + tables.describe() + " lacks the columns "
          + HistoryMode.START_AT + " and " + HistoryMode.END_AT + " that " + spec.key(SinkSpec.MODE) + "=history keeps "
          + "(it has " + have + "). Write the history to a new table (the sink creates it), or add them with the type of "
          + spec.versionColumn() + ".");
    }
    if (hasUniqueIndex(c, tables.targetRef(), unique)) {
      return !ddl.isEmpty();
    }
    String columns = String.join(", ", unique.stream().map(Identifiers::quotePostgres).toList());
    throw new IllegalStateException("sink " + spec.name() + ": table " + tables.describe() + " has no primary key or unique index on "
        + unique + ", which " + spec.key(SinkSpec.MODE) + "=" + ConfigReader.configName(spec.mode())
        + " needs. Add one: ALTER TABLE " + tables.targetRef() + (history ? " ADD UNIQUE NULLS NOT DISTINCT (" + columns + ");"
        : " ADD PRIMARY KEY (" + columns + ");"));
  }

  /** Whether the table has a primary key or unique index on exactly these columns (in any order). */
  private static boolean hasUniqueIndex(Connection c, String ref, List<String> columns) throws SQLException {
    List<String> sorted = new ArrayList<>(columns);
    Collections.sort(sorted);
    try (PreparedStatement q = c.prepareStatement(PgSql.UNIQUE_INDEX_COLUMNS)) {
      q.setString(1, ref);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          if (List.of((String[]) rs.getArray(1).getArray()).equals(sorted)) {
            return true;
          }
        }
      }
    }
    return false;
  }

  /**
   * History keeps every delete of a key: its tombstones need a unique index on key and order columns. An
   * upsert's tombstones (one per key) would drop all but one delete of a key without a word.
   */
  private void checkHistoryTombstones(Connection c) throws SQLException {
    List<String> keyAndOrder = new ArrayList<>(spec.keyColumns());
    keyAndOrder.addAll(spec.orderColumns());
    if (!hasUniqueIndex(c, tables.tombstonesRef(), keyAndOrder)) {
      throw new IllegalStateException("sink " + spec.name() + ": table " + tables.schema + "." + tables.tombstones + " keeps one "
          + "delete per key (an upsert's tombstones), but " + spec.key(SinkSpec.MODE) + "=history keeps every delete, unique on "
          + keyAndOrder + ". Write the history to a new table, or drop that tombstones table if no sink still uses it.");
    }
  }

  /** Whether a table exists; {@code ref} is its quoted {@code schema.table}. */
  static boolean exists(Connection c, String ref) throws SQLException {
    try (PreparedStatement q = c.prepareStatement(PgSql.EXISTS)) {
      q.setString(1, ref);
      try (ResultSet rs = q.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    }
  }

  /** Name and type of each column, in order, types as {@code format_type} writes them. */
  private static List<PostgresTables.Column> columnTypes(Connection c, String ref) throws SQLException {
    List<PostgresTables.Column> out = new ArrayList<>();
    try (PreparedStatement q = c.prepareStatement(PgSql.COLUMN_TYPES)) {
      q.setString(1, ref);
      try (ResultSet rs = q.executeQuery()) {
        while (rs.next()) {
          out.add(new PostgresTables.Column(rs.getString(1), rs.getString(2)));
        }
      }
    }
    return out;
  }
}
