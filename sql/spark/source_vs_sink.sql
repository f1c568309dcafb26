-- source_vs_sink.sql: a keyed Delta, Iceberg or Parquet sink table against its source, deduplicated by key.
--
-- The source holds every event the pipeline read (several versions per key possible), e.g. the input
-- topic dumped to Parquet. Reduced to the newest row per key (highest version, a NULL version ranks
-- below every version, as in the sinks), it must match the sink one to one:
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
-- same highest version are a tie that the sink settles by arrival, the check picks one arbitrarily.
-- Amounts are compared as DECIMAL(38,6). Both tables must use the same column names for key and amount.
--
-- Parameters (spark-sql -d name=value):
--   table:        the sink table as Spark SQL names it, written as is (table reference), e.g.
--                 delta.`/data/accounts`, lake.sales.accounts
--   source_table: the source the same way, e.g. parquet.`/data/account_events` (table reference)
--   key:          the key column, same name in both tables (identifier)
--   version_col:  the source column that orders the rows of a key, newest highest (identifier)
--   amount_col:   the amount column, same name in both tables (identifier)
--
-- Run (single quotes keep the shell away from the backticks):
--   spark-sql -d 'table=delta.`/data/accounts`' -d 'source_table=parquet.`/data/account_events`' -d key=account_id -d version_col=version -d amount_col=balance -f sql/spark/source_vs_sink.sql
--
-- Result: two rows (check_name, status, offending, detail), tab separated.

WITH src AS (
  SELECT k, amount
  FROM (
    SELECT `${key}` AS k,
           CAST(`${amount_col}` AS DECIMAL(38, 6)) AS amount,
           row_number() OVER (PARTITION BY `${key}` ORDER BY `${version_col}` DESC NULLS LAST) AS rn
    FROM ${source_table}
    WHERE `${key}` IS NOT NULL
  ) ranked
  WHERE rn = 1
),
snk AS (
  SELECT `${key}` AS k, count(*) AS n, sum(CAST(`${amount_col}` AS DECIMAL(38, 6))) AS amount
  FROM ${table}
  GROUP BY `${key}`
),
cmp AS (
  SELECT coalesce(CAST(s.k AS STRING), CAST(t.k AS STRING), '<null>') AS label,
         s.k IS NOT NULL AS in_source,
         t.n IS NOT NULL AS in_sink,
         coalesce(t.n, 0L) AS n,
         s.amount AS source_amount,
         t.amount AS sink_amount
  FROM src s FULL OUTER JOIN snk t ON t.k = s.k
),
totals AS (
  SELECT count_if(in_source) AS source_keys,
         coalesce(sum(n), 0L) AS sink_rows,
         sum(source_amount) AS source_sum,
         sum(sink_amount) AS sink_sum,
         count_if(in_source AND NOT in_sink) AS missing,
         count_if(in_sink AND NOT in_source) AS extra,
         count_if(n > 1) AS repeated,
         count_if(NOT (source_amount <=> sink_amount)) AS amount_diffs,
         slice(array_sort(collect_list(IF(NOT in_sink OR NOT in_source OR n > 1, label, NULL))), 1, 20) AS count_offenders,
         slice(array_sort(collect_list(IF(NOT (source_amount <=> sink_amount), label, NULL))), 1, 20) AS amount_offenders
  FROM cmp
)
SELECT 'source_vs_sink_count' AS check_name,
       IF(source_keys = sink_rows AND missing = 0 AND extra = 0 AND repeated = 0, 'PASS', 'FAIL') AS status,
       array_join(count_offenders, ',') AS offending,
       format_string('source %s distinct keys=%d, sink %s rows=%d; keys missing from the sink=%d, sink keys not in the source=%d, keys repeated in the sink=%d',
                     '${source_table}', source_keys, '${table}', sink_rows, missing, extra, repeated) AS detail
FROM totals
UNION ALL
SELECT 'source_vs_sink_amount' AS check_name,
       IF(source_sum <=> sink_sum AND amount_diffs = 0, 'PASS', 'FAIL') AS status,
       array_join(amount_offenders, ',') AS offending,
       format_string('source sum(%s) of the newest row per key by %s=%s, sink sum=%s, difference=%s; keys with a different amount=%d',
                     '${amount_col}', '${version_col}',
                     coalesce(CAST(source_sum AS STRING), 'null'), coalesce(CAST(sink_sum AS STRING), 'null'),
                     coalesce(CAST(sink_sum - source_sum AS STRING), 'null'), amount_diffs) AS detail
FROM totals;
