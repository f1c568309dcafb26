-- source_vs_sink.sql: a keyed sink table against its source, deduplicated by key.
--
-- The source is a table of every event the pipeline read (several versions per key possible), e.g.
-- the input topic dumped into a table. Reduced to the newest row per key (highest version; a NULL
-- version ranks below every version, as in the sinks), it must match the sink one to one:
--   source_vs_sink_count   count(DISTINCT key) of the source (NULL keys left out: the pipeline
--                          quarantines them) = count(*) of the sink, and the same keys on both sides.
--                          Offending: keys missing from the sink, keys the source lacks, keys the sink
--                          holds more than once.
--   source_vs_sink_amount  sum(amount) of the newest source row of each key = sum(amount) of the sink,
--                          and the same amount key by key. Offending: keys whose amounts differ (a key
--                          on one side only counts as a difference).
-- Offending lists at most 20 keys, ordered by key text.
--
-- Meant for upsert sinks, and for append or insert-if-absent sinks whose source has one row per key.
-- Prepare the source with a view when it holds rows the sink does not keep: deleted keys (upsert with
-- delete.condition), rows the pipeline drops (late, malformed). Two source rows of one key with the
-- same highest version are a tie that the sink settles by arrival; the check picks one arbitrarily.
-- Amounts are compared as numeric.
--
-- Parameters:
--   schema:        schema of the sink table (identifier)
--   table:         the sink table (identifier)
--   key:           the key column, same name in both tables; a composite key needs a view (identifier)
--   version_col:   the source column that orders the rows of a key, newest highest (identifier)
--   amount_col:    the amount column, same name in both tables (identifier)
--   source_schema: schema of the source table (identifier)
--   source_table:  the source table (identifier)
--
-- Run:
--   psql -X -At -F '|' -v ON_ERROR_STOP=1 -v schema=public -v table=accounts -v key=account_id -v version_col=version -v amount_col=balance -v source_schema=staging -v source_table=account_events -f sql/postgres/reconcile/source_vs_sink.sql
--
-- Result: two rows (check_name, status, offending, detail).
\set ON_ERROR_STOP on
\if :{?schema}
\else
\warn 'source_vs_sink.sql: missing -v schema=<schema of the sink table>'
\set eventproc_missing true
\endif
\if :{?table}
\else
\warn 'source_vs_sink.sql: missing -v table=<sink table>'
\set eventproc_missing true
\endif
\if :{?key}
\else
\warn 'source_vs_sink.sql: missing -v key=<key column>'
\set eventproc_missing true
\endif
\if :{?version_col}
\else
\warn 'source_vs_sink.sql: missing -v version_col=<version column of the source>'
\set eventproc_missing true
\endif
\if :{?amount_col}
\else
\warn 'source_vs_sink.sql: missing -v amount_col=<amount column>'
\set eventproc_missing true
\endif
\if :{?source_schema}
\else
\warn 'source_vs_sink.sql: missing -v source_schema=<schema of the source table>'
\set eventproc_missing true
\endif
\if :{?source_table}
\else
\warn 'source_vs_sink.sql: missing -v source_table=<source table>'
\set eventproc_missing true
\endif
\if :{?eventproc_missing}
\set 'source_vs_sink.sql stopped: parameters missing, see the header of the file' true
\endif

WITH src AS (
  SELECT DISTINCT ON (:"key") :"key" AS k, CAST(:"amount_col" AS numeric) AS amount
  FROM :"source_schema".:"source_table"
  WHERE :"key" IS NOT NULL
  ORDER BY :"key", :"version_col" DESC NULLS LAST
), snk AS (
  SELECT :"key" AS k, count(*) AS n, sum(CAST(:"amount_col" AS numeric)) AS amount
  FROM :"schema".:"table"
  GROUP BY :"key"
), cmp AS (
  SELECT coalesce(CAST(s.k AS text), CAST(t.k AS text), '<null>') AS label,
         s.k IS NOT NULL AS in_source, t.n IS NOT NULL AS in_sink, coalesce(t.n, 0) AS n,
         s.amount AS source_amount, t.amount AS sink_amount
  FROM src s FULL OUTER JOIN snk t ON t.k = s.k
), totals AS (
  SELECT (SELECT count(*) FROM src) AS source_keys,
         (SELECT coalesce(sum(n), 0) FROM snk) AS sink_rows,
         (SELECT sum(amount) FROM src) AS source_sum,
         (SELECT sum(amount) FROM snk) AS sink_sum,
         count(*) FILTER (WHERE in_source AND NOT in_sink) AS missing,
         count(*) FILTER (WHERE in_sink AND NOT in_source) AS extra,
         count(*) FILTER (WHERE n > 1) AS repeated,
         count(*) FILTER (WHERE source_amount IS DISTINCT FROM sink_amount) AS amount_diffs
  FROM cmp
), count_offenders AS (
  SELECT label FROM cmp WHERE NOT in_sink OR NOT in_source OR n > 1 ORDER BY label LIMIT 20
), amount_offenders AS (
  SELECT label FROM cmp WHERE source_amount IS DISTINCT FROM sink_amount ORDER BY label LIMIT 20
)
SELECT 'source_vs_sink_count' AS check_name,
       CASE WHEN t.source_keys = t.sink_rows AND t.missing = 0 AND t.extra = 0 AND t.repeated = 0
            THEN 'PASS' ELSE 'FAIL' END AS status,
       coalesce((SELECT string_agg(label, ',' ORDER BY label) FROM count_offenders), '') AS offending,
       format('source %s.%s distinct keys=%s, sink %s.%s rows=%s; keys missing from the sink=%s, sink keys not in the source=%s, keys repeated in the sink=%s',
              :'source_schema', :'source_table', t.source_keys, :'schema', :'table', t.sink_rows,
              t.missing, t.extra, t.repeated) AS detail
FROM totals t
UNION ALL
SELECT 'source_vs_sink_amount',
       CASE WHEN t.source_sum IS NOT DISTINCT FROM t.sink_sum AND t.amount_diffs = 0 THEN 'PASS' ELSE 'FAIL' END,
       coalesce((SELECT string_agg(label, ',' ORDER BY label) FROM amount_offenders), ''),
       format('source sum(%s) of the newest row per key by %s=%s, sink sum=%s, difference=%s; keys with a different amount=%s',
              :'amount_col', :'version_col', coalesce(t.source_sum::text, 'null'), coalesce(t.sink_sum::text, 'null'),
              coalesce((t.sink_sum - t.source_sum)::text, 'null'), t.amount_diffs)
FROM totals t;
