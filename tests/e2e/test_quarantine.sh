#!/usr/bin/env bash
# Nothing wrong is ever published: 600 records whose metrics cannot be evaluated (their audit's
# definition, nhfdq, is broken after validation took them and before metric does) at the head of
# metric's backlog, then 20,000 good NHFD records. Every good record is published, `ncap wait`
# returns, exactly 600 are quarantined in metric (ncap status, ncap quarantine list and its
# summary agree) and none of them is counted in a release; after the definition is fixed and
# `ncap quarantine retry --all` runs, all 20,600 are published and the quarantine is empty. Run
# through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

good=20000
bad=600
CTX_AUDITS=$E2E_DIR/audits
rm -rf "$CTX_AUDITS"
mkdir -p "$CTX_AUDITS"
cp "$NCAP_ROOT/deploy/audits/nhfd.yaml" "$CTX_AUDITS/"
# nhfdq: the NHFD definition under another name, so that its records are another audit's
sed 's/^audit: nhfd$/audit: nhfdq/' "$NCAP_ROOT/deploy/audits/nhfd.yaml" >"$CTX_AUDITS/nhfdq.yaml"
cp "$CTX_AUDITS/nhfdq.yaml" "$E2E_DIR/nhfdq.fixed.yaml"

E2E_AUDIT=nhfd e2e_sim "$E2E_DIR/good" "$good" 20 42
valid=$(e2e_truth_valid "$E2E_DIR/good.truth.csv")
E2E_AUDIT=nhfd e2e_sim "$E2E_DIR/bad" "$bad" 5 9 --invalid-rate 0

e2e_deploy main
for stage in ingest linkage validation; do e2e_start "$stage"; done
e2e_wait_registered ingest 1
E2E_AUDIT=nhfdq e2e_submit_all "$E2E_DIR/bad"
ncap_wait_until 120 e2e_stage_is validation processed "$bad" ||
  fail "validation processed $(e2e_field validation processed) of the $bad nhfdq records"

# Break nhfdq's metric: a string added to a number.
sed -i 's/^    numerator: hours_between(arrival_datetime, surgery_datetime) <= 36$/    numerator: hours_between(arrival_datetime, surgery_datetime) + '"'x'"' <= 36/' \
  "$CTX_AUDITS/nhfdq.yaml"
! cmp -s "$CTX_AUDITS/nhfdq.yaml" "$E2E_DIR/nhfdq.fixed.yaml" || fail "could not break nhfdq.yaml"

E2E_AUDIT=nhfd e2e_submit_all "$E2E_DIR/good"
e2e_start metric
e2e_start publish
e2e_drain
e2e_status
e2e_expect metric quarantined "$bad"
e2e_expect metric processed "$good"
e2e_expect metric backlog 0
e2e_expect publish processed "$good"
for stage in ingest linkage validation publish; do e2e_expect "$stage" quarantined 0; done
listed=$(e2e_ncap quarantine list --stage metric --csv | tail -n +2)
[ "$(wc -l <<<"$listed")" -eq "$bad" ] || fail "ncap quarantine list shows $(wc -l <<<"$listed") records, expected $bad"
[ "$(cut -d, -f5 <<<"$listed" | sort -u)" = nhfdq ] || fail "quarantined records of other audits: $(cut -d, -f5 <<<"$listed" | sort -u | tr '\n' ' ')"
grep -q 'nhfdq.yaml' <<<"$listed" || fail "the quarantine does not say why: $(head -n 1 <<<"$listed")"
e2e_say "exactly $bad records quarantined in metric, with their cause: $(head -n 1 <<<"$listed" | cut -d, -f7,13-)"
# the summary: one line for them all (stage, audit, class, state, records, held, trusts, ...)
summary=$(e2e_ncap quarantine summary --csv | tail -n +2)
[ "$(wc -l <<<"$summary")" -eq 1 ] || fail "ncap quarantine summary shows $(wc -l <<<"$summary") groups, expected 1: $summary"
[[ $summary == "metric,nhfdq,"*",$bad,$bad,"* ]] || fail "ncap quarantine summary says: $summary"
grep -q 'nhfdq.yaml' <<<"$summary" || fail "the summary does not say why: $summary"
e2e_say "ncap quarantine summary: $summary"
E2E_AUDIT=nhfd e2e_expect_denominators ortho_72h "$valid"
[ -z "$(find "$CTX_OUT" -path '*nhfdq*' -name latest.csv)" ] || fail "a release of nhfdq was published from quarantined records"

# Fixed, and released.
cp "$E2E_DIR/nhfdq.fixed.yaml" "$CTX_AUDITS/nhfdq.yaml"
out=$(e2e_ncap quarantine retry --all) || fail "ncap quarantine retry --all failed: $out"
[[ $out == "released $bad quarantined records"* ]] || fail "ncap quarantine retry said: $out"
e2e_drain
e2e_status
e2e_expect metric quarantined 0
e2e_expect metric processed $((good + bad))
e2e_expect publish processed $((good + bad))
E2E_AUDIT=nhfdq e2e_expect_denominators ortho_72h "$bad"
E2E_AUDIT=nhfd e2e_expect_denominators ortho_72h "$valid"
[ "$(e2e_ncap quarantine list --csv | wc -l)" -eq 1 ] || fail "the quarantine is not empty after the retry"
e2e_say "after the fix and ncap quarantine retry --all, all $((good + bad)) records are published"
e2e_stop_all
e2e_say "PASS"
