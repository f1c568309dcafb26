-- history_intervals.sql: the intervals of a history table (sink.mode=history) are sound.
--
-- Two rows. history_current: at most one current row (__end_at IS NULL) per key. history_intervals:
-- within a key, in (__start_at, tie-break) order, every row ends where the next one starts; a row may
-- end before the next one starts (or the last row end at all) only where a delete closed it, and no
-- row may end before it starts, overlap the next row, or be current with a row after it. FAIL lists
-- the keys (at most 20); detail counts the keys, rows and the intervals that deletes closed.
--
-- Parameters:
--   schema:   schema of the history table (identifier)
--   table:    the history table (identifier)
--   key:      the key column; for a composite key check a view that concatenates the columns (identifier)
--   tiebreak: the tie-break column, or the version column again when the sink has none (identifier)
--
-- Run:
--   psql -X -At -F '|' -v ON_ERROR_STOP=1 -v schema=public -v table=accounts_history -v key=account_id -v tiebreak=lsn -f sql/postgres/reconcile/history_intervals.sql
--
-- Result: two rows (check_name, status, offending, detail).
\set ON_ERROR_STOP on
\if :{?schema}
\else
\warn 'history_intervals.sql: missing -v schema=<schema of the table>'
\set eventproc_missing true
\endif
\if :{?table}
\else
\warn 'history_intervals.sql: missing -v table=<table>'
\set eventproc_missing true
\endif
\if :{?key}
\else
\warn 'history_intervals.sql: missing -v key=<key column>'
\set eventproc_missing true
\endif
\if :{?tiebreak}
\else
\warn 'history_intervals.sql: missing -v tiebreak=<tie-break column, or the version column again>'
\set eventproc_missing true
\endif
\if :{?eventproc_missing}
\set 'history_intervals.sql stopped: parameters missing, see the header of the file' true
\endif

WITH r AS (
  SELECT coalesce(:"key"::text, '<null>') AS k, "__start_at" AS s, "__end_at" AS e,
         lead("__start_at") OVER (PARTITION BY :"key" ORDER BY "__start_at" NULLS FIRST, :"tiebreak" NULLS FIRST) AS next_s,
         count(*) OVER (PARTITION BY :"key" ORDER BY "__start_at" NULLS FIRST, :"tiebreak" NULLS FIRST
                        ROWS BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS after
  FROM :"schema".:"table"
), current_bad AS (
  SELECT k, count(*) AS n FROM r WHERE e IS NULL GROUP BY k HAVING count(*) > 1
), interval_bad AS (
  SELECT DISTINCT k FROM r WHERE e < s OR e > next_s OR (e IS NULL AND after > 0)
), totals AS (
  SELECT count(DISTINCT k) AS keys, count(*) AS rows, count(*) FILTER (WHERE e < next_s OR (next_s IS NULL AND e IS NOT NULL)) AS closed
  FROM r
)
SELECT 'history_current' AS check_name,
       CASE WHEN NOT EXISTS (SELECT 1 FROM current_bad) THEN 'PASS' ELSE 'FAIL' END AS status,
       coalesce((SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT k FROM current_bad ORDER BY k LIMIT 20) x), '') AS offending,
       format('table=%s.%s key=%s: %s keys, %s keys with more than one current row', :'schema', :'table', :'key',
              t.keys, (SELECT count(*) FROM current_bad)) AS detail
FROM totals t
UNION ALL
SELECT 'history_intervals',
       CASE WHEN NOT EXISTS (SELECT 1 FROM interval_bad) THEN 'PASS' ELSE 'FAIL' END,
       coalesce((SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT k FROM interval_bad ORDER BY k LIMIT 20) x), ''),
       format('table=%s.%s key=%s: %s rows, %s intervals closed by a delete, %s keys with an interval that ends before it '
              || 'starts, overlaps the next or stays open before a later row', :'schema', :'table', :'key', t.rows, t.closed,
              (SELECT count(*) FROM interval_bad))
FROM totals t;
