-- history_vs_source.sql: the current rows of a Delta or Iceberg history table against the newest event per key of a source.
--
-- For every key of the source, the newest event by (version, tie-break), a delete winning a tie: when
-- it is a delete the key must have no current row; otherwise its current row (__end_at IS NULL) must
-- start at that version. A current row of a key the source lacks fails too. This is what upsert with
-- the same keys, version and delete condition would hold. FAIL lists the keys (at most 20).
--
-- Parameters (spark-sql -d name=value):
--   table:        the history table (table reference)
--   source_table: the source events, every version (table reference)
--   key, version_col, tiebreak (the version column again when there is none): columns (identifiers)
--   deleted_col:  a boolean column of the source, true for a delete; for op = 'd' check a view that adds it (identifier)
--
-- Run:
--   spark-sql -d 'table=delta.`/data/accounts_history`' -d 'source_table=events_v' -d key=account_id -d version_col=version -d tiebreak=lsn -d deleted_col=deleted -f sql/spark/history_vs_source.sql
--
-- Result: one row (check_name, status, offending, detail), tab separated.

WITH ranked AS (
  SELECT CAST(`${key}` AS STRING) AS k, `${version_col}` AS v, coalesce(`${deleted_col}`, false) AS d,
         row_number() OVER (PARTITION BY `${key}` ORDER BY `${version_col}` DESC NULLS LAST, `${tiebreak}` DESC NULLS LAST,
                            coalesce(`${deleted_col}`, false) DESC) AS rn
  FROM ${source_table}
),
newest AS (SELECT k, v, d FROM ranked WHERE rn = 1),
cur AS (SELECT CAST(`${key}` AS STRING) AS k, `__start_at` AS s FROM ${table} WHERE `__end_at` IS NULL),
bad AS (
  SELECT coalesce(n.k, c.k) AS k FROM newest n FULL OUTER JOIN cur c ON c.k = n.k
  WHERE n.k IS NULL OR (n.d AND c.k IS NOT NULL) OR (NOT n.d AND (c.k IS NULL OR NOT (c.s <=> n.v)))
),
totals AS (
  SELECT (SELECT count(*) FROM newest) AS source_keys, (SELECT count_if(d) FROM newest) AS deleted,
         (SELECT count(*) FROM cur) AS current_n, (SELECT count(*) FROM bad) AS bad_n,
         (SELECT array_join(slice(array_sort(collect_list(k)), 1, 20), ',') FROM bad) AS bad_keys
)
SELECT 'history_vs_source' AS check_name, IF(bad_n = 0, 'PASS', 'FAIL') AS status, coalesce(bad_keys, '') AS offending,
       format_string('table=%s source=%s key=%s: %d source keys (%d deleted), %d current rows, %d keys differ', '${table}',
                     '${source_table}', '${key}', source_keys, deleted, current_n, bad_n) AS detail
FROM totals;
