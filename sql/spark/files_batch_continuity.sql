-- files_batch_continuity.sql: the batch directories of an eventproc files sink (Parquet or JSON).
--
-- The files sink writes batch N of a writer to <path>/batch_id=N/writer-<sink name>-<query id>/ (written
-- aside under <path>/_tmp/, then renamed into place; tables written before eventproc had per-writer
-- directories hold a batch's files directly in batch_id=N/) with a hidden marker _eventproc_commit
-- holding three lines: the writer (eventproc:<sink name>:<query id>), the batch id and the rows written
-- (FilesSink). After a reset checkpoint a batch id has one directory per writer. Spark lists no
-- file whose name starts with _ or ., so the markers and _tmp are invisible here: the rows per
-- batch that this file reports are to be compared with the markers by other means (see
-- sql/README.md). Checks, one row each:
--   files_batch_gaps         every batch id from the first to the last directory holding rows appears.
--                            Offending: the missing batch ids. A missing batch is legitimate when it
--                            was EMPTY: an empty batch leaves no directory (when it reaches the sink
--                            cached, as from the pipeline's quarantine split or fan-out) or one whose
--                            files hold no row, and neither shows up in a scan. With
--                            allow_gaps=true the gaps are reported in detail and the row PASSes.
--   files_batch_single_write the files of each writer's batch directory come from ONE Spark write job (the job
--                            id is the UUID in part-NNNNN-<uuid>-c000... file names). Files of two jobs
--                            in one directory mean two attempts of the batch were mixed (a rename that
--                            is not atomic, a copy by hand). Offending: batch ids. File names not of
--                            that form count as one job.
--   files_batch_rows         rows per batch, for information (PASS): batches, total rows, fewest and
--                            most rows in a batch, rows of the last batch.
-- When the directory holds no row at all, one row files_batches_present FAILs.
--
-- Parameters (spark-sql -d name=value):
--   table:      the sink directory (files.path) as a file table, written as is (table reference):
--               parquet.`/data/files_sink`, or json.`/data/files_sink` for files.format=json
--   allow_gaps: true or false, see files_batch_gaps (literal)
--
-- Run (single quotes keep the shell away from the backticks):
--   spark-sql -d 'table=parquet.`/data/files_sink`' -d allow_gaps=false -f sql/spark/files_batch_continuity.sql
--
-- Result: three rows (check_name, status, offending, detail), tab separated.

WITH params AS (
  SELECT CASE WHEN '${allow_gaps}' IN ('true', 'false') THEN '${allow_gaps}' = 'true'
              ELSE raise_error('files_batch_continuity.sql: set -d allow_gaps=true or -d allow_gaps=false') END AS allow_gaps
),
scan AS (
  SELECT CAST(batch_id AS BIGINT) AS batch_id,
         input_file_name() AS file,
         regexp_extract(input_file_name(), '/batch_id=[^/]*/(writer-[^/]+)/[^/]*$', 1) AS writer,
         regexp_extract(input_file_name(),
                        '/part-[0-9]+-([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})[^/]*$', 1) AS write_id
  FROM ${table}
),
per_batch AS (
  SELECT batch_id, writer, count(*) AS n_rows, count(DISTINCT file) AS n_files, count(DISTINCT write_id) AS writes
  FROM scan
  GROUP BY batch_id, writer
),
totals AS (
  SELECT count(*) AS batches,
         min(batch_id) AS first_batch,
         max(batch_id) AS last_batch,
         sum(n_rows) AS total_rows,
         min(n_rows) AS fewest,
         max(n_rows) AS most,
         max_by(n_rows, batch_id) AS last_rows,
         array_except(sequence(min(batch_id), max(batch_id)), collect_list(batch_id)) AS missing,
         array_sort(collect_list(IF(writes > 1, batch_id, NULL))) AS mixed,
         array_sort(collect_list(IF(writes > 1, format_string('batch %d: %d files of %d jobs', batch_id, n_files, writes), NULL))) AS mixed_notes
  FROM per_batch
  WHERE batch_id IS NOT NULL
)
SELECT 'files_batch_gaps' AS check_name,
       IF(size(t.missing) = 0 OR p.allow_gaps, 'PASS', 'FAIL') AS status,
       IF(size(t.missing) = 0 OR p.allow_gaps, '', array_join(CAST(slice(t.missing, 1, 20) AS ARRAY<STRING>), ',')) AS offending,
       format_string('table=%s: batches %d..%d, %d with rows, %d missing%s',
                     '${table}', t.first_batch, t.last_batch, t.batches, size(t.missing),
                     CASE WHEN size(t.missing) = 0 THEN ''
                          WHEN p.allow_gaps THEN concat(' (allowed: empty batches show no rows): ',
                                                        array_join(CAST(slice(t.missing, 1, 20) AS ARRAY<STRING>), ','))
                          WHEN size(t.missing) > 20 THEN ' (first 20 listed)'
                          ELSE '' END) AS detail
FROM totals t CROSS JOIN params p
WHERE t.batches > 0
UNION ALL
SELECT 'files_batch_single_write' AS check_name,
       IF(size(t.mixed) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(t.mixed, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('table=%s: %d batch directories, %d with files of more than one write job%s',
                     '${table}', t.batches, size(t.mixed),
                     IF(size(t.mixed) = 0, '', concat(' (', array_join(slice(t.mixed_notes, 1, 5), '; '), ')'))) AS detail
FROM totals t
WHERE t.batches > 0
UNION ALL
SELECT 'files_batch_rows' AS check_name,
       'PASS' AS status,
       '' AS offending,
       format_string('table=%s: %d batches, %d rows, fewest in a batch=%d, most=%d, last batch %d: %d rows',
                     '${table}', t.batches, t.total_rows, t.fewest, t.most, t.last_batch, t.last_rows) AS detail
FROM totals t
WHERE t.batches > 0
UNION ALL
SELECT 'files_batches_present' AS check_name,
       'FAIL' AS status,
       '${table}' AS offending,
       format_string('no row in %s (its batch_id=N directories)', '${table}') AS detail
FROM totals t CROSS JOIN params p
WHERE t.batches = 0;
