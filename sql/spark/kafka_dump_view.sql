-- kafka_dump_view.sql: a helper, not a check. Creates the temporary view that kafka_duplicate_keys.sql and
-- kafka_batch_continuity.sql read: every committed record of a topic, with its eventproc headers as columns.
--
-- Run it as the init file (-i) of the spark-sql session that runs the check, with the Kafka source on
-- the classpath. It reads the topic from the earliest to the latest offsets with isolation level
-- read_committed, so records of aborted transactions (a failed attempt of a batch) are left out, as
-- the consumers of an exactly-once topic see it.
--
-- Parameters (spark-sql -d name=value):
--   bootstrap: the Kafka bootstrap servers, host:port[,host:port] (literal)
--   topic:     the topic the sink writes (kafka.topic) (literal)
--   dump:      the name of the temporary view to create (identifier)
--
-- Run:
--   spark-sql --packages org.apache.spark:spark-sql-kafka-0-10_2.13:3.5.4 -d bootstrap=localhost:9092 -d topic=payments-out -d dump=topic_dump -d mode=upsert -i sql/spark/kafka_dump_view.sql -f sql/spark/kafka_duplicate_keys.sql
--
-- Columns of the view: key STRING, value STRING, writer STRING, batch BIGINT, previous STRING
-- (header eventproc.previous), partition INT, offset BIGINT.

CREATE OR REPLACE TEMPORARY VIEW `${dump}_raw`
USING kafka
OPTIONS (
  kafka.bootstrap.servers '${bootstrap}',
  subscribe '${topic}',
  startingOffsets 'earliest',
  endingOffsets 'latest',
  includeHeaders 'true',
  kafka.isolation.level 'read_committed'
);

CREATE OR REPLACE TEMPORARY VIEW `${dump}` AS
SELECT CAST(key AS STRING) AS key,
       CAST(value AS STRING) AS value,
       CAST(try_element_at(filter(headers, h -> h.key = 'eventproc.writer'), 1).value AS STRING) AS writer,
       CAST(CAST(try_element_at(filter(headers, h -> h.key = 'eventproc.batch'), 1).value AS STRING) AS BIGINT) AS batch,
       CAST(try_element_at(filter(headers, h -> h.key = 'eventproc.previous'), 1).value AS STRING) AS previous,
       `partition`,
       `offset`
FROM `${dump}_raw`;
