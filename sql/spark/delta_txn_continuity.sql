-- delta_txn_continuity.sql: the commit records of eventproc writers in a Delta table log.
--
-- The Delta sink commits batch N of a writer with SetTransaction(appId, version = N) in the same Delta
-- commit as the data (DeltaTarget). appId is WriterId.appId(): eventproc:<sink name>:<Spark query id>.
-- The query id changes when the checkpoint is reset, so each appId starts again at batch 0.
-- This file reads the txn actions of the commit files _delta_log/<20 digits>.json as text and parses
-- them with get_json_object (no schema inference, so a log without any txn action still answers).
-- Checks, one row of each per appId:
--   delta_txn_duplicates  every batch id appears in one commit only. A batch in two commits was
--                         written twice: exactly-once broke. Offending: batch ids (detail: commits).
--   delta_txn_gaps        every batch id from the first to the last seen appears. Offending: the
--                         missing batch ids. The sink commits EMPTY batches too (a commit with the
--                         txn action and no file), so a gap means a lost batch. Gaps known to be
--                         harmless (e.g. batches an earlier eventproc left uncommitted because they
--                         were empty) are accepted with accept_gaps: they PASS and are listed in detail.
-- When no txn action of the writer is found, one row delta_txn_present FAILs.
-- Only the commit files still in the log are read: Delta deletes commit files older than
-- delta.logRetentionDuration (30 days by default) once a checkpoint covers them, so the check covers
-- the batches of the retained commits (a first batch above 0 is not a gap).
--
-- Parameters (spark-sql -d name=value):
--   table_path: the Delta table directory or URI, without a trailing slash (literal)
--   writer:     the sink name (sink.name, with several sinks <pipeline.name>_<name>), or * for every
--               eventproc writer of the table (literal)
--   accept_gaps: batch ids and ranges whose absence is accepted, e.g. 12-40,77, or empty (literal;
--               eventproc reconcile takes it from reconcile.accept.gaps)
--
-- Run:
--   spark-sql -d table_path=/data/payments -d writer=payments -d accept_gaps= -f sql/spark/delta_txn_continuity.sql
--
-- Result: rows (check_name, status, offending, detail), tab separated, two per appId.

WITH params AS (
  SELECT CASE WHEN '${accept_gaps}' RLIKE '^([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)?$'
              THEN flatten(transform(filter(split('${accept_gaps}', ','), r -> r <> ''),
                                     r -> sequence(CAST(split(r, '-')[0] AS BIGINT), CAST(element_at(split(r, '-'), -1) AS BIGINT))))
              ELSE raise_error('delta_txn_continuity.sql: -d accept_gaps must be empty or batch ids and ranges, e.g. 12-40,77') END AS accepted,
         CASE WHEN '${writer}' <> '' THEN '${writer}'
              ELSE raise_error('delta_txn_continuity.sql: set -d writer=<sink name> or -d writer=*') END AS writer
),
txns AS (
  SELECT get_json_object(value, '$.txn.appId') AS app_id,
         CAST(get_json_object(value, '$.txn.version') AS BIGINT) AS batch_id,
         CAST(regexp_extract(input_file_name(), '([0-9]+)[.]json$', 1) AS BIGINT) AS commit_version
  FROM text.`${table_path}/_delta_log/*.json`
  WHERE input_file_name() RLIKE '/[0-9]{20}[.]json$'
    AND get_json_object(value, '$.txn.appId') IS NOT NULL
),
mine AS (
  SELECT t.*
  FROM txns t CROSS JOIN params p
  WHERE startswith(t.app_id, 'eventproc:')
    AND (p.writer = '*' OR startswith(t.app_id, concat('eventproc:', p.writer, ':')))
),
per_batch AS (
  SELECT app_id, batch_id, count(*) AS commits,
         array_join(CAST(array_sort(collect_list(commit_version)) AS ARRAY<STRING>), ',') AS commit_list
  FROM mine
  GROUP BY app_id, batch_id
),
per_app AS (
  SELECT app_id,
         min(batch_id) AS first_batch,
         max(batch_id) AS last_batch,
         count(*) AS batches,
         sum(commits) AS txn_actions,
         array_sort(collect_list(IF(commits > 1, batch_id, NULL))) AS dup_batches,
         array_sort(collect_list(IF(commits > 1, format_string('batch %d in commits %s', batch_id, commit_list), NULL))) AS dup_notes,
         array_except(sequence(min(batch_id), max(batch_id)), collect_list(batch_id)) AS all_missing
  FROM per_batch
  GROUP BY app_id
),
gaps AS (
  SELECT a.*, array_except(a.all_missing, p.accepted) AS missing, array_intersect(a.all_missing, p.accepted) AS accepted_missing
  FROM per_app a CROSS JOIN params p
)
SELECT 'delta_txn_duplicates' AS check_name,
       IF(size(a.dup_batches) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(a.dup_batches, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('appId=%s: %d batches %d..%d in %d txn actions; batches in more than one commit=%d%s',
                     a.app_id, a.batches, a.first_batch, a.last_batch, a.txn_actions, size(a.dup_batches),
                     IF(size(a.dup_batches) = 0, '', concat(' (', array_join(slice(a.dup_notes, 1, 5), '; '), ')'))) AS detail
FROM per_app a
UNION ALL
SELECT 'delta_txn_gaps' AS check_name,
       IF(size(a.missing) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(a.missing, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('appId=%s: batches %d..%d, %d present, %d missing%s%s',
                     a.app_id, a.first_batch, a.last_batch, a.batches, size(a.missing),
                     IF(size(a.missing) > 20, ' (first 20 listed)', ''),
                     IF(size(a.accepted_missing) = 0, '', concat('; accepted (reconcile.accept.gaps): ',
                        array_join(CAST(slice(a.accepted_missing, 1, 20) AS ARRAY<STRING>), ',')))) AS detail
FROM gaps a
UNION ALL
SELECT 'delta_txn_present' AS check_name,
       'FAIL' AS status,
       p.writer AS offending,
       format_string('no txn action of writer %s (appId eventproc:%s:<query id>) in the commits of %s/_delta_log',
                     p.writer, p.writer, '${table_path}') AS detail
FROM params p
WHERE NOT EXISTS (SELECT 1 FROM per_app)
ORDER BY detail, check_name;
