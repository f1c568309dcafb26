-- rows_vs_distinct.sql: row count against distinct key count of a table.
--
-- PASS when count(*) = count(DISTINCT key) and no row has a NULL key, i.e. one row per key.
-- FAIL lists keys with more than one row (most rows first, at most 20) and <null> when NULL keys
-- exist; detail gives the three counts.
--
-- Parameters:
--   schema: schema of the table to check (identifier)
--   table:  the table to check (identifier)
--   key:    the key column; for a composite key check a view that concatenates the columns (identifier)
--
-- Run:
--   psql -X -At -F '|' -v ON_ERROR_STOP=1 -v schema=public -v table=payments -v key=payment_id -f sql/postgres/reconcile/rows_vs_distinct.sql
--
-- Result: one row (check_name, status, offending, detail).
\set ON_ERROR_STOP on
\if :{?schema}
\else
\warn 'rows_vs_distinct.sql: missing -v schema=<schema of the table>'
\set eventproc_missing true
\endif
\if :{?table}
\else
\warn 'rows_vs_distinct.sql: missing -v table=<table>'
\set eventproc_missing true
\endif
\if :{?key}
\else
\warn 'rows_vs_distinct.sql: missing -v key=<key column>'
\set eventproc_missing true
\endif
\if :{?eventproc_missing}
\set 'rows_vs_distinct.sql stopped: parameters missing, see the header of the file' true
\endif

WITH counts AS (
  SELECT count(*) AS rows, count(DISTINCT :"key") AS keys, count(*) - count(:"key") AS null_keys
  FROM :"schema".:"table"
), offenders AS (
  SELECT coalesce(:"key"::text, '<null>') AS k, count(*) AS n
  FROM :"schema".:"table"
  GROUP BY :"key"
  HAVING count(*) > 1 OR :"key" IS NULL
  ORDER BY count(*) DESC, 1
  LIMIT 20
)
SELECT 'rows_vs_distinct' AS check_name,
       CASE WHEN c.rows = c.keys AND c.null_keys = 0 THEN 'PASS' ELSE 'FAIL' END AS status,
       CASE WHEN c.rows = c.keys AND c.null_keys = 0 THEN ''
            ELSE coalesce((SELECT string_agg(k, ',' ORDER BY n DESC, k) FROM offenders), '') END AS offending,
       format('table=%s.%s key=%s: rows=%s distinct keys=%s null keys=%s extra rows=%s',
              :'schema', :'table', :'key', c.rows, c.keys, c.null_keys, c.rows - c.keys) AS detail
FROM counts c;
