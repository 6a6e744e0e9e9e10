#!/usr/bin/env bash
# The 20,000-record run of test_pipeline.sh with two instances of linkage, two of validation and
# two of metric: ncap status shows them, and every count and the release come out the same as with
# one.
# Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=20000
e2e_sim "$E2E_DIR/sim" "$records" 20 42
valid=$(e2e_valid_count "$records")

e2e_deploy main
e2e_start_pipeline
e2e_start linkage 2
e2e_start validation 2
e2e_start metric 2
e2e_wait_registered ingest 1
e2e_wait_registered linkage 2
e2e_wait_registered validation 2
e2e_wait_registered metric 2
e2e_submit_all "$E2E_DIR/sim"
e2e_drain
e2e_check_full_run "$records" "$valid"
e2e_expect linkage instances 2
e2e_expect validation instances 2
e2e_expect metric instances 2
e2e_say "ncap status shows 2 instances of linkage, validation and metric"
e2e_stop_all
e2e_say "PASS"
