#!/usr/bin/env bash
# Each trust's own results, end to end (issue 15): 3,000 simulated records from 6 trusts with
# their register of deaths through the pipeline; for every trust, `ncap results --csv` over its own
# key gives, for every period, metric and level (trust, site) of the public release (latest.csv,
# breakdown all), the same denominator, held and missing counts, and wherever the public cell is
# not suppressed the same numerator and expected count, to the digit; its records add up exactly to
# its figures (the records behind every numerator and denominator, more than one reply's worth,
# none twice) and are all the trust's own local ids; a trust with another trust's key is refused
# and shown nothing of it; a trust without records in an audit gets "no results". Then `ncap action
# add` breaks that trust's run chart of the metric at the action within seconds, changing nothing
# else, and `ncap action list` gives its verdict from the months shown. Run through tests/run.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

records=3000
sim=$E2E_DIR/sim
deaths=$E2E_DIR/deaths.csv
e2e_sim "$sim" "$records" 6 23 --deaths "$deaths"

e2e_deploy main
e2e_load_refdata
e2e_ncap refdata load deaths "$deaths" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
  fail "ncap refdata load deaths failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_each "$sim"
trusts=("${!E2E_SID[@]}")
e2e_drain

out=$CTX_RUN/results
mkdir -p "$out"
e2e_release_rows >"$out/public.tsv"
header='row,period,metric,kind,level,site,local_id,date,numerator,denominator,value,lower95,upper95,expected,held,missing,status'

for trust in "${trusts[@]}"; do
  e2e_ncap results --trust "$trust" --audit "$E2E_AUDIT" --csv >"$out/$trust.csv" 2>"$out/$trust.err" ||
    fail "ncap results --trust $trust failed: $(cat "$out/$trust.err")"
  [ "$(head -n 1 "$out/$trust.csv")" = "$header" ] || fail "results CSV header is \"$(head -n 1 "$out/$trust.csv")\""
  summary=$(python3 - "$trust" "$out/$trust.csv" "$out/public.tsv" "$sim/$trust.csv" <<'PY'

import csv, sys
from collections import defaultdict

trust, results, public, sent = sys.argv[1:]
problems = []
figures, records = {}, []
with open(results, newline="") as f:
    for r in csv.DictReader(f):
        if r["row"] == "figure":
            area = trust if r["level"] == "trust" else r["site"]
            key = (r["period"], r["metric"], r["level"], area)
            if key in figures:
                problems.append(f"figure {key} twice")
            figures[key] = r
        elif r["row"] == "record":
            records.append(r)
        else:
            problems.append(f"row kind {r['row']!r}")

# Every public trust or site row of this trust, breakdown all, against the private figure.
compared = suppressed = 0
seen = set()
with open(public) as f:
    for line in f:
        c = line.rstrip("\n").split("\t")
        period, level, area, parent, metric, breakdown = c[1], c[2], c[3], c[5], c[6], c[7]
        if breakdown != "all" or not ((level == "trust" and area == trust) or (level == "site" and parent == trust)):
            continue
        key = (period, metric, level, area)
        seen.add(key)
        mine = figures.get(key)
        if mine is None:
            problems.append(f"public row {key} has no private figure")
            continue
        num, den, note, expected, held, missing = c[9], c[10], c[23], c[24], c[25], c[26]
        for name, pub, priv in (("denominator", den, mine["denominator"]), ("held", held, mine["held"]),
                                ("missing", missing, mine["missing"])):
            if pub != priv:
                problems.append(f"{key}: public {name} {pub}, private {priv}")
        if "suppressed" in note.split(";"):
            suppressed += 1
            if num != "":
                problems.append(f"{key}: suppressed but the public numerator is {num}")
            continue
        compared += 1
        if num != mine["numerator"]:
            problems.append(f"{key}: public numerator {num!r}, private {mine['numerator']!r}")
        if expected != mine["expected"]:
            problems.append(f"{key}: public expected {expected!r}, private {mine['expected']!r}")
        if c[11] != mine["value"]:
            problems.append(f"{key}: public value {c[11]!r}, private {mine['value']!r}")
for key in figures:
    if key not in seen:
        problems.append(f"private figure {key} is in no public release row")

# The records make up the figures: per period, metric and site, and per trust.
sums = defaultdict(lambda: [0, 0, 0, 0])
ids = set()
for r in records:
    k = (r["period"], r["metric"], r["local_id"])
    if k in ids:
        problems.append(f"record {k} listed twice")
    ids.add(k)
    for area, level in ((r["site"], "site"), (trust, "trust")):
        s = sums[(r["period"], r["metric"], level, area)]
        s[0] += int(r["numerator"]); s[1] += int(r["denominator"]); s[2] += int(r["held"]); s[3] += int(r["missing"])
for key, f in figures.items():
    want = [int(f["numerator"] or 0) if f["kind"] in ("proportion", "ratio") else 0,
            int(f["denominator"]), int(f["held"]), int(f["missing"])]
    if sums.get(key, [0, 0, 0, 0]) != want:
        problems.append(f"{key}: records add up to {sums.get(key)}, the figure says {want}")
with open(sent, newline="") as f:
    own = {r["local_record_id"] for r in csv.DictReader(f)}
strangers = {k[2] for k in ids} - own
if strangers:
    problems.append(f"{len(strangers)} local ids not in the trust's file, e.g. {sorted(strangers)[:3]}")
if compared == 0 or len(records) <= 1000:
    problems.append(f"too little compared: {compared} cells, {len(records)} records")
for p in problems[:20]:
    print(p, file=sys.stderr)
if problems:
    sys.exit(1)
print(f"{compared} cells equal to the release, {suppressed} suppressed there (denominators equal), "
      f"{len(records)} records adding up to them")
PY
  ) || fail "results of $trust do not reconcile (above)"
  e2e_say "$trust: $summary"
done
e2e_say "every trust's results reconcile with latest.csv wherever the public cell is not suppressed"

# One period: only its rows.
owner=${trusts[0]} other=${trusts[1]}
period=$(awk -F, 'NR > 1 && $1 == "figure" { print $2; exit }' "$out/$owner.csv")
e2e_ncap results --trust "$owner" --audit "$E2E_AUDIT" --period "$period" --csv >"$out/period.csv" ||
  fail "ncap results --period $period failed"
[ "$(awk -F, -v p="$period" 'NR > 1 && $2 == p' "$out/$owner.csv")" = "$(tail -n +2 "$out/period.csv")" ] ||
  fail "ncap results --period $period is not the rows of $period of the whole"

# The readable form names the trust and every metric.
e2e_ncap results --trust "$owner" --audit "$E2E_AUDIT" >"$out/$owner.txt" || fail "ncap results (text) failed"
grep -q "^results of trust $owner in audit $E2E_AUDIT" "$out/$owner.txt" ||
  fail "text results have no heading: $(head -n 2 "$out/$owner.txt")"
grep -q "^records of surgery_36h " "$out/$owner.txt" || fail "text results list no record of surgery_36h"

# Another trust's key: refused, and nothing of the owner's shown.
keys=$CTX_KEYS
status=0
text=$(env NCAP_PG="$(ncap_admin_pg)" NCAP_CURVE_SERVER_KEY="$keys/stages/ingest.pub" \
  NCAP_CURVE_CLIENT_SECRET_FILE="$keys/trusts/$other.key" \
  "$CTX_BUILD/ncap" results --trust "$owner" --audit "$E2E_AUDIT" --csv 2>&1) || status=$?
[ "$status" = 2 ] && grep -q "not authenticated as trust \"$owner\"" <<<"$text" ||
  fail "results of $owner asked with $other's key: exit $status, \"$text\""
! grep -Eq "^(record|figure)," <<<"$text" && ! grep -q "$owner-" <<<"$text" ||
  fail "results of $owner asked with $other's key show its records: ${text:0:300}"
e2e_say "$owner's results asked with $other's key: refused (${text:0:120})"

# A trust with nothing in the audit (the key is real, its trust has sent nothing): no results.
status=0
text=$(e2e_ncap results --trust "$other" --audit nela 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] && [ "$text" = "ncap results: no results for trust $other in audit nela" ] ||
  fail "results of $other in an audit it never sent: exit $status, \"$text\""
status=0
text=$(e2e_ncap results --trust "$other" --audit "$E2E_AUDIT" --period 2019Q1 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] && [ "$text" = "ncap results: no results for trust $other in audit $E2E_AUDIT, period 2019Q1" ] ||
  fail "results of $other in a period without records: exit $status, \"$text\""
status=0
text=$(e2e_ncap results --trust "$other" --audit "$E2E_AUDIT" --period 2025-07 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] && grep -q 'period "2025-07" is not a quarter' <<<"$text" ||
  fail "results with a bad period: exit $status, \"$text\""
e2e_say "a trust without records gets \"no results\"; a bad period is refused with its reason"

# What was done about it: an action breaks the trust's run chart of its metric at the first month
# after it, within seconds and without new records; nothing else of any release changes.
latest=$(e2e_releases | tail -n 1)
spc=$(dirname "$latest")/spc.csv
cp "$spc" "$out/spc.before.csv"
cp "$latest" "$out/latest.before.csv"
mean_of() { awk -F, -v t="$owner" -v m="$1" '$2 == "surgery_36h" && $3 == "trust" && $4 == t && $5 == m { print $9 }' "$spc"; }
text=$(e2e_ncap action add --trust "$owner" --audit "$E2E_AUDIT" --metric surgery_36h --date 2025-08-01 \
  --text "a hip fracture pathway with a consultant orthogeriatrician on call" 2>&1) ||
  fail "ncap action add failed: $text"
grep -q "^action 1 recorded: trust $owner, $E2E_AUDIT surgery_36h from 2025-08-01; its run chart starts a new period at 2025-08$" <<<"$text" ||
  fail "ncap action add said \"$text\""
changed() { ! cmp -s "$spc" "$out/spc.before.csv"; }
ncap_wait_until 30 changed || fail "spc.csv of ${latest#"$CTX_OUT"/} unchanged 30 s after the action"
e2e_drain
diff <(grep -v ",surgery_36h,trust,$owner," "$out/spc.before.csv") <(grep -v ",surgery_36h,trust,$owner," "$spc") >/dev/null ||
  fail "an action for $owner's surgery_36h changed other rows of spc.csv"
cmp -s "$latest" "$out/latest.before.csv" || fail "an action changed latest.csv"
# the means of the shown months before and after differ (each period has its own)
before=$(awk -F, -v t="$owner" '$2 == "surgery_36h" && $3 == "trust" && $4 == t && $5 < "2025-08" && $9 != "" { print $9 }' "$spc" | sort -u)
after=$(awk -F, -v t="$owner" '$2 == "surgery_36h" && $3 == "trust" && $4 == t && $5 >= "2025-08" && $9 != "" { print $9 }' "$spc" | sort -u)
[ "$(wc -l <<<"$before")" = 1 ] && [ "$(wc -l <<<"$after")" = 1 ] && [ -n "$before" ] && [ -n "$after" ] && [ "$before" != "$after" ] ||
  fail "$owner's surgery_36h chart does not break at 2025-08: means before \"$before\", after \"$after\""
e2e_say "an action broke $owner's surgery_36h run chart at 2025-08 (mean $before before, $after after); nothing else changed"
e2e_ncap action list --csv >"$out/actions.csv" || fail "ncap action list failed"
nb=$(awk -F, -v t="$owner" '$2 == "surgery_36h" && $3 == "trust" && $4 == t && $5 < "2025-08" && $8 != ""' "$spc" | wc -l)
na=$(awk -F, -v t="$owner" '$2 == "surgery_36h" && $3 == "trust" && $4 == t && $5 >= "2025-08" && $8 != ""' "$spc" | wc -l)
want=pending
[ "$nb" -ge 6 ] && [ "$na" -ge 7 ] && want='(improved|no change|worse)'
grep -Eq "^1,$E2E_AUDIT,$owner,surgery_36h,2025-08-01,[0-9T:Z-]+,$nb,$na,$want,[a-z_]*,a hip fracture pathway" "$out/actions.csv" ||
  fail "ncap action list: $(cat "$out/actions.csv"), expected $nb months before, $na after, $want"
e2e_say "ncap action list: $(tail -n 1 "$out/actions.csv" | cut -d, -f7-9)"

# The same action offline: ncap release build --actions writes the deployment's run charts.
printf 'trust,metric,date\n%s,surgery_36h,2025-08-01\n' "$owner" >"$out/actions.in.csv"
offline=$CTX_RUN/offline files=("$sim"/*.csv)
env NCAP_AUDIT_DIR="$NCAP_ROOT/deploy/audits" "$CTX_BUILD/ncap" release build --audit "$E2E_AUDIT" \
  --out "$offline" --deaths "$deaths" --imd "$NCAP_ROOT/deploy/refdata/imd2019_lsoa11_england.csv" \
  --ods "$NCAP_ROOT/deploy/refdata/ods_etr.csv" --actions "$out/actions.in.csv" "${files[@]}" \
  >"$CTX_RUN/logs/release_build.log" 2>&1 || fail "ncap release build --actions failed: $(tail -n 5 "$CTX_RUN/logs/release_build.log")"
for f in $(cd "$CTX_OUT" && find . -name spc.csv -o -name spc_summary.csv -o -name latest.csv | grep -v '/r[0-9]' | LC_ALL=C sort); do
  cmp -s "$CTX_OUT/$f" "$offline/$f" || {
    diff "$CTX_OUT/$f" "$offline/$f" | head -n 10 >&2
    fail "$f differs between the deployment with the action (<) and ncap release build --actions (>)"
  }
done
e2e_say "ncap release build --actions: the deployment's latest.csv, spc.csv and spc_summary.csv byte for byte"

e2e_stop_all
e2e_check_sanitizers
