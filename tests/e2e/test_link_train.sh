#!/usr/bin/env bash
# ncap link-train against a running ncap-linkd: half of 4,000 simulated NHFD records (2 of 4 trusts)
# go through the pipeline with the default parameters; `ncap link-train` then learns m, u, the prior
# and the term frequencies from the patient index and stores them; the other half goes through, and
# ncap-linkd must have loaded the new parameters at its next batch, without a restart. What a user
# checks: training succeeded and stored term frequencies, linkd says it loaded them again, every
# record is through every stage, and the number of patients (distinct pseudonyms) is the
# simulator's number of people to within 1 %. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=4000
sim=$E2E_DIR/sim
e2e_sim "$sim" "$records" 4 11
mapfile -t files < <(find "$sim" -name '*.csv' | sort)
mkdir -p "$E2E_DIR/first" "$E2E_DIR/second"
cp "${files[0]}" "${files[1]}" "$E2E_DIR/first/"
cp "${files[2]}" "${files[3]}" "$E2E_DIR/second/"
first=$(cat "$E2E_DIR"/first/*.csv | grep -vc '^local_record_id' || true)

e2e_deploy main
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$E2E_DIR/first"
e2e_drain
e2e_expect_drained "$first"

e2e_ncap link-train >"$CTX_RUN/logs/link-train.log" 2>&1 ||
  fail "ncap link-train failed: $(tail -n 5 "$CTX_RUN/logs/link-train.log")"
freqs=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(*) FROM linkage.match_term_freq")
version=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" \
  "SELECT value FROM linkage.match_setting WHERE name = 'params_version'")
[ "$freqs" -gt 0 ] || fail "ncap link-train stored no term frequency"
[ "$version" = 1 ] || fail "params_version is \"$version\" after one training, expected 1"
e2e_say "link-train stored its parameters (params_version 1) and $freqs term frequencies"

e2e_submit_all "$E2E_DIR/second"
e2e_drain
e2e_expect_drained "$records"
grep -q '"linkage parameters loaded again"' "$CTX_RUN"/logs/linkage-1*.log ||
  fail "ncap-linkd did not say it loaded the learned parameters"
people=$(awk -F, 'NR > 1 && $4 != "" { p[$4] = 1 } END { print length(p) }' "$sim.truth.csv")
patients=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(DISTINCT pseudonym) FROM validation.record")
diff=$((patients > people ? patients - people : people - patients))
[ $((diff * 100)) -le "$people" ] ||
  fail "$patients patients (distinct pseudonyms) for $people people in the simulator's truth"
e2e_say "ncap-linkd loaded them without a restart; $patients patients for $people people"
e2e_stop_all
e2e_say "PASS"
