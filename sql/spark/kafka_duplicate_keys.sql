-- kafka_duplicate_keys.sql: records an eventproc Kafka sink wrote twice, in a dump of its topic.
--
-- The Kafka sink writes each batch in one Kafka transaction (one per writer partition with
-- kafka.writers=partitioned): key = the key column as text (a JSON object for several key columns),
-- value = the row as JSON (null: a delete, upsert mode), headers eventproc.writer =
-- eventproc:<sink name>:<query id> and eventproc.batch = the batch id (KafkaSink, ProduceTask).
-- A replayed batch must not be written again, so within one (writer, batch):
--   mode upsert: the sink sends the newest row of each key only, so a key appears at most once.
--                Offending: key@batch for keys that appear more than once in a batch.
--   mode append: the sink sends every row once, so the same record (key and value) appears once.
--                Offending: key@batch for records that appear more than once in a batch. Two
--                identical input rows in one batch (a source without an event id, not deduplicated)
--                look the same: read the detail.
-- Records without the eventproc headers (another producer) are counted in detail and not checked.
-- Offending lists at most 20 entries, a composite key (JSON) may itself hold commas.
--
-- The dump must be read with isolation level read_committed, or aborted transactions count too.
-- sql/spark/kafka_dump_view.sql makes such a view straight from the topic (run it with -i).
--
-- Parameters (spark-sql -d name=value):
--   dump: a table or view with the columns key STRING, value STRING, writer STRING (header
--         eventproc.writer), batch BIGINT (header eventproc.batch) (table reference)
--   mode: upsert or append, as the sink's mode (literal)
--
-- Run (with the view from kafka_dump_view.sql, in the same session):
--   spark-sql --packages org.apache.spark:spark-sql-kafka-0-10_2.13:3.5.4 -d bootstrap=localhost:9092 -d topic=payments-out -d dump=topic_dump -d mode=upsert -i sql/spark/kafka_dump_view.sql -f sql/spark/kafka_duplicate_keys.sql
--
-- Result: one row (check_name, status, offending, detail), tab separated.

WITH params AS (
  SELECT CASE WHEN '${mode}' IN ('upsert', 'append') THEN '${mode}'
              ELSE raise_error('kafka_duplicate_keys.sql: set -d mode=upsert or -d mode=append') END AS mode
),
records AS (
  SELECT CAST(key AS STRING) AS k, CAST(value AS STRING) AS v, CAST(writer AS STRING) AS writer, CAST(batch AS BIGINT) AS batch
  FROM ${dump}
),
tagged AS (
  SELECT r.writer, r.batch, coalesce(r.k, '<null>') AS k,
         IF(p.mode = 'upsert', '', coalesce(r.v, '<null>')) AS unit_value
  FROM records r CROSS JOIN params p
  WHERE r.writer IS NOT NULL AND r.batch IS NOT NULL
),
repeats AS (
  SELECT writer, batch, k, unit_value, count(*) AS n
  FROM tagged
  GROUP BY writer, batch, k, unit_value
  HAVING count(*) > 1
),
totals AS (
  SELECT (SELECT count(*) FROM records) AS n_records,
         (SELECT count(*) FROM tagged) AS n_tagged,
         (SELECT count(DISTINCT writer) FROM tagged) AS n_writers,
         (SELECT count(DISTINCT writer, batch) FROM tagged) AS n_batches,
         count(*) AS n_repeats,
         coalesce(sum(n - 1), 0L) AS extra_records,
         count(DISTINCT writer, batch) AS bad_batches,
         slice(array_sort(collect_list(named_struct('batch', batch, 'k', k))), 1, 20) AS top_repeats
  FROM repeats
)
SELECT 'kafka_duplicate_keys' AS check_name,
       IF(t.n_repeats = 0, 'PASS', 'FAIL') AS status,
       array_join(transform(t.top_repeats, x -> concat(x.k, '@', CAST(x.batch AS STRING))), ',') AS offending,
       format_string('mode=%s dump=%s: %d records, %d with eventproc headers from %d writer(s) in %d batches; %s repeated within a batch=%d (%d extra records in %d batches)',
                     p.mode, '${dump}', t.n_records, t.n_tagged, t.n_writers, t.n_batches,
                     IF(p.mode = 'upsert', 'keys', 'records'), t.n_repeats, t.extra_records, t.bad_batches) AS detail
FROM totals t CROSS JOIN params p;
