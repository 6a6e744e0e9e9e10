#!/usr/bin/env bash
# Risk-adjusted outliers where they are, and only there: for several seeds, `ncap sim --audit nela`
# writes 20,000 NELA records of 20 trusts over one quarter, deaths within 30 days of arrival drawn
# from the true risk model (nela.yaml's, which the simulator restates), a few trusts with a true
# excess risk (odds ratio 3 on top of the model) and one trust with sicker patients but ordinary
# care, and names them (--trusts-truth). First tests/tools/nela_sim_check.py checks that truth
# without the simulator's code (the definition's model evaluated in Python, the deaths read back
# from the register, O/E per trust); on the first seed, ncap validate and ncap risk (the metric
# stage's evaluation of the model) agree with it. Then `ncap release build` benchmarks the files as
# a deployment would, and on every risk-adjusted metric of nela.yaml (kind: ratio, observed over
# expected deaths):
#   - every trust with excess risk is flagged beyond 99.8% as worse (alarm_high);
#   - the trust with sicker patients is not flagged beyond 99.8% either way, though its crude
#     mortality is far above England's;
#   - the other trusts are flagged beyond 99.8% either way no more often than chance allows: at
#     most the 99.9th centile of Binomial(n, 0.001) over their n trust-metric tails.
# Last, one seed goes through the daemons: the published release must flag the same trusts with
# the same O/E as ncap release build, and tests/tools/release_check.py agree with it.
# Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_AUDIT=nela
# What this test judges is the funnel flags as computed: nela.yaml's outlier process would hold the
# alarms back from the public files until their cases are published (test_outlier_cases.sh tests
# that), so the definitions here are a copy without it.
e2e_audits_outliers

seeds=(31 32 33 34 35)
records=20000
trusts=20
audits=${CTX_AUDITS:-$NCAP_ROOT/deploy/audits}

# flags FILE SEED TRUSTS_TRUTH LATEST...: appends seed, trust, role, metric, period, outlier flag
# (or the note) of every trust's all row of the risk-adjusted metrics.
flags() {
  local out=$1
  shift
  python3 - "${ratio_metrics[*]}" "$@" >>"$out" <<'PY'
import csv, sys
metrics, seed, truth = set(sys.argv[1].split()), sys.argv[2], sys.argv[3]
role = {r["trust_code"]: r["role"] for r in csv.DictReader(open(truth, newline=""))}
for path in sys.argv[4:]:
    for r in csv.DictReader(open(path, newline="")):
        if r["level"] == "trust" and r["breakdown"] == "all" and r["metric"] in metrics:
            print("\t".join([seed, r["area_code"], role[r["area_code"]], r["metric"], r["period"],
                             r["outlier"] or r["note"] or "none", r["value"]]))
PY
}

# judge FLAGS: fails unless the flags are as the header says; prints a summary.
judge() {
  local report
  report=$(python3 - "$1" <<'PY'
import math, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
bad = []
for seed, trust, role, metric, period, flag, value in rows:
    if role == "excess_risk" and flag != "alarm_high":
        bad.append(f"trust {trust} with excess risk (seed {seed}) {metric} {period}: {flag} "
                   f"(O/E {value}), expected alarm_high")
    if role == "sicker_patients" and flag.startswith("alarm"):
        bad.append(f"trust {trust} with sicker patients, ordinary care (seed {seed}) {metric} "
                   f"{period}: {flag} (O/E {value}), expected no alarm")
for b in bad:
    print(b)
ordinary = [r for r in rows if r[2] == "ordinary"]
n = 2 * len(ordinary)  # two tails each
alarms = [r for r in ordinary if r[5].startswith("alarm")]
p, k, cdf = 0.001, 0, 0.0
while True:  # the 99.9th centile of Binomial(n, p)
    cdf += math.comb(n, k) * p**k * (1 - p) ** (n - k)
    if cdf >= 0.999:
        break
    k += 1
if len(alarms) > k:
    print(f"{len(alarms)} alarms among {n} tails of ordinary trusts, chance allows at most {k}: "
          + ", ".join(f"{r[1]} {r[3]} {r[4]} {r[5]} (seed {r[0]})" for r in alarms))
excess = sum(1 for r in rows if r[2] == "excess_risk")
sicker = sum(1 for r in rows if r[2] == "sicker_patients")
if not bad and len(alarms) <= k:
    print(f"SUMMARY {excess} rows of trusts with excess risk all alarm_high; {sicker} rows of the "
          f"trust with sicker patients without alarm; ordinary trusts: {len(alarms)} alarms in "
          f"{n} tails (chance allows {k})")
PY
)
  case $report in
    SUMMARY*) e2e_say "${report#SUMMARY }" ;;
    *) fail "$report" ;;
  esac
}

# sim SEED: the seed's files, truth and register of deaths in E2E_DIR/sim-SEED*, checked.
sim() {
  local dir=$E2E_DIR/sim-$1 out
  e2e_sim "$dir" "$records" "$trusts" "$1" --days 91 --trusts-truth "$dir.trusts.csv" \
    --deaths "$dir.deaths.csv" --deaths-truth "$dir.deaths-truth.csv"
  out=$(python3 "$NCAP_ROOT/tests/tools/nela_sim_check.py" "$audits/$E2E_AUDIT.yaml" "$dir" \
    "$dir.truth.csv" "$dir.trusts.csv" "$dir.deaths.csv" "$dir.deaths-truth.csv" 2>&1) ||
    fail "seed $1: the simulator's truth does not hold: $(grep -v '^[A-Z0-9]* [a-z_]* [0-9]' <<<"$out" | tail -n 10)"
  e2e_say "seed $1: $(sed -n 's/^SUMMARY //p' <<<"$out")"
}

for seed in "${seeds[@]}"; do
  sim "$seed"
done

# the first seed's files as `ncap validate` sees them: errors in exactly the rows the truth calls
# invalid, warnings only of the NHS numbers the truth says are missing or mistyped
dir=$E2E_DIR/sim-${seeds[0]}
: >"$dir.validate.csv"
for f in "$dir"/*.csv; do
  rc=0
  e2e_ncap validate --audit "$E2E_AUDIT" "$f" >"$dir.validate.out" 2>"$dir.validate.err" || rc=$?
  [ "$rc" -le 1 ] || fail "ncap validate ${f#"$NCAP_ROOT"/} failed: $(tail -n 5 "$dir.validate.err")"
  tail -n +2 "$dir.validate.out" | sed "s/^/$(basename "$f" .csv),/" >>"$dir.validate.csv"
done
report=$(python3 - "$dir.validate.csv" "$dir.truth.csv" <<'PY'
import csv, sys
problems = list(csv.reader(open(sys.argv[1], newline="")))
truth = list(csv.DictReader(open(sys.argv[2], newline="")))
errors = {(p[0], p[1]) for p in problems if p[4] == "error"}
invalid = {(t["trust_code"], t["row"]) for t in truth if t["invalid"] == "1"}
warned = {(p[0], p[1]) for p in problems if p[4] == "warning"}
nhs = {(t["trust_code"], t["row"]) for t in truth if t["nhs_number_issue"]}
if errors != invalid or warned != nhs or any(p[2] != "nhs_number" for p in problems if p[4] == "warning"):
    print(f"ncap validate: errors in {len(errors)} rows, the truth's invalid rows {len(invalid)} "
          f"(differing: {sorted(errors ^ invalid)[:5]}); warnings in {len(warned)} rows, NHS "
          f"number issues {len(nhs)} (differing: {sorted(warned ^ nhs)[:5]})")
else:
    print(f"SUMMARY ncap validate: errors in the {len(invalid)} invalid rows only, warnings only "
          f"of the {len(nhs)} NHS number issues")
PY
)
case $report in
  SUMMARY*) e2e_say "seed ${seeds[0]}: ${report#SUMMARY }" ;;
  *) fail "seed ${seeds[0]}: $report" ;;
esac

# the metric stage's own evaluation of the definition's model (ncap risk) is the simulator's truth
# on every valid row of the first seed (within 1e-12)
: >"$dir.risk.csv"
for f in "$dir"/*.csv; do
  e2e_ncap risk --audit "$E2E_AUDIT" --model nela_mortality_30d "$f" 2>"$dir.risk.err" |
    tail -n +2 | sed "s/^/$(basename "$f" .csv),/" >>"$dir.risk.csv" ||
    fail "ncap risk ${f#"$NCAP_ROOT"/} failed: $(tail -n 5 "$dir.risk.err")"
done
report=$(python3 - "$dir.risk.csv" "$dir.truth.csv" <<'PY'
import csv, sys
got = {(r[0], r[1]): r[2] for r in csv.reader(open(sys.argv[1], newline=""))}
worst, n, bad = 0.0, 0, []
for t in csv.DictReader(open(sys.argv[2], newline="")):
    if t["invalid"] == "1":
        continue
    e = got.get((t["trust_code"], t["row"]), "")
    if e == "":
        bad.append(f"{t['trust_code']} row {t['row']}: no expected value")
        continue
    worst, n = max(worst, abs(float(e) - float(t["risk"]))), n + 1
if bad or worst > 1e-12:
    print(f"ncap risk differs from the truth by up to {worst:g}; " + "; ".join(bad[:5]))
else:
    print(f"SUMMARY ncap risk gives the truth's risk on {n} valid rows within {worst:.1e}")
PY
)
case $report in
  SUMMARY*) e2e_say "seed ${seeds[0]}: ${report#SUMMARY }" ;;
  *) fail "seed ${seeds[0]}: $report" ;;
esac

# the risk-adjusted metrics of the definition
mapfile -t ratio_metrics < <(python3 - "$audits/$E2E_AUDIT.yaml" <<'PY'
import sys, yaml
for m in yaml.safe_load(open(sys.argv[1]))["metrics"]:
    if m.get("kind") == "ratio":
        print(m["id"])
PY
)
[ "${#ratio_metrics[@]}" -gt 0 ] || fail "no metric of kind ratio (risk-adjusted) in $E2E_AUDIT.yaml"
e2e_say "risk-adjusted metrics: ${ratio_metrics[*]}"

offline=$E2E_DIR/flags-offline.tsv
: >"$offline"
for seed in "${seeds[@]}"; do
  dir=$E2E_DIR/sim-$seed
  out=$E2E_DIR/release-$seed
  rm -rf "$out"
  e2e_ncap_optimised release build --audit "$E2E_AUDIT" --out "$out" --deaths "$dir.deaths.csv" \
    --imd "$NCAP_ROOT/deploy/refdata/imd2019_lsoa11_england.csv" \
    --ods "$NCAP_ROOT/deploy/refdata/ods_etr.csv" "$dir"/*.csv >"$out.log" 2>&1 || {
    tail -n 20 "$out.log" >&2
    fail "seed $seed: ncap release build failed"
  }
  mapfile -t latest < <(find "$out/$E2E_AUDIT" -name latest.csv | sort)
  [ "${#latest[@]}" -gt 0 ] || fail "seed $seed: ncap release build wrote no latest.csv"
  flags "$offline" "$seed" "$dir.trusts.csv" "${latest[@]}"
done
[ -s "$offline" ] || fail "no trust row of ${ratio_metrics[*]} in the releases"
e2e_say "ncap release build, seeds ${seeds[*]}:"
judge "$offline"

# once through the daemons: the first seed's files submitted, the register of deaths loaded first
seed=${seeds[0]}
dir=$E2E_DIR/sim-$seed
e2e_deploy main
e2e_ncap refdata load deaths "$dir.deaths.csv" >"$CTX_RUN/logs/refdata.log" 2>&1 ||
  fail "ncap refdata load deaths failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
e2e_load_refdata
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$dir"
e2e_drain
e2e_stop_all
mapfile -t latest < <(e2e_releases)
[ "${#latest[@]}" -gt 0 ] || fail "the pipeline published no release of $E2E_AUDIT"
daemons=$E2E_DIR/flags-daemons.tsv
: >"$daemons"
flags "$daemons" "$seed" "$dir.trusts.csv" "${latest[@]}"
[ -s "$daemons" ] || fail "no trust row of ${ratio_metrics[*]} in the published release"
e2e_say "through the daemons, seed $seed:"
judge "$daemons"
grep "^$seed"$'\t' "$offline" | diff - "$daemons" >"$E2E_DIR/flags.diff" ||
  fail "the daemons' release differs from ncap release build's on ${ratio_metrics[*]}: $(head -n 6 "$E2E_DIR/flags.diff")"
e2e_say "the daemons flag each trust as ncap release build does, with the same O/E"
e2e_expect_release_check
e2e_say "PASS"
