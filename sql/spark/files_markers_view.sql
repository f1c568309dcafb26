-- files_markers_view.sql: a helper, not a check. Creates the temporary view of commit markers that
-- files_batch_continuity.sql reads, from a CSV with one line per marker: writer,batch_id,rows_written,writer_dir.
--
-- Spark lists no file whose name starts with _, so it cannot read the markers
-- (<path>/batch_id=<n>/writer-<sink>-<query id>/_eventproc_commit: three lines, the writer, the batch id
-- and the rows written) itself. On a local or mounted file system, make the CSV with:
--
--   for m in /data/files_sink/batch_id=*/*/_eventproc_commit /data/files_sink/batch_id=*/_eventproc_commit; do
--     [ -f "$m" ] || continue; d=$(basename "$(dirname "$m")"); case $d in batch_id=*) d=;; esac
--     echo "$(paste -sd, "$m"),$d"; done > /tmp/markers.csv
--
-- (eventproc reconcile lists the markers itself and needs no CSV.)
--
-- Parameters (spark-sql -d name=value):
--   markers_csv: the CSV file (literal)
--   markers:     the name of the view to create (identifier)

CREATE OR REPLACE TEMPORARY VIEW `${markers}`
USING csv
OPTIONS (path '${markers_csv}', schema 'writer STRING, batch_id BIGINT, rows_written BIGINT, writer_dir STRING');
