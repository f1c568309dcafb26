-- history_intervals.sql: the intervals of a history table (sink.mode=history) on Delta or Iceberg are sound.
--
-- Two rows. history_current: at most one current row (__end_at IS NULL) per key. history_intervals:
-- within a key, in (__start_at, tie-break) order, every row ends where the next one starts; a row may
-- end before the next one starts (or the last row end at all) only where a delete closed it, and no
-- row may end before it starts, overlap the next row, or be current with a row after it. FAIL lists
-- the keys (at most 20); detail counts the keys, rows and the intervals that deletes closed.
--
-- Parameters (spark-sql -d name=value):
--   table:    the history table as Spark SQL names it (table reference), e.g. delta.`/data/accounts_history`
--   key:      the key column (identifier); for a composite key check a view that concatenates the columns
--   tiebreak: the tie-break column, or the version column again when the sink has none (identifier)
--
-- Run:
--   spark-sql -d 'table=delta.`/data/accounts_history`' -d key=account_id -d tiebreak=lsn -f sql/spark/history_intervals.sql
--
-- Result: two rows (check_name, status, offending, detail), tab separated.

WITH r AS (
  SELECT coalesce(CAST(`${key}` AS STRING), '<null>') AS k, `__start_at` AS s, `__end_at` AS e,
         lead(`__start_at`) OVER (PARTITION BY `${key}` ORDER BY `__start_at` ASC NULLS FIRST, `${tiebreak}` ASC NULLS FIRST) AS next_s,
         count(1) OVER (PARTITION BY `${key}` ORDER BY `__start_at` ASC NULLS FIRST, `${tiebreak}` ASC NULLS FIRST
                        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS after
  FROM ${table}
),
current_bad AS (SELECT k FROM r WHERE e IS NULL GROUP BY k HAVING count(*) > 1),
interval_bad AS (SELECT DISTINCT k FROM r WHERE e < s OR e > next_s OR (e IS NULL AND after > 0)),
totals AS (
  SELECT count(DISTINCT k) AS keys, count(*) AS rows_n,
         count_if(e < next_s OR (next_s IS NULL AND e IS NOT NULL)) AS closed,
         (SELECT count(*) FROM current_bad) AS current_n,
         (SELECT array_join(slice(array_sort(collect_list(k)), 1, 20), ',') FROM current_bad) AS current_keys,
         (SELECT count(*) FROM interval_bad) AS interval_n,
         (SELECT array_join(slice(array_sort(collect_list(k)), 1, 20), ',') FROM interval_bad) AS interval_keys
  FROM r
)
SELECT 'history_current' AS check_name, IF(current_n = 0, 'PASS', 'FAIL') AS status, coalesce(current_keys, '') AS offending,
       format_string('table=%s key=%s: %d keys, %d keys with more than one current row', '${table}', '${key}', keys, current_n) AS detail
FROM totals
UNION ALL
SELECT 'history_intervals', IF(interval_n = 0, 'PASS', 'FAIL'), coalesce(interval_keys, ''),
       format_string('table=%s key=%s: %d rows, %d intervals closed by a delete, %d keys with an interval that ends before it '
                     || 'starts, overlaps the next or stays open before a later row', '${table}', '${key}', rows_n, closed, interval_n)
FROM totals;
