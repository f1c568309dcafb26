-- daily_totals.sql: per day, row count and sum of an amount in the sink against the same in a source
-- table, over the days [from_date, to_date).
--
-- One row per day that has rows on either side. PASS when both sides have the same count and the same
-- sum; FAIL names the day otherwise, including a day present on one side only. When neither side has
-- a row in the range, one PASS row says so.
--
-- Days are calendar days of the time column in the session's TimeZone (a timestamptz column) or as
-- stored (timestamp, date): run with PGTZ=UTC for UTC days. Sums are taken over amount::numeric, so a
-- double precision amount is compared exactly (to 15 significant digits per row) and the order in
-- which rows are added does not matter. Rows with a NULL amount count, and add nothing to the sum.
-- Both tables must use the same column names: give the source a view that renames them otherwise.
--
-- Parameters:
--   schema:            schema of the sink table (identifier)
--   table:             the sink table (identifier)
--   time_col:          the event time column, timestamptz, timestamp or date (identifier)
--   amount_col:        the amount column, any numeric type (identifier)
--   source_schema:     schema of the source table (identifier)
--   source_table:      the source table, e.g. the events the pipeline read, loaded from a topic dump (identifier)
--   from_date:         first day, YYYY-MM-DD, included (literal)
--   to_date:           day after the last, YYYY-MM-DD, excluded (literal)
--
-- Run:
--   PGTZ=UTC psql -X -At -F '|' -v ON_ERROR_STOP=1 -v schema=public -v table=payments -v time_col=event_time -v amount_col=amount -v source_schema=staging -v source_table=payments_src -v from_date=2025-01-01 -v to_date=2025-02-01 -f sql/postgres/reconcile/daily_totals.sql
--
-- Result: one row per day (check_name, status, offending, detail), ordered by day.
\set ON_ERROR_STOP on
\if :{?schema}
\else
\warn 'daily_totals.sql: missing -v schema=<schema of the sink table>'
\set eventproc_missing true
\endif
\if :{?table}
\else
\warn 'daily_totals.sql: missing -v table=<sink table>'
\set eventproc_missing true
\endif
\if :{?time_col}
\else
\warn 'daily_totals.sql: missing -v time_col=<event time column>'
\set eventproc_missing true
\endif
\if :{?amount_col}
\else
\warn 'daily_totals.sql: missing -v amount_col=<amount column>'
\set eventproc_missing true
\endif
\if :{?source_schema}
\else
\warn 'daily_totals.sql: missing -v source_schema=<schema of the source table>'
\set eventproc_missing true
\endif
\if :{?source_table}
\else
\warn 'daily_totals.sql: missing -v source_table=<source table>'
\set eventproc_missing true
\endif
\if :{?from_date}
\else
\warn 'daily_totals.sql: missing -v from_date=YYYY-MM-DD (first day, included)'
\set eventproc_missing true
\endif
\if :{?to_date}
\else
\warn 'daily_totals.sql: missing -v to_date=YYYY-MM-DD (day after the last, excluded)'
\set eventproc_missing true
\endif
\if :{?eventproc_missing}
\set 'daily_totals.sql stopped: parameters missing, see the header of the file' true
\endif

WITH sink AS (
  SELECT CAST(:"time_col" AS date) AS day, count(*) AS n, sum(CAST(:"amount_col" AS numeric)) AS total
  FROM :"schema".:"table"
  WHERE :"time_col" >= CAST(:'from_date' AS date) AND :"time_col" < CAST(:'to_date' AS date)
  GROUP BY 1
), source AS (
  SELECT CAST(:"time_col" AS date) AS day, count(*) AS n, sum(CAST(:"amount_col" AS numeric)) AS total
  FROM :"source_schema".:"source_table"
  WHERE :"time_col" >= CAST(:'from_date' AS date) AND :"time_col" < CAST(:'to_date' AS date)
  GROUP BY 1
), days AS (
  SELECT coalesce(k.day, s.day) AS day,
         k.n AS sink_rows, k.total AS sink_sum, s.n AS source_rows, s.total AS source_sum,
         k.day IS NOT NULL AND s.day IS NOT NULL
           AND k.n = s.n AND k.total IS NOT DISTINCT FROM s.total AS ok
  FROM sink k FULL OUTER JOIN source s ON s.day = k.day
)
SELECT 'daily_totals' AS check_name,
       CASE WHEN ok THEN 'PASS' ELSE 'FAIL' END AS status,
       CASE WHEN ok THEN '' ELSE to_char(day, 'YYYY-MM-DD') END AS offending,
       format('day=%s sink rows=%s sum=%s, source rows=%s sum=%s%s', to_char(day, 'YYYY-MM-DD'),
              coalesce(sink_rows, 0), coalesce(sink_sum::text, 'null'),
              coalesce(source_rows, 0), coalesce(source_sum::text, 'null'),
              CASE WHEN sink_rows IS NULL THEN ' (no rows in the sink)'
                   WHEN source_rows IS NULL THEN ' (no rows in the source)'
                   WHEN ok THEN ''
                   ELSE format(' (rows differ by %s, sum by %s)', sink_rows - source_rows,
                               coalesce((sink_sum - source_sum)::text, 'null')) END) AS detail
FROM days
UNION ALL
SELECT 'daily_totals', 'PASS', '',
       format('no rows in [%s, %s) in the sink %s.%s nor in the source %s.%s',
              :'from_date', :'to_date', :'schema', :'table', :'source_schema', :'source_table')
WHERE NOT EXISTS (SELECT 1 FROM days)
ORDER BY detail;
