-- rows_vs_distinct.sql: row count against distinct key count of a Delta, Iceberg or Parquet table.
--
-- PASS when count(*) = count(DISTINCT key) and no row has a NULL key, i.e. one row per key.
-- FAIL lists keys with more than one row (most rows first, at most 20) and <null> when NULL keys
-- exist, detail gives the three counts.
--
-- Parameters (spark-sql -d name=value):
--   table: the table as Spark SQL names it, written as is into the query (table reference), e.g.
--          delta.`/data/payments`, parquet.`/data/files_sink`, lake.sales.payments
--   key:   the key column, written inside backticks (identifier). For a composite key check a view
--          with one column that concatenates the key columns.
--
-- Run (single quotes keep the shell away from the backticks):
--   spark-sql -d 'table=delta.`/data/payments`' -d key=payment_id -f sql/spark/rows_vs_distinct.sql
--
-- Result: one row (check_name, status, offending, detail), tab separated.

WITH counts AS (
  SELECT count(*) AS n_rows,
         count(DISTINCT `${key}`) AS n_keys,
         count(*) - count(`${key}`) AS n_null
  FROM ${table}
),
offenders AS (
  SELECT coalesce(CAST(`${key}` AS STRING), '<null>') AS k, count(*) AS n
  FROM ${table}
  GROUP BY `${key}`
  HAVING count(*) > 1 OR `${key}` IS NULL
),
ranked AS (
  SELECT slice(array_sort(collect_list(named_struct('neg_n', -n, 'k', k))), 1, 20) AS top_keys
  FROM offenders
)
SELECT 'rows_vs_distinct' AS check_name,
       IF(c.n_rows = c.n_keys AND c.n_null = 0, 'PASS', 'FAIL') AS status,
       IF(c.n_rows = c.n_keys AND c.n_null = 0, '', array_join(transform(t.top_keys, x -> x.k), ',')) AS offending,
       format_string('table=%s key=%s: rows=%d distinct keys=%d null keys=%d extra rows=%d',
                     '${table}', '${key}', c.n_rows, c.n_keys, c.n_null, c.n_rows - c.n_keys) AS detail
FROM counts c CROSS JOIN ranked t;
