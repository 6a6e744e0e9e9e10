#!/usr/bin/env bash
# kill -9 of linkage, then separately of metric and of publish, while it works off its backlog;
# restarted, the pipeline ends with latest.csv files byte-identical to a fault-free run of the same
# submission: nothing lost, nothing counted twice; after publish's, every revision folder holds a
# whole release. Run through tests/run.
set -euo pipefail
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

# The whole submission is accepted while STAGE is down, so that its backlog is the whole stream;
# STAGE starts, is killed with SIGKILL once it has committed part of it, and starts again.
crash_run() {
  local stage=$1 other
  e2e_deploy "kill_$stage"
  for other in "${NCAP_STAGES[@]}"; do
    [ "$other" = "$stage" ] || e2e_start "$other"
  done
  e2e_wait_registered ingest 1
  e2e_submit_all "$E2E_DIR/sim"
  e2e_start "$stage"
  until_midstream "$stage"
  e2e_kill9 "$stage"
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
