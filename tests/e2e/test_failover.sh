#!/usr/bin/env bash
# Losing the database server: the pipeline runs on a primary with a synchronous streaming standby
# (ncap_pg_standby_up: every commit, and so every receipt, is on both), every daemon and ncap given
# both servers (host=PRIMARY,STANDBY target_session_attrs=read-write). While 20,000 records stream
# in, the primary's postmaster and all its processes get SIGKILL and its data folder is removed (the
# machine is gone); the standby is promoted. The daemons carry on with it by themselves; a
# submission refused meanwhile ("nothing was kept") is sent again, as a trust's system would. At the
# end every stage processed each record exactly once and the releases are byte-identical to a
# fault-free run's of the same files. Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=20000
e2e_sim "$E2E_DIR/sim" "$records" 20 11
valid=$(e2e_valid_count "$records")
reference=$E2E_DIR/reference-releases

e2e_fault_free_run "$E2E_DIR/sim" "$records" "$valid" "$reference"

# The test's own pair of servers.
primary=$E2E_DIR/pg-primary standby=$E2E_DIR/pg-standby
stop_servers() {
  e2e_cleanup
  ncap_pg_down "$standby" 2>/dev/null || true
  ncap_pg_down "$primary" 2>/dev/null || true
}
trap stop_servers EXIT
stop_servers
rm -rf "$(ncap_pg_dir "$primary")" "$(ncap_pg_dir "$standby")"
ncap_pg_up "$primary" 2>"$E2E_DIR/pg.log" || fail "could not start the primary: $(cat "$E2E_DIR/pg.log")"
primary_sock=$PG_SOCK
primary_data=$PG_BASE/data
ncap_pg_standby_up "$primary" "$standby" 2>>"$E2E_DIR/pg.log" ||
  fail "could not start the synchronous standby: $(cat "$E2E_DIR/pg.log")"
e2e_say "primary and synchronous standby: $(ncap_pg_psql "$primary_sock" postgres \
  "SELECT application_name || ' ' || sync_state FROM pg_stat_replication")"
CTX_PGHOST=$primary_sock,$STANDBY_SOCK
e2e_deploy failover
e2e_start_pipeline
e2e_wait_registered ingest 1

# The trusts: each file sent until it gets its receipt (a refusal while there is no primary says
# nothing was kept, or that it may have been: sending it again duplicates nothing).
submitter() {
  local f trust n
  for f in "$E2E_DIR/sim"/*.csv; do
    trust=$(basename "$f" .csv)
    for n in $(seq 1 90); do
      if e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$trust" "$f" >>"$CTX_RUN/logs/submit.log" 2>&1; then
        echo "$trust $n" >>"$CTX_RUN/attempts"
        continue 2
      fi
      sleep 1
    done
    echo "$trust never accepted" >>"$CTX_RUN/attempts"
    return 1
  done
}
submitter &
submitter_pid=$!

# Mid-stream: once ingest holds some of the records and not all.
deadline=$((SECONDS + 120))
until e2e_ncap status --json >"$CTX_RUN/status.json" 2>/dev/null &&
  [ "$(e2e_field ingest processed)" -ge 3000 ]; do
  [ "$SECONDS" -lt "$deadline" ] || fail "ingest did not reach 3000 records in 120 s"
  sleep 0.2
done
held=$(e2e_field ingest processed)
[ "$held" -lt "$records" ] || fail "ingest took all $records records before the primary could be lost"

postmaster=$(head -n 1 "$primary_data/postmaster.pid")
e2e_pg_kill9 "$primary_data"
rm -rf "$primary_data"
e2e_say "primary lost mid-stream (ingest held $held of $records records): postmaster $postmaster and its processes killed, data folder removed"
ncap_pg_promote "$standby" || fail "the standby could not be promoted"
e2e_say "standby promoted"

wait "$submitter_pid" || fail "a submission was never accepted: $(tail -n 3 "$CTX_RUN/logs/submit.log")"
retried=$(awk '$2 > 1' "$CTX_RUN/attempts" | wc -l)
e2e_say "every file got its receipt; $retried sent more than once"
e2e_drain
e2e_check_full_run "$records" "$valid"
e2e_expect_same_releases "$reference"
e2e_stop_all
e2e_say PASS
