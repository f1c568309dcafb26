-- duplicate_keys.sql: keys that have more than one row in a table.
--
-- A keyed sink (upsert, insert-if-absent) holds at most one row per key; in an append table a key
-- that should be unique per event (an event id) must not repeat either. FAIL lists the keys with the
-- most rows first (at most 20); detail gives how many keys repeat and how many rows they hold.
-- Rows with a NULL key count as one group, shown as <null>.
--
-- Parameters:
--   schema: schema of the table to check (identifier)
--   table:  the table to check (identifier)
--   key:    the key column; for a composite key check a view that concatenates the columns (identifier)
--
-- Run:
--   psql -X -At -F '|' -v ON_ERROR_STOP=1 -v schema=public -v table=payments -v key=payment_id -f sql/postgres/reconcile/duplicate_keys.sql
--
-- Result: one row (check_name, status, offending, detail).
\set ON_ERROR_STOP on
\if :{?schema}
\else
\warn 'duplicate_keys.sql: missing -v schema=<schema of the table>'
\set eventproc_missing true
\endif
\if :{?table}
\else
\warn 'duplicate_keys.sql: missing -v table=<table>'
\set eventproc_missing true
\endif
\if :{?key}
\else
\warn 'duplicate_keys.sql: missing -v key=<key column>'
\set eventproc_missing true
\endif
\if :{?eventproc_missing}
\set 'duplicate_keys.sql stopped: parameters missing, see the header of the file' true
\endif

WITH dup AS (
  SELECT coalesce(:"key"::text, '<null>') AS k, count(*) AS n
  FROM :"schema".:"table"
  GROUP BY :"key"
  HAVING count(*) > 1
), top AS (
  SELECT k, n FROM dup ORDER BY n DESC, k LIMIT 20
), totals AS (
  SELECT count(*) AS keys, coalesce(sum(n), 0) AS rows, coalesce(max(n), 0) AS worst FROM dup
)
SELECT 'duplicate_keys' AS check_name,
       CASE WHEN t.keys = 0 THEN 'PASS' ELSE 'FAIL' END AS status,
       coalesce((SELECT string_agg(k, ',' ORDER BY n DESC, k) FROM top), '') AS offending,
       CASE WHEN t.keys = 0
            THEN format('table=%s.%s key=%s: every key has one row', :'schema', :'table', :'key')
            ELSE format('table=%s.%s key=%s: %s keys have more than one row (%s rows in all, up to %s rows for one key)%s',
                        :'schema', :'table', :'key', t.keys, t.rows, t.worst,
                        CASE WHEN t.keys > 20 THEN '; first 20 listed' ELSE '' END)
       END AS detail
FROM totals t;
