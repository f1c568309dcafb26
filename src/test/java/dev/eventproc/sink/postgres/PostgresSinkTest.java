package dev.eventproc.sink.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import dev.eventproc.config.ConfigException;
import dev.eventproc.sink.BatchOutcome.Status;
import dev.eventproc.sink.BatchOutcome;
import dev.eventproc.sink.FaultInjection.Point;
import dev.eventproc.sink.SinkSpec;
import dev.eventproc.sink.WriteMode;
import dev.eventproc.sink.postgres.PostgresOptions.CommitShape;
import dev.eventproc.sink.registry.Sinks;
import dev.eventproc.testutils.CommitGate;
import dev.eventproc.testutils.LogCapture;
import dev.eventproc.testutils.PasswordPostgres;
import dev.eventproc.testutils.Race;
import dev.eventproc.testutils.TestPostgres;
import dev.eventproc.testutils.TestSpark;
import dev.eventproc.testutils.TimestampCases;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class PostgresSinkTest {
  private static final StructType SCHEMA = StructType.fromDDL("id STRING, version BIGINT, lsn BIGINT, amount INT, op STRING");
  private final SparkSession spark = TestSpark.session();
  private final String schema = TestPostgres.newSchema("pgsink");

  private Dataset<Row> rows(Object[]... rows) {
    List<Row> list = new ArrayList<>();
    for (Object[] r : rows) {
      list.add(RowFactory.create(r));
    }
    return spark.createDataFrame(list, SCHEMA).repartition(2);
  }

  private static Object[] r(String id, Long version, long lsn, int amount, String op) {
    return new Object[] {id, version, lsn, amount, op};
  }

  private PostgresOptionsBuilder options(String table, CommitShape shape) {
    PostgresOptionsBuilder b = PostgresOptions.builder().url(TestPostgres.url()).user(TestPostgres.user())
        .password(TestPostgres.password()).schema(schema).table(table).commit(shape);
    return shape == CommitShape.PARTITION ? b.slices(3) : b;
  }

  private PostgresSink sink(String table, WriteMode mode, CommitShape shape, String deleteCondition) {
    SinkSpec.Builder s = SinkSpec.builder().name(table + "_w").mode(mode);
    if (mode != WriteMode.APPEND) {
      s.keyColumns("id");
    }
    if (mode == WriteMode.UPSERT) {
      s.versionColumn("version").tiebreakColumn("lsn").deleteCondition(deleteCondition);
    }
    return PostgresSink.create(s.build(), options(table, shape).build());
  }

  private Map<String, String> table(String table) throws SQLException {
    Map<String, String> out = new TreeMap<>();
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT id, version, lsn, amount FROM " + schema + "." + table)) {
      while (rs.next()) {
        assertThat(out.put(rs.getString(1), rs.getObject(2) + "/" + rs.getLong(3) + "/" + rs.getInt(4))).isNull();
      }
    }
    return out;
  }

  private long count(String sql) throws SQLException {
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  @ParameterizedTest
  @EnumSource(CommitShape.class)
  void replayedBatchIsANoOpInEveryMode(CommitShape shape) throws Exception {
    for (WriteMode mode : WriteMode.values()) {
      if (mode == WriteMode.HISTORY) {
        continue; // several rows per key: PostgresHistoryTest replays it
      }
      String table = "replay_" + mode.name().toLowerCase() + "_" + shape.name().toLowerCase();
      PostgresSink sink = sink(table, mode, shape, mode == WriteMode.UPSERT ? "op = 'd'" : null);
      Dataset<Row> b0 = rows(r("a", 1L, 0, 10, "u"), r("b", 1L, 0, 20, "u"), r("c", 1L, 0, 5, "d"), r("a", 1L, 0, 10, "u"));
      Dataset<Row> b1 = rows(r("a", 2L, 0, 11, "u"), r("d", 1L, 0, 40, "u"));
      assertThat(sink.write(b0, 0, "q1").status()).isEqualTo(Status.COMMITTED);
      assertThat(sink.write(b1, 1, "q1").status()).isEqualTo(Status.COMMITTED);
      Map<String, String> before = mode == WriteMode.APPEND ? Map.of() : table(table);
      long rowsBefore = count("SELECT count(*) FROM " + schema + "." + table);
      long ledgerBefore = count("SELECT count(*) FROM " + schema + ".eventproc_ledger WHERE writer = '" + table + "_w'");

      assertThat(sink.write(b0, 0, "q1").status()).as(mode + " " + shape).isEqualTo(Status.SKIPPED_REPLAY);
      assertThat(sink.write(b1, 1, "q1").status()).isEqualTo(Status.SKIPPED_REPLAY);

      assertThat(count("SELECT count(*) FROM " + schema + "." + table)).isEqualTo(rowsBefore);
      if (mode != WriteMode.APPEND) {
        assertThat(table(table)).isEqualTo(before);
      }
      assertThat(count("SELECT count(*) FROM " + schema + ".eventproc_ledger WHERE writer = '" + table + "_w'")).isEqualTo(ledgerBefore);
      assertThat(sink.metrics().replaysSkipped()).isEqualTo(2);
      sink.close();
    }
  }

  @ParameterizedTest
  @EnumSource(CommitShape.class)
  void olderVersionNeverOverwritesNewerAndDuplicateKeysInABatchDoNotFail(CommitShape shape) throws Exception {
    String table = "versions_" + shape.name().toLowerCase();
    try (PostgresSink sink = sink(table, WriteMode.UPSERT, shape, null)) {
      sink.write(rows(r("a", 1L, 0, 1, "u"), r("a", 3L, 0, 3, "u"), r("a", 2L, 0, 2, "u"),
          r("b", 5L, 7, 70, "u"), r("b", 5L, 9, 90, "u"), r("b", 5L, 8, 80, "u"), r("n", null, 0, 1, "u")), 0, "q");
      assertThat(table(table)).containsEntry("a", "3/0/3").containsEntry("b", "5/9/90").containsEntry("n", "null/0/1");

      BatchOutcome older = sink.write(rows(r("a", 2L, 0, 222, "u"), r("b", 5L, 8, 888, "u"), r("a", 3L, 0, 333, "u")), 1, "q");
      assertThat(table(table)).containsEntry("a", "3/0/3").containsEntry("b", "5/9/90");
      assertThat(older.rowsWritten()).isZero();

      sink.write(rows(r("a", 4L, 0, 4, "u"), r("b", 5L, 10, 100, "u"), r("n", 1L, 0, 2, "u"), r("b", null, 0, 0, "u")), 2, "q");
      assertThat(table(table)).containsEntry("a", "4/0/4").containsEntry("b", "5/10/100").containsEntry("n", "1/0/2");
    }
  }

  @ParameterizedTest
  @EnumSource(CommitShape.class)
  void deletesApplyAndALaterOlderUpdateCannotBringTheKeyBack(CommitShape shape) throws Exception {
    String table = "deletes_" + shape.name().toLowerCase();
    try (PostgresSink sink = sink(table, WriteMode.UPSERT, shape, "op = 'd'")) {
      sink.write(rows(r("a", 1L, 0, 1, "u"), r("b", 1L, 0, 1, "u")), 0, "q");
      sink.write(rows(r("a", 3L, 0, 0, "d")), 1, "q");
      assertThat(table(table)).doesNotContainKey("a").containsKey("b");
      sink.write(rows(r("a", 2L, 0, 2, "u"), r("c", 2L, 0, 0, "d")), 2, "q");
      sink.write(rows(r("c", 1L, 0, 1, "u")), 3, "q");
      assertThat(table(table)).doesNotContainKeys("a", "c");
      sink.write(rows(r("a", 4L, 0, 4, "u")), 4, "q");
      assertThat(table(table)).containsEntry("a", "4/0/4");
      assertThat(count("SELECT count(*) FROM " + schema + "." + table + "__tombstones")).isEqualTo(2);
    }
  }

  @Test
  void insertIfAbsentKeepsTheFirstRowAndEmptyBatchesAreInTheLedger() throws Exception {
    try (PostgresSink sink = sink("first", WriteMode.INSERT_IF_ABSENT, CommitShape.BATCH, null)) {
      sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q");
      sink.write(rows(r("a", 9L, 0, 9, "u"), r("b", 1L, 0, 1, "u")), 1, "q");
      assertThat(sink.write(rows(), 2, "q").status()).isEqualTo(Status.COMMITTED);
      assertThat(table("first")).containsEntry("a", "1/0/1").containsEntry("b", "1/0/1").hasSize(2);
      assertThat(count("SELECT count(*) FROM " + schema + ".eventproc_ledger WHERE writer = 'first_w' AND batch_id IN (0, 1, 2)"))
          .isEqualTo(3);
      assertThat(count("SELECT rows_written FROM " + schema + ".eventproc_ledger WHERE writer = 'first_w' AND batch_id = 1"))
          .isEqualTo(1);
    }
  }

  /**
   * A zombie: two drivers of one writer identity write batch 7 and are held at the commit point until
   * both have read "not committed" from the ledger. Released, one takes the writer lock and is held
   * again after staging, lock in hand, until the other has found the lock held by that session; then
   * it commits. The other takes the lock, finds the batch in the ledger and counts a race lost to the
   * lock's holder.
   */
  @ParameterizedTest
  @EnumSource(CommitShape.class)
  void twoWritersRacingOnTheSameBatchCommitItOnce(CommitShape shape) throws Exception {
    String table = "race_" + shape.name().toLowerCase();
    String writer = table + "_w";
    List<PostgresSink> writers = List.of(sink(table, WriteMode.APPEND, shape, null), sink(table, WriteMode.APPEND, shape, null));
    Object[][] data = new Object[500][];
    for (int i = 0; i < data.length; i++) {
      data[i] = r("k" + i, 1L, 0, i, "u");
    }
    CountDownLatch winnerHeld = new CountDownLatch(1);
    CountDownLatch winnerGoes = new CountDownLatch(1);
    AtomicBoolean held = new AtomicBoolean();
    ExecutorService background = Executors.newSingleThreadExecutor();
    try (LogCapture logs = new LogCapture(); CommitGate gate = CommitGate.at(Point.BEFORE_COMMIT, writer, 2, (p, sink, batchId) -> {
      if (p == Point.AFTER_STAGING && sink.equals(writer) && held.compareAndSet(false, true)) {
        winnerHeld.countDown();
        await(winnerGoes);
      }
    })) {
      Future<List<BatchOutcome>> race = background.submit(() -> Race.together(writers, w -> rows(data), (w, rows) -> w.write(rows, 7, "q")));
      assertThat(winnerHeld.await(1, TimeUnit.MINUTES)).as("a writer took the lock and staged batch 7").isTrue();
      List<Integer> holders = TestPostgres.advisoryLockHolders(WriterLock.key(new PostgresTables(options(table, shape).build(), writer), writer));
      assertThat(holders).as("sessions holding the writer lock").hasSize(1);
      String lockHeld = "the writer lock on " + schema + "." + table + " is held by backend pid " + holders.get(0);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (!logs.all().contains(lockHeld)) { // the other writer tried the lock
        if (System.nanoTime() > deadline) {
          fail("the other writer did not report, within 30 s: " + lockHeld);
        }
        Thread.sleep(20);
      }
      winnerGoes.countDown();
      List<BatchOutcome> outcomes = race.get(2, TimeUnit.MINUTES);
      assertThat(gate.arrivals()).as("both writers read 'not committed' and reached the commit point before either committed")
          .isEqualTo(2);
      assertThat(outcomes).extracting(BatchOutcome::status).containsExactlyInAnyOrder(Status.COMMITTED, Status.SKIPPED_REPLAY);
      assertThat(outcomes).extracting(BatchOutcome::rowsWritten).containsExactlyInAnyOrder(500L, 0L);
      PostgresSink loser = writers.get(outcomes.get(0).status() == Status.SKIPPED_REPLAY ? 0 : 1);
      PostgresSink winner = writers.get(loser == writers.get(0) ? 1 : 0);
      assertThat(winner.metrics().racesLost()).isZero();
      assertThat(loser.metrics().racesLost()).as("the other writer lost the race on the writer lock").isEqualTo(1);
      assertThat(loser.metrics().lastRaceLost()).hasMessageContaining("sink " + writer + " batch 7: another attempt of writer "
          + writer + " (query id q) committed the batch first: this attempt waited").hasMessageContaining(
          "for the writer lock on " + schema + "." + table + ", held by backend pid " + holders.get(0) + ", then found the batch in the ledger");
    } finally {
      winnerGoes.countDown();
      background.shutdownNow();
      writers.forEach(PostgresSink::close);
    }
    assertThat(count("SELECT count(*) FROM " + schema + "." + table)).as("batch 7 once").isEqualTo(500);
    assertThat(count("SELECT count(DISTINCT id) FROM " + schema + "." + table)).isEqualTo(500);
    assertThat(count("SELECT count(*) FROM " + schema + ".eventproc_ledger WHERE writer = '" + writer + "' AND batch_id = 7"))
        .isEqualTo(shape == CommitShape.BATCH ? 1 : 3);
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(1, TimeUnit.MINUTES)) {
        throw new IllegalStateException("test: not released within a minute");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Test
  void directPathCommitsNewKeysAndFallsBackWhenAKeyExistsOrARowDeletes() throws Exception {
    try (PostgresSink sink = sink("direct", WriteMode.UPSERT, CommitShape.BATCH, "op = 'd'")) {
      List<Object[]> fresh = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        fresh.add(r("k" + i, 1L, 0, i, "u"));
      }
      sink.write(rows(fresh.toArray(Object[][]::new)), 0, "q");
      assertThat(sink.directCommits()).as("all keys new: direct COPY").isEqualTo(1);

      // 200 new keys first (the sample sees only those), then one that exists with an older version
      // and one with a newer version: COPY hits the unique key, the batch takes the staging path.
      List<Object[]> mixed = new ArrayList<>();
      for (int i = 300; i < 500; i++) {
        mixed.add(r("k" + i, 1L, 0, i, "u"));
      }
      mixed.add(r("k5", 2L, 0, 555, "u"));
      mixed.add(r("k6", 0L, 0, 666, "u"));
      sink.write(spark.createDataFrame(mixed.stream().map(RowFactory::create).toList(), SCHEMA).coalesce(1), 1, "q");
      assertThat(sink.directCommits()).as("the COPY met k5 and gave way").isEqualTo(1);
      Map<String, String> t = table("direct");
      assertThat(t).hasSize(500).containsEntry("k5", "2/0/555").containsEntry("k6", "1/0/6").containsEntry("k499", "1/0/499");
    }
    // A fresh writer object (no backoff): new keys, but one row deletes, so the MERGE applies the batch.
    try (PostgresSink sink = sink("direct", WriteMode.UPSERT, CommitShape.BATCH, "op = 'd'")) {
      sink.write(spark.createDataFrame(List.of(RowFactory.create(r("n1", 1L, 0, 1, "u")), RowFactory.create(r("k7", 5L, 0, 0, "d"))),
          SCHEMA).coalesce(1), 10, "q");
      assertThat(sink.directCommits()).isZero();
      assertThat(table("direct")).containsKey("n1").doesNotContainKey("k7");
      assertThat(count("SELECT count(*) FROM " + schema + ".eventproc_ledger WHERE writer = 'direct_w'")).isEqualTo(3);
    }
  }

  @Test
  void oddColumnNamesAreQuotedAndTypesRoundTrip() throws Exception {
    Dataset<Row> odd = spark.sql("SELECT 'k1' AS `id`, 1L AS `we\"ird col`, array(1, 2) AS `list`, "
        + "named_struct('a', 1, 'b', 'x') AS `obj`, X'00FF' AS `bin`, CAST('12.50' AS DECIMAL(10,2)) AS `amt`, "
        + "TIMESTAMP '2026-01-02 03:04:05.678' AS `ts`, DATE '2026-01-02' AS `d`, true AS `flag`, "
        + "'tab\\there\\nnew line \\\\ back' AS `txt`");
    SinkSpec spec = SinkSpec.builder().name("odd_w").mode(WriteMode.UPSERT).keyColumns("id").build();
    try (PostgresSink sink = PostgresSink.create(spec, options("odd", CommitShape.BATCH).build())) {
      sink.write(odd, 0, "q");
    }
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT \"we\"\"ird col\", list::text, obj->>'b', encode(bin, 'hex'), amt, d, flag, txt, ts FROM "
            + schema + ".odd")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getLong(1)).isEqualTo(1);
      assertThat(rs.getString(2)).isEqualTo("[1, 2]");
      assertThat(rs.getString(3)).isEqualTo("x");
      assertThat(rs.getString(4)).isEqualTo("00ff");
      assertThat(rs.getBigDecimal(5)).isEqualByComparingTo("12.50");
      assertThat(rs.getString(6)).isEqualTo("2026-01-02");
      assertThat(rs.getBoolean(7)).isTrue();
      assertThat(rs.getString(8)).isEqualTo("tab\there\nnew line \\ back");
      // The instant Spark meant (its literal is in the session time zone), to the millisecond.
      assertThat(rs.getObject(9, OffsetDateTime.class).toInstant()).isEqualTo(odd.select("ts").first().getTimestamp(0).toInstant());
    }
  }

  /**
   * Timestamps come back as written, to the microsecond, far from now and before 1970: through the direct COPY
   * (a first batch of new keys) and the MERGE over staging (newer versions) of the batch shape, and the slices
   * of the partition shape.
   */
  @ParameterizedTest
  @EnumSource(CommitShape.class)
  void timestampsRoundTrip(CommitShape shape) throws Exception {
    String table = "ts_" + shape.name().toLowerCase();
    SinkSpec spec = SinkSpec.builder().name(table + "_w").mode(WriteMode.UPSERT).keyColumns("id").versionColumn("version").build();
    try (PostgresSink sink = PostgresSink.create(spec, options(table, shape).build())) {
      for (long version = 1; version <= 2; version++) {
        assertThat(sink.write(TimestampCases.rows(spark, version), version, "q").status()).isEqualTo(Status.COMMITTED);
        Map<String, Instant> back = new LinkedHashMap<>();
        try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
            ResultSet rs = st.executeQuery("SELECT id, ts FROM " + schema + "." + table)) {
          while (rs.next()) {
            back.put(rs.getString(1), rs.getObject(2, OffsetDateTime.class).toInstant());
          }
        }
        TimestampCases.assertReadBack(shape + " batch " + version, back);
      }
      if (shape == CommitShape.BATCH) {
        assertThat(sink.directCommits()).as("batch 1 took the direct COPY, batch 2 the MERGE").isEqualTo(1);
      }
    }
  }

  /**
   * Issue 21 item 2: jsonb refuses the JSON escape of U+0000, so a NUL inside a struct, array or map (values and map
   * keys) failed every batch that carried it. U+0000 becomes U+FFFD there, as in top-level text, on the
   * direct path, the staging path and the partition shape alike.
   */
  @ParameterizedTest
  @EnumSource(CommitShape.class)
  void aNulCharacterInsideANestedValueBecomesTheReplacementCharacter(CommitShape shape) throws Exception {
    StructType nested = StructType.fromDDL("id STRING, txt STRING, tags ARRAY<STRING>, attrs MAP<STRING, STRING>, obj STRUCT<a: STRING>");
    String nul = "x\u0000y";
    String text = "a backslash, then u0000: \\u0000"; // not a NUL: stays as it is
    Row row = RowFactory.create("n1", nul, List.of(nul, text), Map.of(nul, nul), RowFactory.create(nul));
    for (long direct : shape == CommitShape.BATCH ? new long[] {PostgresOptions.DIRECT_MAX_ROWS_DEFAULT, 0} : new long[] {0}) {
      String table = "nul_" + shape.name().toLowerCase() + "_" + (direct > 0 ? "direct" : "staged");
      SinkSpec spec = SinkSpec.builder().name(table + "_w").mode(WriteMode.UPSERT).keyColumns("id").build();
      try (PostgresSink sink = PostgresSink.create(spec, options(table, shape).directMaxRows(direct).build())) {
        assertThat(sink.write(spark.createDataFrame(List.of(row), nested), 0, "q").status()).isEqualTo(Status.COMMITTED);
        assertThat(sink.directCommits()).isEqualTo(direct > 0 ? 1 : 0);
      }
      try (Connection c = TestPostgres.connect(); Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT txt, tags->>0, attrs->>'x\uFFFDy', obj->>'a', tags->>1 FROM " + schema + "." + table)) {
        assertThat(rs.next()).isTrue();
        for (int i = 1; i <= 4; i++) {
          assertThat(rs.getString(i)).as(table + " column " + i).isEqualTo("x\uFFFDy");
        }
        assertThat(rs.getString(5)).isEqualTo(text);
      }
    }
  }

  /**
   * Issue 21 item 2: a key holding U+0000 is not changed (with U+FFFD in its place it would become
   * another key and merge with it): the batch fails with a message that names the rule, on both paths, and the
   * direct path's sample of keys never trips over it first.
   */
  @Test
  void aKeyWithANulCharacterFailsClearlyAndNeverMergesWithAnotherKey() throws Exception {
    for (long direct : new long[] {0, PostgresOptions.DIRECT_MAX_ROWS_DEFAULT}) {
      String table = "nulkey_" + (direct > 0 ? "direct" : "staged");
      try (PostgresSink sink = PostgresSink.create(SinkSpec.builder().name(table + "_w").mode(WriteMode.UPSERT).keyColumns("id")
          .versionColumn("version").build(), options(table, CommitShape.BATCH).directMaxRows(direct).build())) {
        sink.write(rows(r("a\uFFFD", 1L, 0, 1, "u")), 0, "q");
        assertThatThrownBy(() -> sink.write(rows(r("b", 1L, 0, 2, "u"), r("a\u0000", 2L, 0, 3, "u")), 1, "q"))
            .as(table)
            .hasStackTraceContaining("sink " + table + "_w batch 1: key column id holds a NUL character (U+0000)")
            .hasStackTraceContaining("quarantine");
      }
      assertThat(table(table)).as(table).containsExactly(Map.entry("a\uFFFD", "1/0/1"));
    }
  }

  @Test
  void identifiersWithQuotesSpacesOrSqlAreRefused() {
    for (String bad : new String[] {"t\"; DROP TABLE x; --", "my table", "t;x", "x'y"}) {
      Map<String, String> c = new LinkedHashMap<>();
      c.put("sink.type", "postgres");
      c.put("sink.name", "w");
      c.put("sink.mode", "append");
      c.put("sink.postgres.url", "jdbc:postgresql://127.0.0.1/test");
      c.put("sink.postgres.table", bad);
      assertThatThrownBy(() -> Sinks.fromConfig(c)).isInstanceOf(ConfigException.class)
          .hasMessageContaining("sink.postgres.table: '" + bad + "' is not a plain identifier.");
      c.put("sink.postgres.table", "ok");
      c.put("sink.postgres.schema", bad);
      assertThatThrownBy(() -> Sinks.fromConfig(c)).hasMessageContaining("sink.postgres.schema: '" + bad + "' is not a plain identifier.");
    }
  }

  @Test
  void missingTablesWithCreateOffNameTheDdlToRun() {
    SinkSpec spec = SinkSpec.builder().name("nocreate_w").mode(WriteMode.APPEND).build();
    try (PostgresSink sink = PostgresSink.create(spec, options("nocreate", CommitShape.BATCH).createTables(false).build())) {
      assertThatThrownBy(() -> sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q"))
          .hasMessageContaining("table " + schema + ".eventproc_ledger does not exist and sink.postgres.create.tables=false")
          .hasMessageContaining("sql/postgres/ledger.sql");
    }
  }

  @Test
  void theLedgerDdlFileRunsWithPsqlAndMatchesTheSinksLedger() throws Exception {
    dev.eventproc.testutils.Psql.run(java.nio.file.Path.of("sql/postgres/ledger.sql"), Map.of("schema", schema, "ledger", "ledger_from_file"));
    try (PostgresSink sink = sink("ddl", WriteMode.APPEND, CommitShape.BATCH, null)) {
      sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q");
    }
    String columns = "SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull, ', ' "
        + "ORDER BY a.attnum) FROM pg_attribute a WHERE a.attrelid = to_regclass(?) AND a.attnum > 0 AND NOT a.attisdropped";
    try (Connection c = TestPostgres.connect(); java.sql.PreparedStatement q = c.prepareStatement(columns)) {
      q.setString(1, schema + ".ledger_from_file");
      ResultSet fromFile = q.executeQuery();
      fromFile.next();
      String file = fromFile.getString(1);
      q.setString(1, schema + ".eventproc_ledger");
      ResultSet fromSink = q.executeQuery();
      fromSink.next();
      assertThat(file).isNotNull().isEqualTo(fromSink.getString(1));
    }
  }

  @Test
  void aTargetWithoutAKeyIndexIsExplained() throws Exception {
    try (Connection c = TestPostgres.connect(); Statement st = c.createStatement()) {
      st.execute("CREATE TABLE " + schema + ".nokey (id text, version bigint, lsn bigint, amount int, op text)");
    }
    try (PostgresSink sink = sink("nokey", WriteMode.UPSERT, CommitShape.BATCH, null)) {
      assertThatThrownBy(() -> sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q"))
          .hasMessageContaining("has no primary key or unique index on [id]")
          .hasMessageContaining("ADD PRIMARY KEY (\"id\")");
    }
  }

  @Test
  void aWrongPasswordFailsClearlyAndThePasswordIsNeverLogged() throws Exception {
    String wrong = "Wr0ng-" + System.nanoTime();
    try (PasswordPostgres server = PasswordPostgres.start(); LogCapture logs = new LogCapture()) {
      Map<String, String> c = new LinkedHashMap<>();
      c.put("sink.type", "postgres");
      c.put("sink.name", "pw_w");
      c.put("sink.mode", "append");
      c.put("sink.postgres.url", server.url());
      c.put("sink.postgres.user", server.user());
      c.put("sink.postgres.password", "${env:EVENTPROC_TEST_WRONG}");
      c.put("sink.postgres.table", "t");
      PostgresSink sink = (PostgresSink) Sinks.fromConfig(dev.eventproc.config.EventprocConfig.of(c, n -> wrong));
      Throwable e = org.assertj.core.api.Assertions.catchThrowable(() -> sink.write(rows(r("a", 1L, 0, 1, "u")), 0, "q"));
      assertThat(e).hasMessageContaining("sink pw_w: PostgreSQL refused the login")
          .hasMessageContaining("password authentication failed for user \"" + server.user() + "\"")
          .hasMessageContaining("Check sink.postgres.user and the secret behind sink.postgres.password.");
      StringBuilder chain = new StringBuilder();
      for (Throwable t = e; t != null; t = t.getCause()) {
        chain.append(t).append('\n');
        for (StackTraceElement el : t.getStackTrace()) {
          chain.append(el).append('\n');
        }
      }
      assertThat(chain.toString()).doesNotContain(wrong);
      assertThat(logs.all()).doesNotContain(wrong);
      assertThat(sink.toString()).doesNotContain(wrong);
      assertThat(sink.options().toString()).doesNotContain(wrong);

      // The right password works against the same server.
      c.put("sink.postgres.password", "${env:EVENTPROC_TEST_RIGHT}");
      try (PostgresSink ok = (PostgresSink) Sinks.fromConfig(dev.eventproc.config.EventprocConfig.of(c, n -> server.password()))) {
        assertThat(ok.write(rows(r("a", 1L, 0, 1, "u")), 0, "q").status()).isEqualTo(Status.COMMITTED);
      }
    }
  }
}
