#!/usr/bin/env bash
# kill -9 of linkage, then separately of metric and of publish, while it works off its backlog;
# restarted, the pipeline ends with latest.csv files byte-identical to a fault-free run of the same
# submission: nothing lost, nothing counted twice; after publish's, every revision folder holds a
# whole release. Publish is killed in the middle of the round that takes its backlog, before that
# round commits. Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=20000
e2e_sim "$E2E_DIR/sim" "$records" 20 7
valid=$(e2e_valid_count "$records")
reference=$E2E_DIR/reference-releases

e2e_fault_free_run "$E2E_DIR/sim" "$records" "$valid" "$reference"

# Polls ncap status as fast as it answers until STAGE has processed some records and still has a
# backlog, within 120 s.
until_midstream() {
  local stage=$1 processed backlog deadline=$((SECONDS + 120))
  while [ "$SECONDS" -lt "$deadline" ]; do
    e2e_status
    processed=$(e2e_field "$stage" processed)
    backlog=$(e2e_field "$stage" backlog)
    if [ "$processed" -gt 0 ] && [ "$backlog" -gt 0 ]; then
      e2e_say "$stage has processed $processed records, backlog $backlog"
      return 0
    fi
    [ "$processed" -lt "$records" ] ||
      fail "$stage worked off all $records records before it could be killed mid-stream"
  done
  fail "$stage processed $processed records, backlog $backlog, after 120 s: never mid-stream"
}

# publish_round_running: publish holds the lock its round takes first (publish.watermark in SHARE
# ROW EXCLUSIVE mode, until the round's commit or rollback).
publish_round_running() {
  [ "$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(*) FROM pg_locks l
    JOIN pg_stat_activity a ON a.pid = l.pid WHERE a.usename = 'ncap_publish' AND l.granted
    AND l.relation = 'publish.watermark'::regclass AND l.mode = 'ShareRowExclusiveLock'")" -gt 0 ]
}

# Publish, started before the submission with an interval of an hour, publishes what metric has
# committed by its first round and leaves the rest as its backlog (a round on every change keeps
# up with metric, so that there was once no backlog to kill it in: it took all the records between
# two polls). Once metric has the whole stream, `ncap release now` starts the round that works the
# backlog off, and publish is killed with SIGKILL while that round runs, before it commits.
publish_midround() {
  local processed backlog deadline
  ncap_wait_until "$E2E_DRAIN_TIMEOUT" e2e_stage_is metric processed "$records" ||
    fail "metric processed $(e2e_field metric processed) of $records records after $E2E_DRAIN_TIMEOUT s"
  processed=$(e2e_field publish processed)
  backlog=$(e2e_field publish backlog)
  if [ "$processed" -eq 0 ] || [ "$backlog" -ne $((records - processed)) ]; then
    fail "publish processed $processed records, backlog $backlog: expected part of the $records published by its first round and the rest waiting"
  fi
  e2e_say "publish has processed $processed records, backlog $backlog"
  e2e_ncap release now --audit "$E2E_AUDIT" >>"$CTX_RUN/logs/release-now.log" 2>&1 ||
    fail "ncap release now failed: $(tail -n 3 "$CTX_RUN/logs/release-now.log")"
  deadline=$((SECONDS + 60))
  until publish_round_running; do
    e2e_stage_is publish processed "$processed" ||
      fail "publish's round committed ($(e2e_field publish processed) processed) before it could be killed in it"
    [ "$SECONDS" -lt "$deadline" ] || fail "publish started no round within 60 s of ncap release now"
  done
  e2e_kill9 publish
  e2e_stage_is publish processed "$processed" ||
    fail "publish's round committed ($(e2e_field publish processed) processed) before the kill: not killed mid-round"
  e2e_say "publish killed in the middle of the round of its backlog of $backlog records"
}

# The whole submission is accepted while STAGE is down, so that its backlog is the whole stream;
# STAGE starts, is killed with SIGKILL once it has committed part of it, and starts again. Publish
# (publish_midround) runs from the start, with a backlog of all it has not published.
crash_run() {
  local stage=$1 other
  e2e_deploy "kill_$stage"
  for other in "${NCAP_STAGES[@]}"; do
    [ "$other" = "$stage" ] || e2e_start "$other"
  done
  e2e_wait_registered ingest 1
  if [ "$stage" = publish ]; then
    NCAP_PUBLISH_INTERVAL=3600 e2e_start publish
    e2e_wait_registered publish 1
    e2e_submit_all "$E2E_DIR/sim"
    publish_midround
  else
    e2e_submit_all "$E2E_DIR/sim"
    e2e_start "$stage"
    until_midstream "$stage"
    e2e_kill9 "$stage"
  fi
  # publish: a round on every change again (lib.sh)
  e2e_start "$stage"
  e2e_drain
  e2e_check_full_run "$records" "$valid"
  e2e_expect_same_releases "$reference"
  e2e_stop_all
}

crash_run linkage
crash_run metric
crash_run publish
for d in "$E2E_DIR"/kill_publish/releases/"$E2E_AUDIT"/*/r*; do
  for f in release.csv release.json fingertips.csv spc.csv spc_summary.csv; do
    [ -s "$d/$f" ] || fail "${d#"$E2E_DIR"/}/$f is missing or empty after publish's kill -9"
  done
done
e2e_say "PASS"
