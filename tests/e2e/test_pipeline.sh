#!/usr/bin/env bash
# 20,000 simulated records from 20 trusts through one instance of each stage: every stage processes
# all of them, every backlog ends at 0, the release's denominators add up to the valid records of
# the simulator's truth and the England rows to the trusts'. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=20000
e2e_sim "$E2E_DIR/sim" "$records" 20 42
valid=$(e2e_valid_count "$records")

e2e_deploy main
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$E2E_DIR/sim"
e2e_drain
e2e_check_full_run "$records" "$valid"
e2e_stop_all
e2e_say "PASS"
