-- kafka_batch_continuity.sql: batches of an eventproc Kafka sink missing from its topic.
--
-- Every record the Kafka sink writes carries the headers eventproc.writer (eventproc:<sink name>:<query
-- id>), eventproc.batch (the batch id) and eventproc.previous: '<writer partition>:<batch>', the last
-- earlier batch in which that writer partition wrote records (-1 for none). A batch with no record
-- for a writer partition (an empty batch, or no key of its slices) writes nothing there, so batch ids
-- alone may have legitimate gaps; the chain of previous batches has none: every batch a record names
-- as its previous must have records of the same writer partition in the topic. Check, one row:
--   kafka_batch_gaps  per writer: each previous batch named is present. Offending: the missing batch
--                     ids. A missing batch was lost (its transaction aborted while the sink counted
--                     it committed, records deleted by retention or by hand). Records written by an
--                     older eventproc without eventproc.previous start a new chain (not checked);
--                     retention that deleted the oldest batches makes the first kept records name a
--                     batch that is gone: accept it with accept_gaps. Accepted gaps PASS and are listed
--                     in detail.
-- The dump must be read with isolation level read_committed, or aborted transactions count too
-- (sql/spark/kafka_dump_view.sql, run with -i).
--
-- Parameters (spark-sql -d name=value):
--   dump:        a table or view with the columns writer STRING, batch BIGINT, previous STRING (table reference)
--   accept_gaps: batch ids and ranges whose absence is accepted, e.g. 12-40,77, or empty (literal;
--                eventproc reconcile takes it from reconcile.accept.gaps)
--
-- Run (with the view from kafka_dump_view.sql, in the same session):
--   spark-sql --packages org.apache.spark:spark-sql-kafka-0-10_2.13:3.5.4 -d bootstrap=localhost:9092 -d topic=payments-out -d dump=topic_dump -d accept_gaps= -i sql/spark/kafka_dump_view.sql -f sql/spark/kafka_batch_continuity.sql
--
-- Result: one row per writer (check_name, status, offending, detail), tab separated; one FAIL row
-- kafka_batches_present when no record carries the eventproc headers.

WITH params AS (
  SELECT CASE WHEN '${accept_gaps}' RLIKE '^([0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*)?$'
              THEN flatten(transform(filter(split('${accept_gaps}', ','), r -> r <> ''),
                                     r -> sequence(CAST(split(r, '-')[0] AS BIGINT), CAST(element_at(split(r, '-'), -1) AS BIGINT))))
              ELSE raise_error('kafka_batch_continuity.sql: -d accept_gaps must be empty or batch ids and ranges, e.g. 12-40,77') END AS accepted
),
chain AS (
  SELECT DISTINCT CAST(writer AS STRING) AS writer, CAST(batch AS BIGINT) AS batch,
         split(CAST(previous AS STRING), ':')[0] AS part,
         CAST(split(CAST(previous AS STRING), ':')[1] AS BIGINT) AS previous
  FROM ${dump}
  WHERE writer IS NOT NULL AND batch IS NOT NULL
),
links AS (
  SELECT c.writer, c.previous AS batch, s.batch IS NOT NULL AS present
  FROM chain c
  LEFT JOIN (SELECT DISTINCT writer, part, batch FROM chain) s
    ON s.writer = c.writer AND s.part = c.part AND s.batch = c.previous
  WHERE c.previous >= 0
),
absent AS (
  SELECT writer, array_sort(collect_set(batch)) AS all_missing
  FROM links
  WHERE NOT present
  GROUP BY writer
),
per_writer AS (
  SELECT c.writer, min(c.batch) AS first_batch, max(c.batch) AS last_batch, count(DISTINCT c.batch) AS batches
  FROM chain c
  GROUP BY c.writer
),
gaps AS (
  SELECT w.*, array_except(coalesce(a.all_missing, CAST(array() AS ARRAY<BIGINT>)), p.accepted) AS missing,
         array_intersect(coalesce(a.all_missing, CAST(array() AS ARRAY<BIGINT>)), p.accepted) AS accepted_missing
  FROM per_writer w LEFT JOIN absent a ON a.writer = w.writer CROSS JOIN params p
)
SELECT 'kafka_batch_gaps' AS check_name,
       IF(size(g.missing) = 0, 'PASS', 'FAIL') AS status,
       array_join(CAST(slice(g.missing, 1, 20) AS ARRAY<STRING>), ',') AS offending,
       format_string('writer=%s dump=%s: batches %d..%d, %d with records, %d named as previous but absent%s%s',
                     g.writer, '${dump}', g.first_batch, g.last_batch, g.batches, size(g.missing),
                     IF(size(g.missing) > 20, ' (first 20 listed)', ''),
                     IF(size(g.accepted_missing) = 0, '', concat('; accepted (reconcile.accept.gaps): ',
                        array_join(CAST(slice(g.accepted_missing, 1, 20) AS ARRAY<STRING>), ',')))) AS detail
FROM gaps g
UNION ALL
SELECT 'kafka_batches_present' AS check_name,
       'FAIL' AS status,
       '${dump}' AS offending,
       format_string('no record with the eventproc.writer and eventproc.batch headers in %s', '${dump}') AS detail
FROM params p
WHERE NOT EXISTS (SELECT 1 FROM chain)
ORDER BY detail, check_name;
