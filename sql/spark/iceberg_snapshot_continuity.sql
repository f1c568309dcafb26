-- iceberg_snapshot_continuity.sql: the commit records of eventproc writers in an Iceberg table.
--
-- The Iceberg sink commits batch N of a writer in a snapshot whose summary carries
-- eventproc.writer = eventproc:<sink name>:<Spark query id> (WriterId.appId()) and eventproc.batch = N
-- (IcebergTable). The query id changes when the checkpoint is reset, so each writer value starts again
-- at batch 0. Only snapshots in the current snapshot ancestry count (the sink reads the same, and a
-- snapshot left behind by a rollback is not part of the table): the history metadata table says
-- which. Checks, one row of each per writer value:
--   iceberg_snapshot_duplicates  every batch id is in one snapshot only. A batch in two snapshots was
--                                written twice: exactly-once broke. Offending: batch ids (detail:
--                                snapshot ids).
--   iceberg_snapshot_gaps        every batch id from the first to the last seen appears. Offending:
--                                the missing batch ids. A missing batch is legitimate when it was EMPTY:
--                                the Iceberg sink commits nothing for an empty batch in upsert and
--                                insert-if-absent mode, nor in append mode when the batch reaches it
--                                cached (the pipeline's quarantine split and fan-out cache it), while an
--                                uncached empty append is committed (a snapshot with no file). With
--                                allow_gaps=true the gaps are reported in detail and the row PASSes.
-- When no snapshot of the writer is found, one row iceberg_snapshot_present FAILs.
-- Snapshot expiry removes snapshots and their summaries: the check covers the snapshots kept (a first
-- batch above 0 is not a gap). Keep at least the last snapshot of each writer (IcebergSink).
--
-- Parameters (spark-sql -d name=value):
--   table:      the Iceberg table as catalog.namespace.table, written as is, with its metadata tables
--               at table.snapshots and table.history (table reference)
--   writer:     the sink name (sink.name, with several sinks <pipeline.name>_<name>), or * for every
--               eventproc writer of the table (literal)
--   allow_gaps: true or false, see iceberg_snapshot_gaps (literal)
--
-- Run (the catalog must be configured, e.g. a Hadoop catalog named lake):
--   spark-sql --conf spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions --conf spark.sql.catalog.lake=org.apache.iceberg.spark.SparkCatalog --conf spark.sql.catalog.lake.type=hadoop --conf spark.sql.catalog.lake.warehouse=/data/warehouse -d table=lake.sales.payments -d writer=payments -d allow_gaps=false -f sql/spark/iceberg_snapshot_continuity.sql
--
-- Result: rows (check_name, status, offending, detail), tab separated, two per writer value.

WITH params AS (
  SELECT CASE WHEN '${allow_gaps}' IN ('true', 'false') THEN '${allow_gaps}' = 'true'
              ELSE raise_error('iceberg_snapshot_continuity.sql: set -d allow_gaps=true or -d allow_gaps=false') END AS allow_gaps,
         CASE WHEN '${writer}' <> '' THEN '${writer}'
              ELSE raise_error('iceberg_snapshot_continuity.sql: set -d writer=<sink name> or -d writer=*') END AS writer
),
snaps AS (
  SELECT s.summary['eventproc.writer'] AS app_id,
         CAST(s.summary['eventproc.batch'] AS BIGINT) AS batch_id,
         s.snapshot_id
  FROM ${table}.snapshots s CROSS JOIN params p
  WHERE s.summary['eventproc.writer'] IS NOT NULL
    AND (p.writer = '*' OR startswith(s.summary['eventproc.writer'], concat('eventproc:', p.writer, ':')))
    AND s.snapshot_id IN (SELECT h.snapshot_id FROM ${table}.history h WHERE h.is_current_ancestor)
),
per_batch AS (
  SELECT app_id, batch_id, count(*) AS commits,
         array_join(CAST(array_sort(collect_list(snapshot_id)) AS ARRAY<STRING>), ',') AS snapshot_list
  FROM snaps
  GROUP BY app_id, batch_id
),
per_app AS (
  SELECT app_id,
         min(batch_id) AS first_batch,
         max(batch_id) AS last_batch,
         count(*) AS batches,
         sum(commits) AS snapshots,
         array_sort(collect_list(IF(commits > 1, batch_id, NULL))) AS dup_batches,
         array_sort(collect_list(IF(commits > 1, format_string('batch %d in snapshots %s', batch_id, snapshot_list), NULL))) AS dup_notes,
         array_except(sequence(min(batch_id), max(batch_id)), collect_list(batch_id)) AS missing
  FROM per_batch
  GROUP BY app_id
)
SELECT 'iceberg_snapshot_duplicates' AS check_name,
       IF(size(a.dup_batches) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(a.dup_batches, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('writer=%s: %d batches %d..%d in %d snapshots; batches in more than one snapshot=%d%s',
                     a.app_id, a.batches, a.first_batch, a.last_batch, a.snapshots, size(a.dup_batches),
                     IF(size(a.dup_batches) = 0, '', concat(' (', array_join(slice(a.dup_notes, 1, 5), '; '), ')'))) AS detail
FROM per_app a
UNION ALL
SELECT 'iceberg_snapshot_gaps' AS check_name,
       IF(size(a.missing) = 0 OR p.allow_gaps, 'PASS', 'FAIL') AS status,
       IF(size(a.missing) = 0 OR p.allow_gaps, '', array_join(CAST(slice(a.missing, 1, 20) AS ARRAY<STRING>), ',')) AS offending,
       format_string('writer=%s: batches %d..%d, %d present, %d missing%s',
                     a.app_id, a.first_batch, a.last_batch, a.batches, size(a.missing),
                     CASE WHEN size(a.missing) = 0 THEN ''
                          WHEN p.allow_gaps THEN concat(' (allowed: empty batches commit nothing): ',
                                                        array_join(CAST(slice(a.missing, 1, 20) AS ARRAY<STRING>), ','))
                          WHEN size(a.missing) > 20 THEN ' (first 20 listed)'
                          ELSE '' END) AS detail
FROM per_app a CROSS JOIN params p
UNION ALL
SELECT 'iceberg_snapshot_present' AS check_name,
       'FAIL' AS status,
       p.writer AS offending,
       format_string('no snapshot of writer %s (eventproc.writer = eventproc:%s:<query id>) in the current ancestry of %s',
                     p.writer, p.writer, '${table}') AS detail
FROM params p
WHERE NOT EXISTS (SELECT 1 FROM per_app)
ORDER BY detail, check_name;
