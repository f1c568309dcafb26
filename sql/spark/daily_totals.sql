-- daily_totals.sql: per day, row count and sum of an amount in the sink against the same in a source,
-- over the days [from_date, to_date).
--
-- One row per day that has rows on either side. PASS when both sides have the same count and the same
-- sum, FAIL names the day otherwise, including a day present on one side only. When neither side has
-- a row in the range, one PASS row says so.
--
-- Days are calendar days of the time column in the session time zone (spark.sql.session.timeZone,
-- the JVM zone unless set): pass --conf spark.sql.session.timeZone=UTC for UTC days. Amounts are
-- cast to DECIMAL(38,6) before summing, so both sides add exact values in any order (a double is
-- rounded to 6 decimal places per row). Rows with a NULL amount count, and add nothing to the sum.
-- Both tables must use the same column names: give the source a view that renames them otherwise.
--
-- Parameters (spark-sql -d name=value):
--   table:        the sink table as Spark SQL names it, written as is (table reference), e.g.
--                 delta.`/data/payments`, parquet.`/data/files_sink`, lake.sales.payments
--   source_table: the source the same way, e.g. parquet.`/data/input_dump` or a catalog table (table reference)
--   time_col:     the event time column, timestamp or date (identifier)
--   amount_col:   the amount column, any numeric type (identifier)
--   from_date:    first day, YYYY-MM-DD, included (literal)
--   to_date:      day after the last, YYYY-MM-DD, excluded (literal)
--
-- Run (single quotes keep the shell away from the backticks):
--   spark-sql --conf spark.sql.session.timeZone=UTC -d 'table=delta.`/data/payments`' -d 'source_table=parquet.`/data/payments_src`' -d time_col=event_time -d amount_col=amount -d from_date=2025-01-01 -d to_date=2025-02-01 -f sql/spark/daily_totals.sql
--
-- Result: one row per day (check_name, status, offending, detail), tab separated, ordered by day.

WITH sink_days AS (
  SELECT to_date(`${time_col}`) AS the_day,
         count(*) AS n,
         sum(CAST(`${amount_col}` AS DECIMAL(38, 6))) AS total
  FROM ${table}
  WHERE `${time_col}` >= CAST('${from_date}' AS DATE) AND `${time_col}` < CAST('${to_date}' AS DATE)
  GROUP BY to_date(`${time_col}`)
),
source_days AS (
  SELECT to_date(`${time_col}`) AS the_day,
         count(*) AS n,
         sum(CAST(`${amount_col}` AS DECIMAL(38, 6))) AS total
  FROM ${source_table}
  WHERE `${time_col}` >= CAST('${from_date}' AS DATE) AND `${time_col}` < CAST('${to_date}' AS DATE)
  GROUP BY to_date(`${time_col}`)
),
days AS (
  SELECT CAST(coalesce(k.the_day, s.the_day) AS STRING) AS the_day,
         k.n AS sink_rows, k.total AS sink_sum, s.n AS source_rows, s.total AS source_sum,
         (k.the_day IS NOT NULL AND s.the_day IS NOT NULL AND k.n = s.n AND k.total <=> s.total) AS ok
  FROM sink_days k FULL OUTER JOIN source_days s ON s.the_day = k.the_day
)
SELECT 'daily_totals' AS check_name,
       IF(ok, 'PASS', 'FAIL') AS status,
       IF(ok, '', the_day) AS offending,
       format_string('day=%s sink rows=%d sum=%s, source rows=%d sum=%s%s',
                     the_day,
                     coalesce(sink_rows, 0L), coalesce(CAST(sink_sum AS STRING), 'null'),
                     coalesce(source_rows, 0L), coalesce(CAST(source_sum AS STRING), 'null'),
                     CASE WHEN sink_rows IS NULL THEN ' (no rows in the sink)'
                          WHEN source_rows IS NULL THEN ' (no rows in the source)'
                          WHEN ok THEN ''
                          ELSE format_string(' (rows differ by %d, sum by %s)', sink_rows - source_rows,
                                             coalesce(CAST(sink_sum - source_sum AS STRING), 'null'))
                     END) AS detail
FROM days
UNION ALL
SELECT 'daily_totals' AS check_name,
       'PASS' AS status,
       '' AS offending,
       format_string('no rows in [%s, %s) in the sink %s nor in the source %s',
                     '${from_date}', '${to_date}', '${table}', '${source_table}') AS detail
FROM (SELECT count(*) AS n FROM days) c
WHERE c.n = 0
ORDER BY detail;
