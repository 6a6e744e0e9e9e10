#!/usr/bin/env bash
# The selection and delay ledgers (issue 15) of a running deployment: simulated NHFD files from 6
# trusts (with the simulator's problems, so that some records fail validation) submitted and
# drained. Then, for every period published:
#   - release_check.py recomputes every latest.csv, the ledger's bounds included (a ratio's from
#     its counts, a median's checked to hold its value); some median rows with records left out
#     have bounds, no mean has any;
#   - the records a release counts (latest.json's provenance.records, the valid ones) plus those its
#     ledger says were rejected (England's all row) are every record version of the period that
#     publish took in, as delays.csv counts them: two routes to one number (metric's sums, and the
#     histograms the trigger on publish.seen keeps);
#   - delays.csv has England and each trust, both stages, England's records the sum of its trusts',
#     a median at most its 90th percentile, both shown exactly where records reach min_count;
#   - the median delay from submission to publication is under the time the run took.
#   - ascertainment.csv: each trust's records (adding up to the release's) over the cases
#     `ncap refdata load expected` gave (bad rows skipped with their reasons), rated against
#     nhfd.yaml's ascertainment_threshold 0.8: the trust expected far more cases is below it.
# Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=1500
sim=$E2E_DIR/sim
e2e_sim "$sim" "$records" 6 11

start=$SECONDS
e2e_deploy main
e2e_load_refdata

# case ascertainment: every trust expected 40 cases a quarter but the first, expected 5000 (so
# below the definition's 0.8); three bad rows skipped with their reasons
expected=$E2E_DIR/expected.csv
mapfile -t trusts < <(cd "$sim" && ls -- *.csv | sed 's/\.csv$//' | sort)
{
  echo trust,period,expected
  for t in "${trusts[@]}"; do
    for p in 2024Q1 2024Q2 2024Q3 2024Q4 2025Q1 2025Q2 2025Q3 2025Q4 2026Q1 2026Q2 2026Q3 2026Q4; do
      [ "$t" = "${trusts[0]}" ] && echo "$t,$p,5000" || echo "$t,$p,40"
    done
  done
  echo "rgt,2025Q3,10"
  echo "${trusts[1]},2025Q5,10"
  echo "${trusts[1]},2025Q3,-1"
} >"$expected"
e2e_ncap refdata load expected --audit "$E2E_AUDIT" "$expected" >"$CTX_RUN/logs/expected.log" 2>&1 ||
  fail "ncap refdata load expected failed: $(tail -n 5 "$CTX_RUN/logs/expected.log")"
grep -q "skipped: *3" "$CTX_RUN/logs/expected.log" &&
  grep -q "line $((${#trusts[@]} * 12 + 2)): trust \"rgt\"" "$CTX_RUN/logs/expected.log" &&
  grep -q "period \"2025Q5\"" "$CTX_RUN/logs/expected.log" ||
  fail "ncap refdata load expected did not skip the three bad rows with their reasons: $(cat "$CTX_RUN/logs/expected.log")"
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$sim"
e2e_drain
took=$((SECONDS - start))
e2e_expect_release_check

# every period's delays.csv, written after the round's commit
delays_ready() {
  local f
  while read -r f; do
    [ -s "$(dirname "$f")/delays.csv" ] && [ -s "$(dirname "$f")/ascertainment.csv" ] || return 1
  done < <(e2e_releases)
}
deadline=$((SECONDS + 60))
until delays_ready; do
  [ $SECONDS -lt $deadline ] || fail "no delays.csv and ascertainment.csv beside every latest.csv after 60 s"
  sleep 1
done
e2e_stop_all

min_count=$(jq -r '.methods.min_count // 0' "$(e2e_releases | head -n 1 | sed 's/\.csv$/.json/')")
n=0
while read -r f; do
  dir=$(dirname "$f")
  period=$(basename "$dir")
  python3 - "$f" "${f%.csv}.json" "$dir/delays.csv" "$min_count" "$took" "${trusts[0]}" "$CTX_RUN/bounds.txt" <<'PY' ||
import csv, json, sys
latest, meta_path, delays_path, min_count, took, low = (sys.argv[1:4] + [int(sys.argv[4]), int(sys.argv[5])]
                                                        + [sys.argv[6]])
meta = json.load(open(meta_path))
rows = list(csv.DictReader(open(latest, newline="")))
first = meta["metrics"][0]["id"]
england = [r for r in rows if r["level"] == "england" and r["breakdown"] == "all" and r["metric"] == first]
if len(england) != 1 or england[0]["rejected"] == "":
    sys.exit(f"{latest}: England's all row of {first} shows no rejected count")
rejected = int(england[0]["rejected"])
valid = meta["provenance"]["records"]
d = list(csv.reader(open(delays_path, newline="")))
head = "audit,period,level,area_code,stage,records,median,p90,unit".split(",")
if d[0] != head:
    sys.exit(f"{delays_path}: header {d[0]}, expected {head}")
by = {}
for r in d[1:]:
    x = dict(zip(head, r))
    by.setdefault(x["stage"], []).append(x)
for stage, unit in (("event_to_submission", "days"), ("submission_to_publication", "seconds")):
    xs = by.get(stage, [])
    eng = [x for x in xs if x["level"] == "england"]
    trusts = [x for x in xs if x["level"] == "trust"]
    if len(eng) != 1 or not trusts:
        sys.exit(f"{delays_path}: {stage}: {len(eng)} England rows and {len(trusts)} trust rows")
    total = int(eng[0]["records"])
    if total != sum(int(x["records"]) for x in trusts):
        sys.exit(f"{delays_path}: {stage}: England's {total} records are not its trusts' sum")
    if total != valid + rejected:
        sys.exit(f"{delays_path}: {stage}: {total} record versions, but the release counts "
                 f"{valid} records and {rejected} rejected")
    for x in xs:
        if x["unit"] != unit:
            sys.exit(f"{delays_path}: {stage} in {x['unit']}, expected {unit}")
        shown = int(x["records"]) >= max(min_count, 1)
        if shown != (x["median"] != "" and x["p90"] != ""):
            sys.exit(f"{delays_path}: {x['area_code']} {stage}: {x['records']} records, median "
                     f"{x['median']!r}, p90 {x['p90']!r} (min_count {min_count})")
        if shown and int(x["median"]) > int(x["p90"]):
            sys.exit(f"{delays_path}: {x['area_code']} {stage}: median above the 90th percentile")
    if stage == "submission_to_publication" and int(eng[0]["median"]) > took:
        sys.exit(f"{delays_path}: median {eng[0]['median']} s from submission to publication, "
                 f"longer than the whole run ({took} s)")
asc_path = delays_path.replace("delays.csv", "ascertainment.csv")
a = list(csv.DictReader(open(asc_path, newline="")))
if sum(int(x["records"]) for x in a) != valid:
    sys.exit(f"{asc_path}: the trusts' records add up to {sum(int(x['records']) for x in a)}, "
             f"the release counts {valid}")
for x in a:
    want = int(x["records"]) / int(x["expected"])
    rating = "meets" if want >= 0.8 else "below"
    if abs(float(x["ascertainment"]) - want) > 1e-6 or x["threshold"] != "0.8" or x["rating"] != rating:
        sys.exit(f"{asc_path}: {x}, expected ascertainment {want:.6f} rated {rating} against 0.8")
    if (x["trust"] == low) != (x["rating"] == "below"):
        sys.exit(f"{asc_path}: {x['trust']} rated {x['rating']}")
# the bounds of the other kinds (release_check.py recomputed a ratio's, and checks a median's hold
# its value): a median's where fewer than half its records are left out
kinds = {m["id"]: m["kind"] for m in meta["metrics"]}
bounded = {k: 0 for k in ("proportion", "ratio", "median", "mean")}
for r in rows:
    if r["bound_lower"] != "" and int(r["left_out"] or 0) > 0:
        bounded[kinds[r["metric"]]] += 1
    if kinds[r["metric"]] == "mean" and r["bound_lower"] != "":
        sys.exit(f"{latest}: a mean with bounds: {r}")
with open(sys.argv[7], "a") as out:
    out.write(" ".join(f"{k}={v}" for k, v in bounded.items()) + "\n")
print(f"{total} record versions = {valid} counted + {rejected} rejected; "
      f"median {eng[0]['median']} s to publication")
PY
    fail "the ledgers of $period disagree"
  n=$((n + 1))
done < <(e2e_releases)
e2e_say "$n periods: each release's records plus its rejected are delays.csv's record versions, England's the sum of its trusts', medians at most the 90th percentile, hidden under min_count"
medians=$(grep -o 'median=[0-9]*' "$CTX_RUN/bounds.txt" | awk -F= '{ n += $2 } END { print n + 0 }')
[ "$medians" -gt 0 ] || fail "no median row with records left out has bounds: $(cat "$CTX_RUN/bounds.txt")"
e2e_say "rows with records left out and bounds: $(tr '\n' ';' <"$CTX_RUN/bounds.txt")"
head -n 3 "$(dirname "$(e2e_releases | tail -n 1)")/delays.csv" | sed "s/^/[$E2E_NAME]   /"
e2e_say PASS
