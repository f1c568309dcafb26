-- eventproc ledger for PostgreSQL sinks: one row per committed batch (or key-hash slice of a batch) of each
-- writer, inserted in the same transaction as the batch's rows. The sink creates it when
-- sink.postgres.create.tables=true (the default); otherwise run this first:
--
--   psql "$DATABASE_URL" -v schema=public -v ledger=eventproc_ledger -f sql/postgres/ledger.sql
--
-- writer        the sink name (sink.name)            query_id    Spark's query id (stable per checkpoint)
-- batch_id      Spark's batch id                     partition_id -1 for a batch-atomic commit, else the slice
-- partitions    key-hash slices the batch was written in (1 for batch-atomic commits; sink.postgres.partitions)
-- rows_in       rows Spark handed to the sink        rows_written rows inserted, updated or deleted
-- rows_ignored  rows that changed nothing (older or equal versions, keys already present, duplicates in the batch)
\set ON_ERROR_STOP on
CREATE TABLE IF NOT EXISTS :"schema".:"ledger" (
  writer        text        NOT NULL,
  query_id      text        NOT NULL,
  batch_id      bigint      NOT NULL,
  partition_id  integer     NOT NULL,
  partitions    integer     NOT NULL,
  target_table  text        NOT NULL,
  rows_in       bigint      NOT NULL,
  rows_written  bigint      NOT NULL,
  rows_ignored  bigint      NOT NULL,
  committed_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (writer, query_id, batch_id, partition_id)
);
