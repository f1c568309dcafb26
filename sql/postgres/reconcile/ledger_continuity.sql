-- ledger_continuity.sql: the eventproc ledger of one PostgreSQL sink (writer) against its target.
--
-- The ledger (sql/postgres/ledger.sql) holds one row per committed batch of a writer, or one row per
-- key-hash slice with sink.postgres.commit=partition. Columns: writer (the sink name), query_id (Spark's
-- query id, new after a checkpoint reset, so a reset starts again at batch 0 under a new query_id),
-- batch_id, partition_id (-1 for a batch committed whole, else the slice), partitions (1, or the
-- slice count), target_table ('<schema>.<table>'), rows_in, rows_written, rows_ignored.
--
-- Checks, one row each:
--   ledger_gaps               every batch id from the first to the last of each query id is in the
--                             ledger. The Postgres sink commits EMPTY batches too (a ledger row with
--                             rows_in = rows_written = 0, PostgresSink.commitEmpty), so no gap is
--                             legitimate: a missing batch was never committed, or its ledger row was
--                             deleted. A first batch above 0 is reported in detail, not failed (a sink
--                             added to a running query starts at the query's current batch).
--                             Gaps known to be harmless are accepted with accept_gaps: they PASS and
--                             are listed in detail.
--                             The primary key (writer, query_id, batch_id, partition_id) already rules
--                             out a batch committed twice. Offending: batch ids ('<query_id>:<batch>'
--                             when several query ids are checked).
--   ledger_incomplete_batches each batch is complete: either one row with partition_id -1 and
--                             partitions 1, or the rows of slices 0 .. partitions-1, all with the same
--                             partitions. A partly applied batch (commit=partition, a crash between the
--                             slice transactions) is finished by the sink when the query restarts;
--                             while the query is down its rows are visible in part.
--   ledger_rows_vs_target     count(*) of the target against sum(rows_written) of ALL ledger rows whose
--                             target_table is '<schema>.<table>' (every writer and query id: the
--                             target holds the rows of all of them; the share of the checked writer is
--                             in detail).
--                               append:           equal, else FAIL (each row written is one row inserted)
--                               insert-if-absent: equal, else FAIL (rows_written counts inserts only)
--                               upsert, history:  rows_written counts inserts, updates and deletes, so
--                                                 only count(*) <= sum(rows_written) holds; FAIL when the
--                                                 target holds more rows than the sink ever wrote,
--                                                 else PASS with the sums.
--                             Another mode value FAILs this row, naming it.
--                             Rows deleted from the target by hand (retention, a cleanup) or a target
--                             dropped and recreated under the same name make append and
--                             insert-if-absent FAIL: read the detail.
--
-- Parameters:
--   ledger_schema: schema of the ledger table (identifier)
--   ledger_table:  the ledger table, eventproc_ledger unless sink.postgres.ledger.table says otherwise (identifier)
--   writer:        the sink name (sink.name; with several sinks <pipeline.name>_<name>) (literal)
--   query_id:      Spark's query id of the run to check, or * for every query id of the writer (literal)
--   schema:        schema of the sink's target table (identifier)
--   table:         the sink's target table (identifier)
--   mode:          the sink's mode: append, insert-if-absent, upsert or history (literal)
--   accept_gaps:   optional: batch ids and ranges whose absence is accepted, e.g. 12-40,77 (literal;
--                  eventproc reconcile takes it from reconcile.accept.gaps)
--
-- Run:
--   psql -X -At -F '|' -v ON_ERROR_STOP=1 -v ledger_schema=public -v ledger_table=eventproc_ledger -v writer=payments -v 'query_id=*' -v schema=public -v table=payments -v mode=append -f sql/postgres/reconcile/ledger_continuity.sql
--
-- Result: three rows (check_name, status, offending, detail).
\set ON_ERROR_STOP on
\if :{?ledger_schema}
\else
\warn 'ledger_continuity.sql: missing -v ledger_schema=<schema of the ledger>'
\set eventproc_missing true
\endif
\if :{?ledger_table}
\else
\warn 'ledger_continuity.sql: missing -v ledger_table=<ledger table, e.g. eventproc_ledger>'
\set eventproc_missing true
\endif
\if :{?writer}
\else
\warn 'ledger_continuity.sql: missing -v writer=<sink name>'
\set eventproc_missing true
\endif
\if :{?query_id}
\else
\warn 'ledger_continuity.sql: missing -v query_id=<query id, or * for all>'
\set eventproc_missing true
\endif
\if :{?schema}
\else
\warn 'ledger_continuity.sql: missing -v schema=<schema of the target table>'
\set eventproc_missing true
\endif
\if :{?table}
\else
\warn 'ledger_continuity.sql: missing -v table=<target table>'
\set eventproc_missing true
\endif
\if :{?mode}
\else
\warn 'ledger_continuity.sql: missing -v mode=append|insert-if-absent|upsert|history'
\set eventproc_missing true
\endif
\if :{?accept_gaps}
\else
\set accept_gaps ''
\endif
\if :{?eventproc_missing}
\set 'ledger_continuity.sql stopped: parameters missing, see the header of the file' true
\endif

WITH l AS (
  SELECT * FROM :"ledger_schema".:"ledger_table"
  WHERE writer = :'writer' AND (:'query_id' = '*' OR query_id = :'query_id')
), batches AS (
  SELECT query_id, batch_id, count(*) AS nrows,
         min(partition_id) AS pmin, max(partition_id) AS pmax,
         min(partitions) AS parts_min, max(partitions) AS parts_max,
         min(committed_at) AS committed_at
  FROM l GROUP BY query_id, batch_id
), queries AS (
  SELECT query_id, min(batch_id) AS first_batch, max(batch_id) AS last_batch, count(*) AS batches,
         min(committed_at) AS first_commit
  FROM batches GROUP BY query_id
), scope AS (
  SELECT count(*) AS nq, coalesce(sum(batches), 0) AS batches,
         coalesce(sum(last_batch - first_batch + 1), 0) AS expected,
         coalesce(string_agg(format('query_id %s: batches %s..%s', query_id, first_batch, last_batch), '; '
                             ORDER BY first_commit), '') AS ranges
  FROM queries
), accepted AS (
  SELECT generate_series(split_part(r, '-', 1)::bigint, coalesce(nullif(split_part(r, '-', 2), ''), split_part(r, '-', 1))::bigint) AS b
  FROM unnest(string_to_array(regexp_replace(:'accept_gaps', '\s', '', 'g'), ',')) AS r
  WHERE r <> ''
), all_missing AS (
  SELECT q.query_id, g.b AS batch_id
  FROM queries q CROSS JOIN LATERAL generate_series(q.first_batch, q.last_batch) AS g(b)
  WHERE NOT EXISTS (SELECT 1 FROM batches b WHERE b.query_id = q.query_id AND b.batch_id = g.b)
), missing AS (
  SELECT * FROM all_missing m WHERE m.batch_id NOT IN (SELECT b FROM accepted)
), incomplete AS (
  SELECT query_id, batch_id, nrows, parts_max
  FROM batches
  WHERE NOT ((nrows = 1 AND pmin = -1 AND parts_min = 1 AND parts_max = 1)
             OR (pmin = 0 AND parts_min = parts_max AND nrows = parts_max AND pmax = parts_max - 1))
), target AS (
  SELECT count(*) AS n FROM :"schema".:"table"
), written AS (
  SELECT coalesce(sum(rows_in), 0) AS rows_in, coalesce(sum(rows_written), 0) AS rows_written,
         coalesce(sum(rows_ignored), 0) AS rows_ignored, count(DISTINCT writer) AS writers
  FROM :"ledger_schema".:"ledger_table"
  WHERE target_table = :'schema' || '.' || :'table'
), mine AS (
  SELECT coalesce(sum(rows_written), 0) AS rows_written,
         coalesce(string_agg(DISTINCT target_table, ','), '') AS targets
  FROM l
), labels AS (
  SELECT 'gap' AS kind, query_id, batch_id FROM missing
  UNION ALL
  SELECT 'incomplete', query_id, batch_id FROM incomplete
), labelled AS (
  SELECT kind, query_id, batch_id,
         CASE WHEN (SELECT nq FROM scope) > 1 THEN format('%s:%s', query_id, batch_id) ELSE batch_id::text END AS label
  FROM labels
)
SELECT 'ledger_gaps' AS check_name,
       CASE WHEN s.nq > 0 AND NOT EXISTS (SELECT 1 FROM missing) THEN 'PASS' ELSE 'FAIL' END AS status,
       CASE WHEN s.nq = 0 THEN :'writer'
            ELSE coalesce((SELECT string_agg(label, ',' ORDER BY query_id, batch_id)
                           FROM (SELECT * FROM labelled WHERE kind = 'gap' ORDER BY query_id, batch_id LIMIT 20) x), '')
       END AS offending,
       CASE WHEN s.nq = 0
            THEN format('no ledger rows for writer=%s query_id=%s in %s.%s', :'writer', :'query_id', :'ledger_schema', :'ledger_table')
            ELSE format('writer=%s: %s; %s batches in the ledger, %s expected, %s missing%s%s', :'writer', s.ranges, s.batches,
                        s.expected, s.expected - s.batches,
                        CASE WHEN s.expected - s.batches > 20 THEN ' (first 20 listed)' ELSE '' END,
                        coalesce((SELECT '; accepted (reconcile.accept.gaps): ' || string_agg(batch_id::text, ',' ORDER BY query_id, batch_id)
                                  FROM all_missing WHERE batch_id IN (SELECT b FROM accepted)), ''))
       END AS detail
FROM scope s
UNION ALL
SELECT 'ledger_incomplete_batches',
       CASE WHEN NOT EXISTS (SELECT 1 FROM incomplete) THEN 'PASS' ELSE 'FAIL' END,
       coalesce((SELECT string_agg(label, ',' ORDER BY query_id, batch_id)
                 FROM (SELECT * FROM labelled WHERE kind = 'incomplete' ORDER BY query_id, batch_id LIMIT 20) x), ''),
       CASE WHEN NOT EXISTS (SELECT 1 FROM incomplete)
            THEN format('writer=%s: %s batches, each complete (one whole-batch row, or every slice)', :'writer', s.batches)
            ELSE format('writer=%s: %s of %s batches lack slices or mix slice counts (%s); a restart of the query finishes them',
                        :'writer', (SELECT count(*) FROM incomplete), s.batches,
                        (SELECT string_agg(format('batch %s: %s of %s slices', batch_id, nrows, parts_max), ', '
                                           ORDER BY query_id, batch_id)
                         FROM (SELECT * FROM incomplete ORDER BY query_id, batch_id LIMIT 5) y))
       END
FROM scope s
UNION ALL
SELECT 'ledger_rows_vs_target',
       CASE WHEN :'mode' NOT IN ('append', 'insert-if-absent', 'upsert', 'history') THEN 'FAIL'
            WHEN :'mode' IN ('upsert', 'history') THEN CASE WHEN t.n <= w.rows_written THEN 'PASS' ELSE 'FAIL' END
            WHEN t.n = w.rows_written THEN 'PASS' ELSE 'FAIL' END,
       CASE WHEN :'mode' NOT IN ('append', 'insert-if-absent', 'upsert', 'history') THEN 'mode=' || :'mode'
            WHEN (:'mode' IN ('upsert', 'history') AND t.n <= w.rows_written) OR (:'mode' NOT IN ('upsert', 'history') AND t.n = w.rows_written) THEN ''
            ELSE :'schema' || '.' || :'table' END,
       CASE WHEN :'mode' NOT IN ('append', 'insert-if-absent', 'upsert', 'history')
            THEN format('unknown mode %s: use append, insert-if-absent, upsert or history, as the sink is configured; ', :'mode') ELSE '' END
       || format('mode=%s target %s.%s rows=%s; ledger rows_written=%s (rows_in=%s, rows_ignored=%s) over %s writer(s) of this target; writer %s wrote %s%s%s',
              :'mode', :'schema', :'table', t.n, w.rows_written, w.rows_in, w.rows_ignored, w.writers, :'writer', m.rows_written,
              CASE WHEN :'query_id' = '*' THEN '' ELSE ' in query_id ' || :'query_id' END,
              CASE WHEN m.targets NOT IN ('', :'schema' || '.' || :'table') THEN ' (its ledger rows name target ' || m.targets || ')' ELSE '' END)
       || CASE WHEN :'mode' NOT IN ('append', 'insert-if-absent', 'upsert', 'history') THEN ''
               WHEN :'mode' IN ('upsert', 'history') AND t.n <= w.rows_written THEN '; upsert and history: rows_written counts inserts, updates and deletes, so only rows <= rows_written is checked'
               WHEN :'mode' IN ('upsert', 'history') THEN '; the target holds more rows than the sink ever wrote (rows written elsewhere, or ledger rows lost)'
               WHEN t.n = w.rows_written THEN ''
               WHEN t.n < w.rows_written THEN format('; %s rows fewer than written (deleted since, or the table was recreated)', w.rows_written - t.n)
               ELSE format('; %s rows more than written (rows written elsewhere, a batch applied twice, or ledger rows lost)', t.n - w.rows_written) END
FROM target t, written w, mine m;
