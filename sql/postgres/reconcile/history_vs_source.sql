-- history_vs_source.sql: the current rows of a history table against the newest event per key of a source.
--
-- For every key of the source, the newest event by (version, tie-break), a delete winning a tie: when
-- it is a delete the key must have no current row; otherwise its current row (__end_at IS NULL) must
-- start at that version. A current row of a key the source lacks fails too. This is what upsert with
-- the same keys, version and delete condition would hold. FAIL lists the keys (at most 20).
--
-- Parameters:
--   schema, table:               the history table (identifiers)
--   source_schema, source_table: the source events, every version (identifiers)
--   key:         the key column, in both (identifier)
--   version_col: the version column of the source (identifier)
--   tiebreak:    the tie-break column of the source, or the version column again (identifier)
--   deleted_col: a boolean column of the source, true for a delete; for op = 'd' check a view that adds
--                it, e.g. CREATE VIEW events_v AS SELECT *, op = 'd' AS deleted FROM events (identifier)
--
-- Run:
--   psql -X -At -F '|' -v ON_ERROR_STOP=1 -v schema=public -v table=accounts_history -v source_schema=public -v source_table=events_v -v key=account_id -v version_col=version -v tiebreak=lsn -v deleted_col=deleted -f sql/postgres/reconcile/history_vs_source.sql
--
-- Result: one row (check_name, status, offending, detail).
\set ON_ERROR_STOP on
\if :{?schema}
\else
\warn 'history_vs_source.sql: missing -v schema=<schema of the table>'
\set eventproc_missing true
\endif
\if :{?table}
\else
\warn 'history_vs_source.sql: missing -v table=<table>'
\set eventproc_missing true
\endif
\if :{?source_schema}
\else
\warn 'history_vs_source.sql: missing -v source_schema=<schema of the source>'
\set eventproc_missing true
\endif
\if :{?source_table}
\else
\warn 'history_vs_source.sql: missing -v source_table=<source table>'
\set eventproc_missing true
\endif
\if :{?key}
\else
\warn 'history_vs_source.sql: missing -v key=<key column>'
\set eventproc_missing true
\endif
\if :{?version_col}
\else
\warn 'history_vs_source.sql: missing -v version_col=<version column>'
\set eventproc_missing true
\endif
\if :{?tiebreak}
\else
\warn 'history_vs_source.sql: missing -v tiebreak=<tie-break column, or the version column again>'
\set eventproc_missing true
\endif
\if :{?deleted_col}
\else
\warn 'history_vs_source.sql: missing -v deleted_col=<boolean column, true for a delete>'
\set eventproc_missing true
\endif
\if :{?eventproc_missing}
\set 'history_vs_source.sql stopped: parameters missing, see the header of the file' true
\endif

WITH newest AS (
  SELECT DISTINCT ON (:"key") :"key"::text AS k, :"version_col" AS v, coalesce(:"deleted_col", false) AS d
  FROM :"source_schema".:"source_table"
  ORDER BY :"key", :"version_col" DESC NULLS LAST, :"tiebreak" DESC NULLS LAST, coalesce(:"deleted_col", false) DESC
), cur AS (
  SELECT :"key"::text AS k, "__start_at" AS s FROM :"schema".:"table" WHERE "__end_at" IS NULL
), bad AS (
  SELECT coalesce(n.k, c.k) AS k FROM newest n FULL JOIN cur c ON c.k = n.k
  WHERE (n.k IS NULL) OR (n.d AND c.k IS NOT NULL) OR (NOT n.d AND (c.k IS NULL OR c.s IS DISTINCT FROM n.v))
)
SELECT 'history_vs_source' AS check_name,
       CASE WHEN NOT EXISTS (SELECT 1 FROM bad) THEN 'PASS' ELSE 'FAIL' END AS status,
       coalesce((SELECT string_agg(k, ',' ORDER BY k) FROM (SELECT k FROM bad ORDER BY k LIMIT 20) x), '') AS offending,
       format('table=%s.%s source=%s.%s key=%s: %s source keys (%s deleted), %s current rows, %s keys differ', :'schema', :'table',
              :'source_schema', :'source_table', :'key', (SELECT count(*) FROM newest), (SELECT count(*) FROM newest WHERE d),
              (SELECT count(*) FROM cur), (SELECT count(*) FROM bad)) AS detail;
