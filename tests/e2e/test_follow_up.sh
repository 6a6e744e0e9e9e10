#!/usr/bin/env bash
# The register of deaths covering more as extracts come (issue 13, follow-up completeness): the
# same simulated NHFD records through two deployments. One loads the whole register first (it
# covers its latest death). The other loads it covering deaths to 30 June 2025 only, takes every
# record in (those arriving after 31 May wait for their 30 days), then loads it covering to 30
# September with linkage stopped, starts linkage and kills it with SIGKILL while its death sweep
# derives the records that coverage completes, ten a transaction (or just after, as the race
# falls), starts it again, and at last loads the register covering its latest death. Then no
# record is left waiting for a coverage already loaded, every record carries the last coverage or
# one its window was complete under, and the published latest.csv files are byte-identical to
# loading the whole register first. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=4000
sim=$E2E_DIR/sim
rm -rf "$sim"
mkdir -p "$sim"
e2e_ncap sim --audit "$E2E_AUDIT" --records "$records" --trusts 8 --seed 7 --out "$sim" \
  --deaths "$E2E_DIR/deaths.csv" >"$sim.log" 2>&1 || {
  tail -n 20 "$sim.log" >&2
  fail "ncap sim failed"
}

# load_deaths [--covers-to DATE]
load_deaths() {
  e2e_ncap refdata load deaths "$E2E_DIR/deaths.csv" "$@" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
    fail "ncap refdata load deaths $* failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
}

sql() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }

# Record versions waiting for a coverage already loaded (what linkage's death sweep has to do).
due() {
  sql "SELECT count(*) FROM linkage.death_coverage c JOIN linkage.pseudo_record p
       ON p.follow_up_due <= c.covers_to"
}

# --- the whole register first
e2e_deploy first
load_deaths
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$sim"
e2e_drain
e2e_expect_drained "$records"
final=$(sql "SELECT covers_to FROM linkage.death_coverage")
[ "$(sql "SELECT count(*) FROM linkage.pseudo_record WHERE follow_up_due IS NOT NULL")" = 0 ] ||
  fail "records wait for their follow-up under a register covering its latest death ($final)"
e2e_keep_releases "$E2E_DIR/releases-first"
e2e_stop_all

# --- the register covering more, extract by extract
e2e_deploy advancing
load_deaths --covers-to 2025-06-30
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$sim"
e2e_drain
e2e_expect_drained "$records"
waiting=$(sql "SELECT count(*) FROM linkage.pseudo_record WHERE follow_up_due IS NOT NULL")
[ "$waiting" -gt 0 ] || fail "no record waits for its follow-up with the register to 2025-06-30"
[ "$(sql "SELECT count(*) FROM validation.record
          WHERE payload->>'deaths_covered_to' IS DISTINCT FROM '2025-06-30'")" = 0 ] ||
  fail "validated records without the coverage 2025-06-30 stamped"
e2e_say "register to 2025-06-30: $waiting records wait for it to cover their follow-up"

ncap_stop "$CTX_RUN/pids/linkage-1.pid"
load_deaths --covers-to 2025-09-30
completes=$(due)
[ "$completes" -gt 0 ] || fail "the register to 2025-09-30 completes no record's follow-up"
# small batches (a transaction each), so that the kill falls in the middle of the sweep
ncap_stage_start linkage 1 --batch 10 || fail "linkage-1 is already running"
# kill linkage as soon as its sweep has committed part of the work, or when it is done
left=$completes deadline=$((SECONDS + 60))
while [ "$SECONDS" -lt "$deadline" ]; do
  left=$(due)
  [ "$left" -lt "$completes" ] && break
  sleep 0.05
done
e2e_kill9 linkage
left=$(due)
e2e_say "register to 2025-09-30: $completes records due, $left still due when linkage was killed"
e2e_start linkage
e2e_drain
e2e_expect_drained "$records"
[ "$(due)" = 0 ] || fail "$(due) records still due after the sweep"
[ "$(sql "SELECT count(*) FROM validation.record
          WHERE payload->>'deaths_covered_to' = '2025-09-30'")" -ge "$completes" ] ||
  fail "fewer records carry the coverage 2025-09-30 than it completed ($completes)"

load_deaths
[ "$(sql "SELECT covers_to FROM linkage.death_coverage")" = "$final" ] ||
  fail "the register without --covers-to covers $(sql "SELECT covers_to FROM linkage.death_coverage"), expected $final"
e2e_drain
e2e_expect_drained "$records"
[ "$(sql "SELECT count(*) FROM linkage.pseudo_record WHERE follow_up_due IS NOT NULL")" = 0 ] ||
  fail "records wait for their follow-up under the whole register"
# every stage holds each record's latest revision
[ "$(sql "SELECT count(*) FROM linkage.pseudo_record p JOIN validation.record v
          USING (record_id, version) WHERE v.link_revision <> p.revision")" = 0 ] ||
  fail "validation holds records at an older link revision than linkage's"
revised=$(sql "SELECT count(*) FROM linkage.pseudo_record WHERE revision > 0")
e2e_say "$revised records revised as the register came to cover them"
e2e_expect_same_releases "$E2E_DIR/releases-first"
e2e_stop_all
e2e_say "PASS"
