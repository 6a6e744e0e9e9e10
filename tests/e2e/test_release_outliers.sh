#!/usr/bin/env bash
# Outliers where they are, and only there: for several seeds, `ncap sim` writes NHFD files of 20
# trusts of which it names the poorer-performing ones (slower to theatre and to the
# orthogeriatrician), and `ncap release build` benchmarks them as a deployment would. Every poorer
# trust is flagged beyond 99.8% as worse (alarm_low) on surgery_36h and ortho_72h in every quarter.
# No other trust is flagged beyond 99.8% as worse on any metric, nor beyond 99.8% either way on
# mortality_30d (on which the simulator makes no trust differ), more often than chance allows: at
# most the 99.9th centile of Binomial(n, 0.001), one tail of 99.8%, over their n trust-metric-
# quarters. (The other trusts are genuinely better than England on the two times, whose value the
# poorer trusts pull down: an alarm_high there is a true difference, not chance, and not counted.)
# Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

seeds=(11 12 13 14 15)
records=24000
flags=$E2E_DIR/flags.tsv
: >"$flags"
for seed in "${seeds[@]}"; do
  sim=$E2E_DIR/sim-$seed
  e2e_sim "$sim" "$records" 20 "$seed" --deaths "$sim.deaths.csv"
  poor=$(sed -n 's/^sim: poorer-performing trusts: *//p' "$sim.log")
  if [ -z "$poor" ] || [ "$poor" = none ]; then
    fail "seed $seed: ncap sim named no poorer-performing trust"
  fi
  out=$E2E_DIR/release-$seed
  rm -rf "$out"
  e2e_ncap_optimised release build --audit "$E2E_AUDIT" --out "$out" --deaths "$sim.deaths.csv" \
    --imd "$NCAP_ROOT/deploy/refdata/imd2019_lsoa11_england.csv" \
    --ods "$NCAP_ROOT/deploy/refdata/ods_etr.csv" "$sim"/*.csv >"$out.log" 2>&1 || {
    tail -n 20 "$out.log" >&2
    fail "seed $seed: ncap release build failed"
  }
  # seed, trust, poor or not, metric, period, outlier flag of every trust's all row
  python3 - "$seed" "$poor" "$out" >>"$flags" <<'PY'
import csv, glob, sys
seed, poor, out = sys.argv[1], set(sys.argv[2].split()), sys.argv[3]
for path in sorted(glob.glob(f"{out}/*/*/latest.csv")):
    for r in csv.DictReader(open(path, newline="")):
        if r["level"] == "trust" and r["breakdown"] == "all":
            print("\t".join([seed, r["area_code"], "poor" if r["area_code"] in poor else "ok",
                             r["metric"], r["period"], r["outlier"] or r["note"]]))
PY
done

report=$(python3 - "$flags" <<'PY'
import math, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
bad = [r for r in rows if r[2] == "poor" and r[3] in ("surgery_36h", "ortho_72h") and r[5] != "alarm_low"]
for r in bad:
    print(f"poorer trust {r[1]} (seed {r[0]}) {r[3]} {r[4]}: {r[5]}, expected alarm_low")
ok = [r for r in rows if r[2] == "ok" and r[5] in ("in_control", "alert_high", "alert_low", "alarm_high", "alarm_low")]
# worse: alarm_low on the two times (higher is better), alarm_high on mortality (lower is better);
# on mortality, where no trust differs, an alarm either way counts (each tail 0.1%)
worse = {"surgery_36h": ("alarm_low",), "ortho_72h": ("alarm_low",), "mortality_30d": ("alarm_high", "alarm_low")}
trials = sum(len(worse.get(r[3], ())) for r in ok)
alarms = [r for r in ok if r[5] in worse.get(r[3], ())]
n, p = trials, 0.001
# the 99.9th centile of Binomial(n, p)
k, cdf = 0, 0.0
while True:
    cdf += math.comb(n, k) * p**k * (1 - p)**(n - k)
    if cdf >= 0.999:
        break
    k += 1
if len(alarms) > k:
    print(f"{len(alarms)} alarms as worse among {n} tails of other trusts' rows, chance allows at most {k}: " +
          ", ".join(f"{r[1]} {r[3]} {r[4]} {r[5]} (seed {r[0]})" for r in alarms))
poor_rows = sum(1 for r in rows if r[2] == "poor" and r[3] in ("surgery_36h", "ortho_72h"))
print(f"SUMMARY {poor_rows} poorer trust rows all alarm_low; other trusts: {len(alarms)} alarms as worse in {n} tails (chance allows {k})")
PY
)
case $report in
  SUMMARY*) e2e_say "${report#SUMMARY }" ;;
  *) fail "$report" ;;
esac
e2e_say "PASS"
