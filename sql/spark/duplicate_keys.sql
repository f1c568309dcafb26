-- duplicate_keys.sql: keys that have more than one row in a Delta, Iceberg or Parquet table.
--
-- A keyed sink (upsert, insert-if-absent) holds at most one row per key, and in an append table a key
-- that should be unique per event (an event id) must not repeat either. FAIL lists the keys with the
-- most rows first (at most 20), detail gives how many keys repeat and how many rows they hold.
-- Rows with a NULL key count as one group, shown as <null>.
--
-- Parameters (spark-sql -d name=value):
--   table: the table as Spark SQL names it, written as is into the query (table reference), e.g.
--          delta.`/data/payments`, parquet.`/data/files_sink`, lake.sales.payments
--   key:   the key column, written inside backticks (identifier). For a composite key check a view
--          with one column that concatenates the key columns.
--
-- Run (single quotes keep the shell away from the backticks):
--   spark-sql -d 'table=delta.`/data/payments`' -d key=payment_id -f sql/spark/duplicate_keys.sql
--
-- Result: one row (check_name, status, offending, detail), tab separated.

WITH dup AS (
  SELECT coalesce(CAST(`${key}` AS STRING), '<null>') AS k, count(*) AS n
  FROM ${table}
  GROUP BY `${key}`
  HAVING count(*) > 1
),
totals AS (
  SELECT count(*) AS dup_keys,
         coalesce(sum(n), 0) AS dup_rows,
         coalesce(max(n), 0) AS worst,
         slice(array_sort(collect_list(named_struct('neg_n', -n, 'k', k))), 1, 20) AS top_keys
  FROM dup
)
SELECT 'duplicate_keys' AS check_name,
       IF(dup_keys = 0, 'PASS', 'FAIL') AS status,
       array_join(transform(top_keys, x -> x.k), ',') AS offending,
       IF(dup_keys = 0,
          format_string('table=%s key=%s: every key has one row', '${table}', '${key}'),
          format_string('table=%s key=%s: %d keys have more than one row (%d rows in all, up to %d rows for one key)%s',
                        '${table}', '${key}', dup_keys, dup_rows, worst,
                        IF(dup_keys > 20, '; first 20 listed', ''))) AS detail
FROM totals;
