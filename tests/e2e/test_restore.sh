#!/usr/bin/env bash
# Restoring PostgreSQL from a base backup and its WAL archive, as README.md's runbook says: a
# cluster of the test's own archives its WAL (archive_mode, archive_command into a folder); half the
# trusts submit, a base backup is taken (pg_basebackup), the other half submit; every stage drains.
# Then the daemons stop, the last WAL segment is archived and the server is lost with its data
# folder. Restored from the base backup with restore_command reading the archive, and the daemons
# started again: every record is there once (ingest and every stage count each exactly once; all
# the files sent again change nothing), and the releases equal those before the loss. Run through
# tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=4000
e2e_sim "$E2E_DIR/sim" "$records" 8 5
valid=$(e2e_valid_count "$records")

pg=$E2E_DIR/pg
stop_server() {
  e2e_cleanup
  ncap_pg_down "$pg" 2>/dev/null || true
}
trap stop_server EXIT
stop_server
rm -rf "$(ncap_pg_dir "$pg")"
ncap_pg_up "$pg" 2>"$E2E_DIR/pg.log" || fail "could not start the cluster: $(cat "$E2E_DIR/pg.log")"
data=$PG_BASE/data
# beside the cluster, where its owner (postgres, when the test runs as root) may write
archive=$PG_BASE/wal-archive backup=$PG_BASE/base-backup
ncap_as_pg mkdir -p "$archive"
ncap_pg_psql "$PG_SOCK" postgres "ALTER SYSTEM SET archive_mode = on" >/dev/null
ncap_pg_psql "$PG_SOCK" postgres \
  "ALTER SYSTEM SET archive_command = 'test ! -f $archive/%f && cp %p $archive/%f'" >/dev/null
ncap_as_pg "$NCAP_PG_BIN/pg_ctl" -D "$data" -w -t 60 restart >/dev/null || fail "could not restart with archiving on"
CTX_PGHOST=$PG_SOCK
e2e_deploy restore
e2e_start_pipeline
e2e_wait_registered ingest 1

half=("$E2E_DIR"/sim/*.csv)
first=("${half[@]:0:4}") second=("${half[@]:4}")
submit() {
  local f
  for f in "$@"; do
    e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$(basename "$f" .csv)" "$f" \
      >>"$CTX_RUN/logs/submit.log" 2>&1 || fail "submission of $(basename "$f") was not accepted"
  done
}
submit "${first[@]}"
e2e_drain
ncap_as_pg pg_basebackup -h "$PG_SOCK" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -D "$backup" -X stream \
  -c fast >"$E2E_DIR/basebackup.log" 2>&1 || fail "pg_basebackup failed: $(cat "$E2E_DIR/basebackup.log")"
e2e_say "base backup taken after 4 of 8 files"
submit "${second[@]}"
e2e_drain
e2e_check_full_run "$records" "$valid"
e2e_keep_releases "$E2E_DIR/releases-before"
e2e_stop_all

# archive the segment in use (archive_timeout does it in service), and wait until it is
last=$(ncap_pg_psql "$PG_SOCK" postgres "SELECT pg_walfile_name(pg_switch_wal())")
ncap_wait_until 30 test -f "$archive/$last" || fail "WAL segment $last was not archived within 30 s"
e2e_pg_kill9 "$data"
# the machine is gone: its data folder, and its socket and lock file with it (a killed postmaster
# nobody reaps would still look alive through its lock file)
rm -rf "$data" "$PG_SOCK"/.s.PGSQL.*
e2e_say "server lost with its data folder; $(find "$archive" -type f | wc -l) WAL files archived"

# The runbook's restore: the base backup as the data folder, restore_command from the archive.
ncap_as_pg cp -a "$backup" "$data"
ncap_as_pg touch "$data/recovery.signal"
ncap_as_pg sh -c "echo \"restore_command = 'cp $archive/%f %p'\" >>'$data/postgresql.auto.conf'"
ncap_pg_up "$pg" 2>>"$E2E_DIR/pg.log" || fail "the restored cluster did not start: $(tail -n 20 "$PG_BASE/postgres.log")"
recovered() { [ "$(ncap_pg_psql "$PG_SOCK" postgres "SELECT pg_is_in_recovery()")" = f ]; }
ncap_wait_until 60 recovered ||
  fail "the restored cluster is still in recovery after 60 s"
e2e_say "restored from the base backup and the archive"

e2e_start_pipeline
e2e_wait_registered ingest 1
submit "${first[@]}" "${second[@]}" # every trust sends its file again: nothing is counted twice
e2e_drain
e2e_check_full_run "$records" "$valid"
e2e_expect_same_releases "$E2E_DIR/releases-before"
e2e_stop_all
e2e_say PASS
