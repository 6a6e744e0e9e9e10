#!/usr/bin/env bash
# The same release, offline: simulated NHFD files from 8 trusts with the simulator's register of
# deaths and opt-out list, the deprivation index and the ODS extract, once through a deployment
# (reference data loaded with `ncap refdata load`, every file submitted, the pipeline drained) and
# once through `ncap release build` on the same files and reference data. For every period the
# deployment publishes, the offline build writes a byte-for-byte identical latest.csv,
# fingertips.csv, spc.csv, spc_summary.csv and ascertainment.csv (each trust's expected cases
# loaded with `ncap refdata load expected`, given offline with --expected), the deployment's
# newest revision folder holding the period's delays.csv and ascertainment.csv as they stand, and
# a latest.json equal but for its timestamps and
# what only a deployment's release has (its revision and status, and what built it); and it writes no period the deployment
# does not. Then again with a copy of the definitions in which NHFD says
# opt_out_applies: true, so that records of opted-out patients are withheld on both sides. Run
# through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=3000
sim=$E2E_DIR/sim
deaths=$E2E_DIR/deaths.csv
optouts=$E2E_DIR/optouts.csv
e2e_sim "$sim" "$records" 8 31 --deaths "$deaths" --optouts "$optouts"

# Each trust's expected cases (case ascertainment) in every quarter the records could fall in: 60
# a quarter, the first trust 1000 (rated below).
expected=$E2E_DIR/expected.csv
{
  echo "trust,period,expected"
  first=1
  for f in "$sim"/*.csv; do
    for y in 2024 2025 2026 2027; do
      for q in 1 2 3 4; do echo "$(basename "$f" .csv),${y}Q$q,$((first ? 1000 : 60))"; done
    done
    first=0
  done
} >"$expected"

# The reference data a deployment ships, which e2e_load_refdata loads.
imd=$NCAP_ROOT/deploy/refdata/imd2019_lsoa11_england.csv
ods=$NCAP_ROOT/deploy/refdata/ods_etr.csv

# json_comparable FILE: the JSON with every string that looks like a time stamp blanked, and
# without the provenance only a deployment's release has: its revision and status (an offline
# build has neither), and what built it.
json_comparable() {
  jq -S 'del(.provenance.revision, .provenance.status, .provenance.built_by)
         | walk(if type == "string" and test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z?$") then "<time>" else . end)' "$1"
}

# compare NAME: a deployment NAME (with CTX_AUDITS as set) and an offline build of the same files;
# every release file the same.
compare() {
  local name=$1 kind
  e2e_deploy "$name"
  e2e_load_refdata
  for kind in deaths:"$deaths" optouts:"$optouts"; do
    e2e_ncap refdata load "${kind%%:*}" "${kind#*:}" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
      fail "ncap refdata load ${kind%%:*} failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
  done
  e2e_ncap refdata load expected --audit "$E2E_AUDIT" "$expected" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
    fail "ncap refdata load expected failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
  e2e_start_pipeline
  e2e_wait_registered ingest 1
  e2e_submit_each --in-order "$sim"
  e2e_drain
  e2e_stop_all

  # the files in the order e2e_submit_each submitted them
  local offline=$CTX_RUN/offline files=("$sim"/*.csv)
  local start=$SECONDS
  env NCAP_AUDIT_DIR="${CTX_AUDITS:-$NCAP_ROOT/deploy/audits}" "$CTX_BUILD/ncap" release build \
    --audit "$E2E_AUDIT" --out "$offline" --deaths "$deaths" --optouts "$optouts" --imd "$imd" \
    --ods "$ods" --expected "$expected" "${files[@]}" >"$CTX_RUN/logs/release_build.log" 2>&1 ||
    fail "ncap release build failed: $(tail -n 10 "$CTX_RUN/logs/release_build.log")"
  e2e_say "ncap release build took $((SECONDS - start)) s"

  # the same periods
  local deployed built
  deployed=$(cd "$CTX_OUT" && find . -name latest.csv | LC_ALL=C sort)
  built=$(cd "$offline" && find . -name latest.csv | LC_ALL=C sort)
  [ -n "$deployed" ] || fail "the deployment published no latest.csv under ${CTX_OUT#"$NCAP_ROOT"/}"
  [ "$deployed" = "$built" ] ||
    fail "periods differ: deployment $(tr '\n' ' ' <<<"$deployed"), offline $(tr '\n' ' ' <<<"$built")"

  local f dir rows=0
  while read -r f; do
    dir=$(dirname "$f")
    cmp -s "$CTX_OUT/$f" "$offline/$f" || {
      diff "$CTX_OUT/$f" "$offline/$f" | head -n 20 >&2
      fail "$f differs between the deployment (<) and ncap release build (>)"
    }
    local g
    for g in fingertips.csv spc.csv spc_summary.csv ascertainment.csv; do
      cmp -s "$CTX_OUT/$dir/$g" "$offline/$dir/$g" || {
        diff "$CTX_OUT/$dir/$g" "$offline/$dir/$g" | head -n 20 >&2
        fail "$dir/$g differs between the deployment (<) and ncap release build (>)"
      }
    done
    diff <(json_comparable "$CTX_OUT/$dir/latest.json") \
      <(json_comparable "$offline/$dir/latest.json") >"$CTX_RUN/json.diff" || {
      head -n 30 "$CTX_RUN/json.diff" >&2
      fail "$dir/latest.json differs beyond its timestamps and a deployment's provenance between the deployment (<) and ncap release build (>)"
    }
    # the ledgers kept with the newest revision, as they stand beside latest.*
    local rev
    rev=$(cd "$CTX_OUT/$dir" && find . -maxdepth 1 -name 'r[0-9][0-9][0-9][0-9]' | LC_ALL=C sort | tail -n 1)
    for g in delays.csv ascertainment.csv; do
      cmp -s "$CTX_OUT/$dir/$g" "$CTX_OUT/$dir/$rev/$g" || {
        diff "$CTX_OUT/$dir/$g" "$CTX_OUT/$dir/$rev/$g" | head -n 10 >&2
        fail "$dir/$rev/$g is not the period's $g (the newest revision's ledger)"
      }
    done
    rows=$((rows + $(wc -l <"$CTX_OUT/$f") - 1))
  done <<<"$deployed"
  grep -q ",below$" "$offline/$E2E_AUDIT"/*/ascertainment.csv ||
    fail "no trust rated below in ascertainment.csv: the comparison does not cover a rating"
  e2e_say "$name: $(wc -l <<<"$deployed") periods, $rows rows: latest.csv, fingertips.csv, spc.csv, spc_summary.csv and ascertainment.csv byte-identical, latest.json equal but for timestamps, revision, status and builder; each newest revision folder holds the period's delays.csv and ascertainment.csv"
}

compare shipped
# What the comparison rests on: deaths linked from the register, and deprivation found for the
# records' LSOAs (else a difference in linkage could go unseen).
died=$(cat "$CTX_OUT/$E2E_AUDIT"/*/latest.csv |
  awk -F, '$3 == "england" && $7 == "mortality_30d" && $8 == "all" { s += $10 } END { print s + 0 }')
[ "$died" -gt 0 ] || fail "no death within 30 days published: the register of deaths was not linked"
deprived=$(cat "$CTX_OUT/$E2E_AUDIT"/*/latest.csv |
  awk -F, '$3 == "england" && $8 == "imd_quintile" && $9 != "unknown" { s += $11 } END { print s + 0 }')
[ "$deprived" -gt 0 ] || fail "no record with a known IMD quintile published"
# and records rejected by validation, counted in the selection ledger (column 28, rejected)
rejected=$(cat "$CTX_OUT/$E2E_AUDIT"/*/latest.csv |
  awk -F, '$3 == "england" && $8 == "all" { s += $28 } END { print s + 0 }')
[ "$rejected" -gt 0 ] || fail "no rejected record in the selection ledger: the comparison does not cover it"
e2e_say "the releases compared hold $died deaths within 30 days, $deprived records in known IMD quintiles and $rejected records rejected by validation (over the metrics)"

# The opt-out applies: records of opted-out patients are withheld on both sides.
e2e_audits_optout_applies
compare optout
withheld=$(ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "SELECT count(*) FROM linkage.optout_withheld")
[ "$withheld" -gt 0 ] || fail "no record was withheld with opt_out_applies: true: the second part tests nothing"
grep -q "withheld under the opt-out" "$CTX_RUN/logs/release_build.log" ||
  fail "ncap release build does not say what it withheld"
e2e_say "with the opt-out applied: $withheld records withheld by the deployment, the same release offline"
e2e_say "PASS"
