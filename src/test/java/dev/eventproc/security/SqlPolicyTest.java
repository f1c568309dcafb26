package dev.eventproc.security;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The restricted-mode SQL allow-lists on Spark's own parse trees: ordinary batch SQL passes, the rest is named. */
class SqlPolicyTest {
  @Test
  void ordinaryQueriesOverTheBatchPass() {
    for (String q : new String[] {
        "SELECT batch_id, currency, count(*) AS n, sum(amount) AS total FROM batch GROUP BY batch_id, currency",
        "SELECT a, count(*) FROM batch GROUP BY a HAVING count(*) > 1 ORDER BY a DESC LIMIT 10",
        "SELECT DISTINCT upper(trim(a)) AS a FROM BATCH WHERE b BETWEEN 1 AND 2 AND c LIKE 'x%' AND d IS NOT NULL",
        "SELECT b1.k, b2.v FROM batch b1 JOIN batch b2 ON b1.k = b2.k",
        "SELECT k, row_number() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM batch",
        "SELECT CAST(a AS INT), CASE WHEN a = 1 THEN 'x' ELSE 'y' END, m['k'], s.f, date_format(ts, 'yyyy-MM-dd') FROM batch",
        "SELECT a FROM batch UNION ALL SELECT a FROM batch"}) {
      assertThat(SqlPolicy.checkQuery(q)).as(q).isEmpty();
    }
    for (String e : new String[] {"op = 'd'", "op IN ('d', 'D') OR coalesce(deleted, false)", "count(*) AS n",
        "sum(CASE WHEN op = 'd' THEN 0 ELSE amount END) AS total", "max_by(v, ts) AS last_v"}) {
      assertThat(SqlPolicy.checkExpression(e)).as(e).isEmpty();
    }
  }

  @Test
  void everythingElseIsRefusedWithWhatItIs() {
    assertThat(SqlPolicy.checkQuery("INSERT OVERWRITE delta.`/t` SELECT * FROM batch")).anyMatch(p -> p.startsWith("INSERT"));
    assertThat(SqlPolicy.checkQuery("SELECT * FROM parquet.`/x`")).anyMatch(p -> p.contains("reads parquet./x"));
    assertThat(SqlPolicy.checkQuery("SELECT * FROM global_temp.batch")).anyMatch(p -> p.contains("reads global_temp.batch"));
    assertThat(SqlPolicy.checkQuery("SELECT * FROM batch VERSION AS OF 1")).isNotEmpty();
    assertThat(SqlPolicy.checkQuery("WITH x AS (SELECT * FROM batch) SELECT * FROM x")).anyMatch(p -> p.startsWith("WITH"));
    assertThat(SqlPolicy.checkQuery("SELECT * FROM IDENTIFIER('batch')")).isNotEmpty();
    assertThat(SqlPolicy.checkQuery("SELECT transform(arr, x -> x + 1) FROM batch")).anyMatch(p -> p.contains("transform"));
    assertThat(SqlPolicy.checkQuery("SELECT * FROM batch TABLESAMPLE (10 PERCENT)")).isNotEmpty();
    assertThat(SqlPolicy.checkQuery("SET spark.sql.ansi.enabled=false")).isNotEmpty();
    assertThat(SqlPolicy.checkQuery("CACHE TABLE batch")).isNotEmpty();
    assertThat(SqlPolicy.checkExpression("uuid()")).anyMatch(p -> p.startsWith("function uuid"));
    assertThat(SqlPolicy.checkExpression("default.my_udf(a)")).anyMatch(p -> p.startsWith("function default.my_udf"));
    assertThat(SqlPolicy.checkExpression("input_file_name()")).isNotEmpty();
    assertThat(SqlPolicy.checkExpression("a = '${system:user.home}'")).anyMatch(p -> p.contains("${...}"));
    assertThat(SqlPolicy.checkExpression("op = = 'd'")).anyMatch(p -> p.startsWith("is not Spark SQL"));
  }
}
