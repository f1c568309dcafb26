-- iceberg_snapshot_continuity.sql: the commit records of eventproc writers in an Iceberg table.
--
-- The Iceberg sink commits batch N of a writer in a snapshot whose summary carries
-- eventproc.writer = eventproc:<sink name>:<Spark query id> (WriterId.appId()) and eventproc.batch = N
-- (IcebergTable). The query id changes when the checkpoint is reset, so each writer value starts again
-- at batch 0. Only snapshots in the ancestry of the branch the sink writes count (the sink reads the
-- same, and a snapshot left behind by a rollback is not part of the table): for the main branch the
-- history metadata table says which; for another branch (sink.iceberg.branch) its lineage is given in
-- ancestors, as eventproc reconcile computes it from the branch's head. Checks, one row of each per writer value:
--   iceberg_snapshot_duplicates  every batch id is in one snapshot only. A batch in two snapshots was
--                                written twice: exactly-once broke. Offending: batch ids (detail:
--                                snapshot ids).
--   iceberg_snapshot_gaps        every batch id from the first to the last seen appears. Offending:
--                                the missing batch ids. The sink commits EMPTY batches too (a snapshot
--                                with no file and the same summary), so a gap means a lost batch. Gaps
--                                known to be harmless (e.g. batches an earlier eventproc left
--                                uncommitted because they were empty) are accepted with accept_gaps: they
--                                PASS and are listed in detail.
-- When no snapshot of the writer is found, one row iceberg_snapshot_present FAILs.
-- Snapshot expiry removes snapshots and their summaries: the check covers the snapshots kept (a first
-- batch above 0 is not a gap). Keep at least the last snapshot of each writer (IcebergSink).
--
-- Parameters (spark-sql -d name=value):
--   table:      the Iceberg table as catalog.namespace.table, written as is, with its metadata tables
--               at table.snapshots and table.history (table reference)
--   writer:     the sink name (sink.name, with several sinks <pipeline.name>_<name>), or * for every
--               eventproc writer of the table (literal)
--   accept_gaps: batch ids and ranges whose absence is accepted, e.g. 12-40,77, or empty (literal;
--               eventproc reconcile takes it from reconcile.accept.gaps)
--   ancestors:  empty for a sink writing the main branch; else the snapshot ids of its branch, from the
--               head back through its parents, e.g. 812,655,301 (-1 for a branch with no snapshot yet)
--               (literal; eventproc reconcile computes it; by hand: walk parent_id in table.snapshots
--               from the branch's snapshot_id in table.refs)
--
-- Run (the catalog must be configured, e.g. a Hadoop catalog named lake):
--   spark-sql --conf spark.sql.extensions=org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions --conf spark.sql.catalog.lake=org.apache.iceberg.spark.SparkCatalog --conf spark.sql.catalog.lake.type=hadoop --conf spark.sql.catalog.lake.warehouse=/data/warehouse -d table=lake.sales.payments -d writer=payments -d accept_gaps= -d ancestors= -f sql/spark/iceberg_snapshot_continuity.sql
--
-- Result: rows (check_name, status, offending, detail), tab separated, two per writer value.

WITH params AS (
  SELECT CASE WHEN '${accept_gaps}' RLIKE '^([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)?$'
              THEN flatten(transform(filter(split('${accept_gaps}', ','), r -> r <> ''),
                                     r -> sequence(CAST(split(r, '-')[0] AS BIGINT), CAST(element_at(split(r, '-'), -1) AS BIGINT))))
              ELSE raise_error('iceberg_snapshot_continuity.sql: -d accept_gaps must be empty or batch ids and ranges, e.g. 12-40,77') END AS accepted,
         CASE WHEN '${writer}' <> '' THEN '${writer}'
              ELSE raise_error('iceberg_snapshot_continuity.sql: set -d writer=<sink name> or -d writer=*') END AS writer,
         CASE WHEN '${ancestors}' = '' THEN NULL
              WHEN '${ancestors}' RLIKE '^-?[0-9]+(,-?[0-9]+)*$' THEN transform(split('${ancestors}', ','), x -> CAST(x AS BIGINT))
              ELSE raise_error('iceberg_snapshot_continuity.sql: -d ancestors must be empty (main branch) or snapshot ids, e.g. 812,655,301') END AS ancestors
),
lineage AS (
  SELECT h.snapshot_id FROM ${table}.history h CROSS JOIN params p WHERE p.ancestors IS NULL AND h.is_current_ancestor
  UNION ALL
  SELECT explode(p.ancestors) AS snapshot_id FROM params p WHERE p.ancestors IS NOT NULL
),
snaps AS (
  SELECT s.summary['eventproc.writer'] AS app_id,
         CAST(s.summary['eventproc.batch'] AS BIGINT) AS batch_id,
         s.snapshot_id
  FROM ${table}.snapshots s CROSS JOIN params p
  WHERE s.summary['eventproc.writer'] IS NOT NULL
    AND (p.writer = '*' OR startswith(s.summary['eventproc.writer'], concat('eventproc:', p.writer, ':')))
    AND s.snapshot_id IN (SELECT l.snapshot_id FROM lineage l)
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
         array_except(sequence(min(batch_id), max(batch_id)), collect_list(batch_id)) AS all_missing
  FROM per_batch
  GROUP BY app_id
),
gaps AS (
  SELECT a.*, array_except(a.all_missing, p.accepted) AS missing, array_intersect(a.all_missing, p.accepted) AS accepted_missing
  FROM per_app a CROSS JOIN params p
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
       IF(size(a.missing) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(a.missing, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('writer=%s: batches %d..%d, %d present, %d missing%s%s',
                     a.app_id, a.first_batch, a.last_batch, a.batches, size(a.missing),
                     IF(size(a.missing) > 20, ' (first 20 listed)', ''),
                     IF(size(a.accepted_missing) = 0, '', concat('; accepted (reconcile.accept.gaps): ',
                        array_join(CAST(slice(a.accepted_missing, 1, 20) AS ARRAY<STRING>), ',')))) AS detail
FROM gaps a
UNION ALL
SELECT 'iceberg_snapshot_present' AS check_name,
       'FAIL' AS status,
       p.writer AS offending,
       format_string('no snapshot of writer %s (eventproc.writer = eventproc:%s:<query id>) in the %s of %s',
                     p.writer, p.writer, IF(p.ancestors IS NULL, 'current ancestry', 'ancestry of the branch written'), '${table}') AS detail
FROM params p
WHERE NOT EXISTS (SELECT 1 FROM per_app)
ORDER BY detail, check_name;
