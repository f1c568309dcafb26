-- files_batch_continuity.sql: the batch directories of an eventproc files sink (Parquet or JSON).
--
-- The files sink writes batch N of a writer to <path>/batch_id=N/writer-<sink name>-<query id>/ (written
-- aside under <path>/_tmp/, then renamed into place; tables written before eventproc had per-writer
-- directories hold a batch's files directly in batch_id=N/) with a hidden marker _eventproc_commit
-- holding three lines: the writer (eventproc:<sink name>:<query id>), the batch id and the rows written
-- (FilesSink), written for EMPTY batches too. After a reset checkpoint a batch id has one directory
-- per writer. Spark lists no file whose name starts with _ or ., so the markers are read through a
-- view (markers: writer, batch_id, rows_written, writer_dir) that eventproc reconcile builds by listing them,
-- or that files_markers_view.sql makes from a CSV of them (see sql/README.md). Checks, one row each:
--   files_batch_gaps         per writer, every batch id from the first to the last marker appears.
--                            Offending: the missing batch ids. Every batch, empty ones included,
--                            leaves a marker, so a gap means a lost batch (a directory removed, a
--                            batch never written). Gaps known to be harmless (e.g. batches an earlier
--                            eventproc left unmarked because they were empty) are accepted with
--                            accept_gaps: they PASS and are listed in detail.
--   files_batch_single_write the files of each writer's batch directory come from ONE Spark write job (the job
--                            id is the UUID in part-NNNNN-<uuid>-c000... file names). Files of two jobs
--                            in one directory mean two attempts of the batch were mixed (a rename that
--                            is not atomic, a copy by hand). Offending: batch ids. File names not of
--                            that form count as one job.
--   files_batch_rows         the rows found in each batch directory equal the rows its marker says
--                            were written; a directory holding rows without a marker (uncommitted data
--                            in view) FAILs too. Offending: batch ids. Detail: batches, total rows.
-- When there is no marker at all, one row files_batches_present FAILs.
--
-- Parameters (spark-sql -d name=value):
--   table:       the sink directory (files.path) as a file table, written as is (table reference):
--                parquet.`/data/files_sink`, or json.`/data/files_sink` for files.format=json
--   markers:     the markers view (table reference), see files_markers_view.sql
--   accept_gaps: batch ids and ranges whose absence is accepted, e.g. 12-40,77, or empty (literal;
--                eventproc reconcile takes it from reconcile.accept.gaps)
--
-- Run (single quotes keep the shell away from the backticks):
--   spark-sql -d 'table=parquet.`/data/files_sink`' -d markers_csv=/tmp/markers.csv -d markers=markers -d accept_gaps= -i sql/spark/files_markers_view.sql -f sql/spark/files_batch_continuity.sql
--
-- Result: three rows (check_name, status, offending, detail), tab separated.

WITH params AS (
  SELECT CASE WHEN '${accept_gaps}' RLIKE '^([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)?$'
              THEN flatten(transform(filter(split('${accept_gaps}', ','), r -> r <> ''),
                                     r -> sequence(CAST(split(r, '-')[0] AS BIGINT), CAST(element_at(split(r, '-'), -1) AS BIGINT))))
              ELSE raise_error('files_batch_continuity.sql: -d accept_gaps must be empty or batch ids and ranges, e.g. 12-40,77') END AS accepted
),
marks AS (
  SELECT CAST(writer AS STRING) AS writer, CAST(batch_id AS BIGINT) AS batch_id, CAST(rows_written AS BIGINT) AS marked_rows,
         coalesce(CAST(writer_dir AS STRING), '') AS writer_dir
  FROM ${markers}
),
scan AS (
  SELECT CAST(batch_id AS BIGINT) AS batch_id,
         input_file_name() AS file,
         regexp_extract(input_file_name(), '/batch_id=[^/]*/(writer-[^/]+)/[^/]*$', 1) AS writer_dir,
         regexp_extract(input_file_name(),
                        '/part-[0-9]+-([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})[^/]*$', 1) AS write_id
  FROM ${table}
),
per_dir AS (
  SELECT batch_id, writer_dir, count(*) AS n_rows, count(DISTINCT file) AS n_files, count(DISTINCT write_id) AS writes
  FROM scan
  WHERE batch_id IS NOT NULL
  GROUP BY batch_id, writer_dir
),
per_writer AS (
  SELECT writer, min(batch_id) AS first_batch, max(batch_id) AS last_batch, count(DISTINCT batch_id) AS batches,
         array_except(sequence(min(batch_id), max(batch_id)), collect_list(batch_id)) AS all_missing
  FROM marks
  GROUP BY writer
),
gaps AS (
  SELECT w.*, array_except(w.all_missing, p.accepted) AS missing, array_intersect(w.all_missing, p.accepted) AS accepted_missing
  FROM per_writer w CROSS JOIN params p
),
rows_check AS (
  SELECT coalesce(m.batch_id, d.batch_id) AS batch_id, m.marked_rows, coalesce(d.n_rows, 0) AS found_rows
  FROM marks m FULL OUTER JOIN per_dir d ON m.batch_id = d.batch_id AND m.writer_dir = d.writer_dir
),
totals AS (
  SELECT (SELECT count(*) FROM marks) AS markers,
         (SELECT coalesce(sum(n_rows), 0) FROM per_dir) AS total_rows,
         (SELECT count(*) FROM per_dir) AS dirs,
         (SELECT array_sort(collect_set(batch_id)) FROM rows_check
           WHERE marked_rows IS NULL OR marked_rows <> found_rows) AS wrong_rows,
         (SELECT array_sort(collect_list(format_string('batch %d: marker %s rows, found %d', batch_id,
                  coalesce(CAST(marked_rows AS STRING), 'none'), found_rows))) FROM rows_check
           WHERE marked_rows IS NULL OR marked_rows <> found_rows) AS wrong_notes,
         (SELECT array_sort(collect_set(batch_id)) FROM per_dir WHERE writes > 1) AS mixed,
         (SELECT array_sort(collect_list(format_string('batch %d: %d files of %d jobs', batch_id, n_files, writes)))
            FROM per_dir WHERE writes > 1) AS mixed_notes
)
SELECT 'files_batch_gaps' AS check_name,
       IF(size(g.missing) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(g.missing, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('table=%s writer=%s: batches %d..%d, %d marked, %d missing%s%s',
                     '${table}', g.writer, g.first_batch, g.last_batch, g.batches, size(g.missing),
                     IF(size(g.missing) > 20, ' (first 20 listed)', ''),
                     IF(size(g.accepted_missing) = 0, '', concat('; accepted (reconcile.accept.gaps): ',
                        array_join(CAST(slice(g.accepted_missing, 1, 20) AS ARRAY<STRING>), ',')))) AS detail
FROM gaps g
UNION ALL
SELECT 'files_batch_single_write' AS check_name,
       IF(size(t.mixed) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(t.mixed, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('table=%s: %d batch directories with rows, %d with files of more than one write job%s',
                     '${table}', t.dirs, size(t.mixed),
                     IF(size(t.mixed) = 0, '', concat(' (', array_join(slice(t.mixed_notes, 1, 5), '; '), ')'))) AS detail
FROM totals t
WHERE t.markers > 0
UNION ALL
SELECT 'files_batch_rows' AS check_name,
       IF(size(t.wrong_rows) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(t.wrong_rows, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('table=%s: %d markers, %d rows found; batches whose rows differ from their marker=%d%s',
                     '${table}', t.markers, t.total_rows, size(t.wrong_rows),
                     IF(size(t.wrong_rows) = 0, '', concat(' (', array_join(slice(t.wrong_notes, 1, 5), '; '), ')'))) AS detail
FROM totals t
WHERE t.markers > 0
UNION ALL
SELECT 'files_batches_present' AS check_name,
       'FAIL' AS status,
       '${table}' AS offending,
       format_string('no commit marker under %s (batch_id=N/writer-*/_eventproc_commit)', '${table}') AS detail
FROM totals t
WHERE t.markers = 0;
