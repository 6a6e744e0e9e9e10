#!/usr/bin/env bash
# Golden releases: a fixed simulated NHFD stream (4,000 records from 8 trusts, seed 7, every kind of
# problem ncap validate reports, the register of deaths and deploy/refdata's IMD and trusts loaded
# first) through the whole pipeline must publish releases byte-identical to those kept in
# tests/fixtures/golden/ (latest.csv, fingertips.csv, spc.csv and spc_summary.csv as they are;
# latest.json without its created_at and revision, which depend on when publish ran). A change
# that moves a published figure fails here; when a change of figures is intended, regenerate the files
# with NCAP_GOLDEN_UPDATE=1 tests/run -k test_golden and say why in the commit. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

golden=$NCAP_ROOT/tests/fixtures/golden
sim=$E2E_DIR/sim
rm -rf "$sim"
mkdir -p "$sim"
e2e_ncap sim --audit "$E2E_AUDIT" --records 4000 --trusts 8 --seed 7 --problems 3 --out "$sim" \
  --truth "$sim.truth.csv" --deaths "$E2E_DIR/deaths.csv" >"$sim.log" 2>&1 || {
  tail -n 20 "$sim.log" >&2
  fail "ncap sim failed"
}

e2e_deploy main
e2e_ncap refdata load deaths "$E2E_DIR/deaths.csv" >"$CTX_RUN/logs/refdata.log" 2>&1 ||
  fail "ncap refdata load deaths failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
e2e_load_refdata
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$sim"
e2e_drain
e2e_stop_all
e2e_expect_release_check

# normalise DEST: the published latest.csv, fingertips.csv and latest.json of every period, the JSON
# without the fields that depend on timing, into DEST/<audit>/<period>/.
normalise() {
  local f rel
  rm -rf "$1"
  while read -r f; do
    rel=${f#"$CTX_OUT/"}
    mkdir -p "$1/$(dirname "$rel")"
    cp "$f" "$1/$rel"
    local other
    for other in fingertips.csv spc.csv spc_summary.csv; do
      cp "$(dirname "$f")/$other" "$1/$(dirname "$rel")/$other" ||
        fail "no $other beside ${f#"$NCAP_ROOT"/}"
    done
    jq -S 'del(.provenance.created_at, .provenance.revision)' "${f%.csv}.json" \
      >"$1/${rel%.csv}.json" || fail "${f%.csv}.json is not JSON"
  done < <(e2e_releases)
}
normalise "$CTX_RUN/got"
[ -n "$(ls -A "$CTX_RUN/got" 2>/dev/null)" ] || fail "no release was published"

if [ "${NCAP_GOLDEN_UPDATE:-}" = 1 ]; then
  rm -rf "$golden"
  cp -r "$CTX_RUN/got" "$golden"
  e2e_say "golden releases written to ${golden#"$NCAP_ROOT"/}"
fi
if ! diff -r "$golden" "$CTX_RUN/got" >"$CTX_RUN/golden.diff" 2>&1; then
  head -n 40 "$CTX_RUN/golden.diff" >&2
  fail "releases differ from tests/fixtures/golden (${CTX_RUN#"$NCAP_ROOT"/}/golden.diff)"
fi
e2e_say "$(find "$golden" -name latest.csv | wc -l) releases byte-identical to tests/fixtures/golden"
e2e_say "PASS"
