#!/usr/bin/env bash
# Self-test of the reconciliation SQL in this directory against a real PostgreSQL.
#
# Creates a scratch database, a sink and a source table for an append sink (events) and an upsert
# sink (accounts), and the ledger (../ledger.sql as is); loads clean data and expects every check to
# PASS; then plants duplicates, a missing row, wrong amounts, a ledger gap and a partly applied batch,
# and expects each check to FAIL naming the offending key, day or batch. Drops the database at the end.
#
#   PGHOST=127.0.0.1 PGPORT=5432 PGUSER=postgres sql/postgres/reconcile/selftest.sh
#
# Environment: PGHOST, PGPORT, PGUSER (defaults 127.0.0.1, 5432, postgres), PGPASSWORD if needed,
# PGDATABASE (default postgres: where the scratch database is created and dropped from),
# RECONCILE_DB (default reconcile_scratch; dropped and recreated). Exits non-zero when an expectation fails.
set -euo pipefail

export PGHOST="${PGHOST:-127.0.0.1}" PGPORT="${PGPORT:-5432}" PGUSER="${PGUSER:-postgres}"
export PGTZ=UTC # daily_totals buckets timestamptz by the session's time zone
DB="${RECONCILE_DB:-reconcile_scratch}"
# The database is created and dropped by name: accept a plain name only (and quote it anyway, below).
if [[ ! "$DB" =~ ^[a-z_][a-z0-9_]{0,62}$ ]]; then
  echo "RECONCILE_DB is not a plain database name: use lower-case letters, digits and underscores, e.g. reconcile_scratch." >&2
  exit 2
fi
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LEDGER_SQL="$DIR/../ledger.sql"
failures=0
checks=0

ADMIN_DB="${PGDATABASE:-postgres}"
[[ "$ADMIN_DB" != "$DB" ]] || ADMIN_DB=postgres # the scratch database cannot drop itself
admin() { psql -X -q -v ON_ERROR_STOP=1 -d "$ADMIN_DB" "$@"; }
# admin_db 'SQL with :"db"': psql quotes the database name as an identifier (variables are not expanded in -c).
admin_db() { admin -v db="$DB" <<<"$1"; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -d "$DB" "$@"; }
# run FILE -v name=value ...: the check's rows as check|status|offending|detail
run() {
  local file="$1"
  shift
  psql -X -At -F '|' -v ON_ERROR_STOP=1 -d "$DB" "$@" -f "$DIR/$file"
}
ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }
# expect OUTPUT CHECK STATUS OFFENDING: a row with exactly these first three columns
expect() {
  if cut -d'|' -f1-3 <<<"$1" | grep -qxF -- "$2|$3|$4"; then
    ok "$2 $3 [$4]"
  else
    bad "expected '$2|$3|$4' in:"
    sed 's/^/       /' <<<"$1"
  fi
}
# expect_count OUTPUT CHECK STATUS N: exactly N rows with this check and status
expect_count() {
  local n
  n="$(cut -d'|' -f1-2 <<<"$1" | grep -cxF -- "$2|$3" || true)"
  if [[ "$n" == "$4" ]]; then
    ok "$2 $3 x$4"
  else
    bad "expected $4 rows '$2|$3', got $n in:"
    sed 's/^/       /' <<<"$1"
  fi
}
# expect_error FILE ARGS...: the file must stop with an error (missing or bad parameter)
expect_error() {
  local file="$1"
  shift
  if run "$file" "$@" >/dev/null 2>&1; then
    bad "$file $* should have failed"
  else
    ok "$file $* refused"
  fi
}

cleanup() { admin_db 'DROP DATABASE IF EXISTS :"db"' >/dev/null 2>&1 || true; }
trap cleanup EXIT

admin_db 'DROP DATABASE IF EXISTS :"db"' 2>/dev/null
admin_db 'CREATE DATABASE :"db"'
psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -v schema=public -v ledger=eventproc_ledger -f "$LEDGER_SQL"

sql <<'SQL'
CREATE SCHEMA sink;
CREATE SCHEMA src;
-- append sink: 200 events, 47 minutes apart from 2024-01-01 00:00 UTC (days 2024-01-01 .. 2024-01-07)
CREATE TABLE src.events (event_id bigint, event_time timestamptz, amount numeric(12,2));
INSERT INTO src.events SELECT g, timestamptz '2024-01-01 00:00:00+00' + g * interval '47 minutes', g * 1.25
  FROM generate_series(0, 199) g;
CREATE TABLE sink.events AS SELECT * FROM src.events;
-- upsert sink: 50 accounts, three versions each plus a NULL version (ranks lowest), newest wins
CREATE TABLE src.account_events (account_id text, balance numeric(12,2), version bigint);
INSERT INTO src.account_events
  SELECT format('acc-%s', lpad(k::text, 3, '0')), k * 10 + v, v FROM generate_series(1, 50) k, generate_series(1, 3) v;
INSERT INTO src.account_events SELECT format('acc-%s', lpad(k::text, 3, '0')), 999999, NULL FROM generate_series(1, 50, 7) k;
INSERT INTO src.account_events VALUES (NULL, 5, 1); -- a NULL key: the pipeline quarantines it
CREATE TABLE sink.accounts (account_id text, balance numeric(12,2), version bigint);
INSERT INTO sink.accounts SELECT DISTINCT ON (account_id) account_id, balance, version FROM src.account_events
  WHERE account_id IS NOT NULL ORDER BY account_id, version DESC NULLS LAST;

-- ledger of the events writer: an old query (batches 0..2, 10 rows each) and the current one
-- (batches 0..9: batch 3 empty, batch 5 committed in 4 slices), 200 rows written in all
INSERT INTO public.eventproc_ledger (writer, query_id, batch_id, partition_id, partitions, target_table, rows_in, rows_written, rows_ignored)
  SELECT 'events_sink', 'q-old', b, -1, 1, 'sink.events', 10, 10, 0 FROM generate_series(0, 2) b;
INSERT INTO public.eventproc_ledger (writer, query_id, batch_id, partition_id, partitions, target_table, rows_in, rows_written, rows_ignored)
  SELECT 'events_sink', 'q-new', b, -1, 1, 'sink.events', CASE WHEN b = 3 THEN 0 WHEN b = 9 THEN 45 ELSE 15 END,
         CASE WHEN b = 3 THEN 0 WHEN b = 9 THEN 45 ELSE 15 END, 0
  FROM generate_series(0, 9) b WHERE b <> 5;
INSERT INTO public.eventproc_ledger (writer, query_id, batch_id, partition_id, partitions, target_table, rows_in, rows_written, rows_ignored)
  SELECT 'events_sink', 'q-new', 5, p, 4, 'sink.events', 5, 5, 0 FROM generate_series(0, 3) p;
-- ledger of the accounts writer (upsert): 50 inserts and 110 updates over 5 batches
INSERT INTO public.eventproc_ledger (writer, query_id, batch_id, partition_id, partitions, target_table, rows_in, rows_written, rows_ignored)
  SELECT 'accounts_sink', 'q-acc', b, -1, 1, 'sink.accounts', 40, 32, 8 FROM generate_series(0, 4) b;
SQL

EVENTS=(-v schema=sink -v table=events -v key=event_id)
ACCOUNTS=(-v schema=sink -v table=accounts -v key=account_id)
DAILY=(-v schema=sink -v table=events -v time_col=event_time -v amount_col=amount -v source_schema=src -v source_table=events
       -v from_date=2024-01-01 -v to_date=2024-01-10)
SVS=(-v schema=sink -v table=accounts -v key=account_id -v version_col=version -v amount_col=balance
     -v source_schema=src -v source_table=account_events)
LEDGER=(-v ledger_schema=public -v ledger_table=eventproc_ledger)
EVENTS_LEDGER=("${LEDGER[@]}" -v writer=events_sink -v schema=sink -v table=events -v mode=append)
ACCOUNTS_LEDGER=("${LEDGER[@]}" -v writer=accounts_sink -v query_id=q-acc -v schema=sink -v table=accounts)

echo "== clean data: every check passes"
out="$(run duplicate_keys.sql "${EVENTS[@]}")"; expect "$out" duplicate_keys PASS ""
out="$(run duplicate_keys.sql "${ACCOUNTS[@]}")"; expect "$out" duplicate_keys PASS ""
out="$(run rows_vs_distinct.sql "${ACCOUNTS[@]}")"; expect "$out" rows_vs_distinct PASS ""
out="$(run daily_totals.sql "${DAILY[@]}")"
expect_count "$out" daily_totals PASS 7
expect_count "$out" daily_totals FAIL 0
out="$(run daily_totals.sql "${DAILY[@]}" -v from_date=2024-01-02 -v to_date=2024-01-04)"
expect_count "$out" daily_totals PASS 2
out="$(run daily_totals.sql "${DAILY[@]}" -v from_date=2030-01-01 -v to_date=2030-01-02)"
expect "$out" daily_totals PASS ""
out="$(run source_vs_sink.sql "${SVS[@]}")"
expect "$out" source_vs_sink_count PASS ""
expect "$out" source_vs_sink_amount PASS ""
out="$(run ledger_continuity.sql "${EVENTS_LEDGER[@]}" -v 'query_id=*')"
expect "$out" ledger_gaps PASS ""
expect "$out" ledger_incomplete_batches PASS ""
expect "$out" ledger_rows_vs_target PASS ""
out="$(run ledger_continuity.sql "${ACCOUNTS_LEDGER[@]}" -v mode=upsert)"
expect "$out" ledger_gaps PASS ""
expect "$out" ledger_incomplete_batches PASS ""
expect "$out" ledger_rows_vs_target PASS ""

echo "== parameters"
expect_error duplicate_keys.sql -v schema=sink -v table=accounts
expect_error source_vs_sink.sql "${SVS[@]:0:8}"
out="$(run ledger_continuity.sql "${EVENTS_LEDGER[@]}" -v query_id=q-new -v mode=merge)"
expect "$out" ledger_rows_vs_target FAIL "mode=merge"
out="$(run ledger_continuity.sql "${LEDGER[@]}" -v writer=nobody -v 'query_id=*' -v schema=sink -v table=events -v mode=append)"
expect "$out" ledger_gaps FAIL "nobody"

echo "== planted faults: each check fails and names the offender"
sql <<'SQL'
-- duplicates in the upsert sink: acc-007 three times, acc-013 twice
INSERT INTO sink.accounts SELECT * FROM sink.accounts WHERE account_id = 'acc-007';
INSERT INTO sink.accounts SELECT * FROM sink.accounts WHERE account_id = 'acc-007' LIMIT 1;
INSERT INTO sink.accounts SELECT * FROM sink.accounts WHERE account_id = 'acc-013';
-- a key lost and a wrong amount
DELETE FROM sink.accounts WHERE account_id = 'acc-020';
UPDATE sink.accounts SET balance = balance + 1 WHERE account_id = 'acc-031';
-- events: event 10 (2024-01-01 07:50) lost, event 100 (2024-01-04 06:20) with a wrong amount,
-- a source event on 2024-01-09 that never reached the sink
DELETE FROM sink.events WHERE event_id = 10;
UPDATE sink.events SET amount = amount + 0.01 WHERE event_id = 100;
INSERT INTO src.events VALUES (1000, timestamptz '2024-01-09 12:00:00+00', 7.5);
-- ledger: batch 7 of q-new gone, batch 5 lost its slice 2
DELETE FROM public.eventproc_ledger WHERE writer = 'events_sink' AND query_id = 'q-new' AND batch_id = 7;
DELETE FROM public.eventproc_ledger WHERE writer = 'events_sink' AND query_id = 'q-new' AND batch_id = 5 AND partition_id = 2;
SQL

out="$(run duplicate_keys.sql "${ACCOUNTS[@]}")"; expect "$out" duplicate_keys FAIL "acc-007,acc-013"
out="$(run duplicate_keys.sql "${EVENTS[@]}")"; expect "$out" duplicate_keys PASS ""
out="$(run rows_vs_distinct.sql "${ACCOUNTS[@]}")"; expect "$out" rows_vs_distinct FAIL "acc-007,acc-013"
out="$(run daily_totals.sql "${DAILY[@]}")"
expect "$out" daily_totals FAIL "2024-01-01"
expect "$out" daily_totals FAIL "2024-01-04"
expect "$out" daily_totals FAIL "2024-01-09"
expect_count "$out" daily_totals FAIL 3
expect_count "$out" daily_totals PASS 5
out="$(run source_vs_sink.sql "${SVS[@]}")"
expect "$out" source_vs_sink_count FAIL "acc-007,acc-013,acc-020"
expect "$out" source_vs_sink_amount FAIL "acc-007,acc-013,acc-020,acc-031"
out="$(run ledger_continuity.sql "${EVENTS_LEDGER[@]}" -v 'query_id=*')"
expect "$out" ledger_gaps FAIL "q-new:7"
expect "$out" ledger_incomplete_batches FAIL "q-new:5"
expect "$out" ledger_rows_vs_target FAIL "sink.events"
out="$(run ledger_continuity.sql "${EVENTS_LEDGER[@]}" -v query_id=q-new)"
expect "$out" ledger_gaps FAIL "7"
expect "$out" ledger_incomplete_batches FAIL "5"
out="$(run ledger_continuity.sql "${EVENTS_LEDGER[@]}" -v query_id=q-old)"
expect "$out" ledger_gaps PASS ""
expect "$out" ledger_incomplete_batches PASS ""
# upsert: 53 rows <= 160 written passes; the same table read as insert-if-absent must not
out="$(run ledger_continuity.sql "${ACCOUNTS_LEDGER[@]}" -v mode=upsert)"
expect "$out" ledger_rows_vs_target PASS ""
out="$(run ledger_continuity.sql "${ACCOUNTS_LEDGER[@]}" -v mode=insert-if-absent)"
expect "$out" ledger_rows_vs_target FAIL "sink.accounts"
sql -c "INSERT INTO sink.accounts SELECT format('stray-%s', g), 1, 1 FROM generate_series(1, 200) g"
out="$(run ledger_continuity.sql "${ACCOUNTS_LEDGER[@]}" -v mode=upsert)"
expect "$out" ledger_rows_vs_target FAIL "sink.accounts"

echo "== history: a sound history table passes; a second current row, an overlap and a stale current row fail"
sql <<'SQL'
-- events (id, version, lsn, amount, op): a tie at 3 broken by lsn, a delete then a reinsert, a delete last
CREATE TABLE src.history_events (id text, version bigint, lsn bigint, amount int, op text, deleted boolean);
INSERT INTO src.history_events VALUES ('a', 1, 0, 10, 'u', false), ('a', 2, 0, 11, 'u', false), ('a', 3, 1, 12, 'u', false),
  ('a', 3, 5, 13, 'u', false), ('a', 5, 0, 0, 'd', true), ('a', 7, 0, 15, 'u', false), ('b', 2, 0, 20, 'u', false),
  ('b', 4, 0, 0, 'd', true), ('c', 1, 0, 30, 'u', false), ('d', 3, 0, 0, 'd', true), ('d', 1, 0, 40, 'u', false);
CREATE TABLE sink.history (id text, version bigint, lsn bigint, amount int, op text, __start_at bigint, __end_at bigint);
INSERT INTO sink.history VALUES ('a', 1, 0, 10, 'u', 1, 2), ('a', 2, 0, 11, 'u', 2, 3), ('a', 3, 1, 12, 'u', 3, 3),
  ('a', 3, 5, 13, 'u', 3, 5), ('a', 7, 0, 15, 'u', 7, NULL), ('b', 2, 0, 20, 'u', 2, 4), ('c', 1, 0, 30, 'u', 1, NULL),
  ('d', 1, 0, 40, 'u', 1, 3);
SQL
HISTORY=(-v schema=sink -v table=history -v key=id -v tiebreak=lsn)
HVS=("${HISTORY[@]}" -v source_schema=src -v source_table=history_events -v version_col=version -v deleted_col=deleted)
out="$(run history_intervals.sql "${HISTORY[@]}")"
expect "$out" history_current PASS ""
expect "$out" history_intervals PASS ""
out="$(run history_vs_source.sql "${HVS[@]}")"; expect "$out" history_vs_source PASS ""
expect_error history_intervals.sql -v schema=sink -v table=history -v key=id
sql -c "INSERT INTO sink.history VALUES ('c', 2, 0, 31, 'u', 2, NULL)" \
    -c "UPDATE sink.history SET __end_at = 4 WHERE id = 'a' AND version = 2" \
    -c "UPDATE sink.history SET __end_at = NULL WHERE id = 'b'"
out="$(run history_intervals.sql "${HISTORY[@]}")"
expect "$out" history_current FAIL "c"
expect "$out" history_intervals FAIL "a,c"
out="$(run history_vs_source.sql "${HVS[@]}")"; expect "$out" history_vs_source FAIL "b,c"

echo "== $checks expectations, $failures failed"
[[ "$failures" -eq 0 ]]
