#!/usr/bin/env bash
# An outlier case walked through every stage, end to end. `ncap sim --audit nela` writes 3,000
# records of 6 trusts over one quarter, one of them (the trusts' truth names it) with a true excess
# risk of death; its risk-adjusted 30-day mortality is flagged beyond 99.8% (alarm_high). The
# definition is a copy of nela.yaml whose outlier process has `outliers: {notify_within_days: 1,
# respond_within_days: 10, publish_within_days: 3}`, and NCAP_OUTLIER_DAY_SECONDS makes a working
# day last a day (while the records go through) and then 6 seconds (publish restarted). At each
# stage the test checks what each party sees:
#   detected         public latest.csv: alert_high, 99.8% limits empty as on a genuine alert's
#                    row (and ncap release build gives the same row); the audit team (`ncap
#                    outliers list`, outliers.csv in the team folder, never under the public
#                    releases): the case, detected; the trust (`ncap outliers mine`, over its
#                    key): nothing yet
#   trust_notified   the trust sees the case, its figures and the local ids of its records in the
#                    denominator (as many as the denominator, every one of its file); another
#                    trust's key sees nothing of it and cannot respond to it
#   trust_responded  after `ncap outliers respond`: the team and the trust see it; public unchanged
#   published        by itself after the deadline: public latest.csv shows alarm_high with its
#                    limits, the team's file says published; every transition kept, timestamped
#   closed           another of its cases (an alert on critical care after high-risk surgery),
#                    cleared by a corrected file: the public row in_control, the case closed for
#                    the team and the trust
# At the detected and published stages tests/tools/release_check.py recomputes the public release
# (knowing the process from latest.json's provenance) and agrees.
# Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
E2E_AUDIT=nela
metric=mortality_30d_adjusted
day=6 # seconds per working day once the records are in

# the definitions: the shipped ones, nela's outlier process with the test's days
e2e_audits_outliers "outliers: {notify_within_days: 1, respond_within_days: 10, publish_within_days: 3}"

sim=$E2E_DIR/sim
e2e_sim "$sim" 3000 6 31 --days 91 --trusts-truth "$sim.trusts.csv" --deaths "$sim.deaths.csv" \
  --deaths-truth "$sim.deaths-truth.csv"
poor=$(awk -F, '$2 == "excess_risk" { print $1; exit }' "$sim.trusts.csv")
other=$(awk -F, -v p="$poor" 'NR > 1 && $1 != p { print $1; exit }' "$sim.trusts.csv")
[ -n "$poor" ] && [ -n "$other" ] || fail "no trust with excess risk in $sim.trusts.csv"
e2e_say "poor performer $poor; another trust $other"

# wait_for SECONDS WHAT CMD...: CMD every second until it succeeds, else fail "WHAT".
wait_for() {
  local deadline=$((SECONDS + $1)) what=$2
  shift 2
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$what"
    sleep 1
  done
}

# public_row: the poor performer's trust row of the metric in the public latest.csv, as
# "outlier,funnel_lower998,funnel_upper998,value".
public_row() {
  python3 - "$CTX_OUT/$E2E_AUDIT" "$poor" "$metric" <<'PY'
import csv, glob, sys
for p in sorted(glob.glob(sys.argv[1] + "/*/latest.csv")):
    for r in csv.DictReader(open(p, newline="")):
        if (r["level"], r["area_code"], r["metric"], r["breakdown"]) == ("trust", sys.argv[2], sys.argv[3], "all"):
            print(",".join([r["outlier"], r["funnel_lower998"], r["funnel_upper998"], r["value"]]))
PY
}

# team_case: the case's line of `ncap outliers list --csv` as "case_id,state,public_flag".
team_case() {
  e2e_ncap outliers list --audit "$E2E_AUDIT" --trust "$poor" --csv 2>>"$CTX_RUN/logs/outliers.err" |
    awk -F, -v m="$metric" -v t="$poor" '$4 == m && $5 == "trust" && $6 == t { print $1 "," $8 "," $12 }'
}
team_state_is() { [ "$(team_case | cut -d, -f2)" = "$1" ]; }
# team_state_is_of METRIC STATE: the same for the poor performer's case of another metric.
team_state_is_of() { [ "$(metric=$1 team_case | cut -d, -f2)" = "$2" ]; }

# team_file_state_is STATE: the audit team's outliers.csv shows the case in STATE.
team_file_state_is() {
  local f
  f=$(find "$CTX_RUN/team/$E2E_AUDIT" -name outliers.csv 2>/dev/null | head -n 1)
  [ -n "$f" ] && awk -F, -v id="$case_id" -v s="$1" '$1 == id && $8 == s { found = 1 } END { exit !found }' "$f"
}

# trust_state_is TRUST STATE: `ncap outliers mine` over TRUST's key lists the case in STATE
# (STATE "none": does not list it).
trust_state_is() {
  local got
  got=$(e2e_ncap outliers mine --trust "$1" --csv 2>>"$CTX_RUN/logs/outliers.err" |
    awk -F, -v id="$case_id" '$1 == id { print $7 }')
  [ "${got:-none}" = "$2" ]
}

# ---- the records go in; a working day lasts a day
export NCAP_OUTLIER_DAY_SECONDS=86400
e2e_deploy main
e2e_ncap refdata load deaths "$sim.deaths.csv" >"$CTX_RUN/logs/refdata.log" 2>&1 ||
  fail "ncap refdata load deaths failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
e2e_load_refdata
e2e_start_pipeline
e2e_wait_registered ingest 1
e2e_submit_all "$sim"
e2e_drain

# ---- detected
wait_for 60 "no case of $poor $metric detected: $(team_case)" team_state_is detected
case_id=$(team_case | cut -d, -f1)
e2e_say "case $case_id: $poor $metric detected"
row=$(public_row)
[ "${row%%,*}" = alert_high ] && [[ $row == alert_high,,,* ]] ||
  fail "while detected, the public row of $poor $metric is \"$row\", expected alert_high with empty 99.8% limits"
[ "$(team_case | cut -d, -f3)" = alert_high ] || fail "the team's list says the public sees $(team_case)"
# a genuine alert has no 99.8% limits either: their absence does not mark a held alarm
alert_row=$(metric=critical_care_high_risk public_row)
[[ $alert_row == alert_high,,,* ]] || fail "the public row of an alert is \"$alert_row\", expected no 99.8% limits"
trust_state_is "$poor" none || fail "$poor sees case $case_id before it is notified"
wait_for 60 "the team's outliers.csv does not show case $case_id detected" team_file_state_is detected
[ -z "$(find "$CTX_OUT" -name outliers.csv)" ] || fail "outliers.csv is among the public release files"
head -n 1 "$(find "$CTX_RUN/team/$E2E_AUDIT" -name outliers.csv | head -n 1)" | grep -qx \
  'case_id,audit,period,metric,level,area_code,trust,state,since,due,flag,public_flag,numerator,denominator,expected,value,england_value,funnel_lower998,funnel_upper998,notified_at,responses,detected_seconds,trust_notified_seconds,trust_responded_seconds' ||
  fail "outliers.csv has another header"
# ncap release build applies the same gate, as a deployment with no case published yet
e2e_ncap release build --audit "$E2E_AUDIT" --out "$E2E_DIR/offline" --deaths "$sim.deaths.csv" \
  --imd "$NCAP_ROOT/deploy/refdata/imd2019_lsoa11_england.csv" \
  --ods "$NCAP_ROOT/deploy/refdata/ods_etr.csv" "$sim"/*.csv >"$E2E_DIR/offline.log" 2>&1 ||
  fail "ncap release build failed: $(tail -n 5 "$E2E_DIR/offline.log")"
offline_row=$(CTX_OUT=$E2E_DIR/offline public_row)
[ "$offline_row" = "$row" ] ||
  fail "ncap release build shows \"$offline_row\" for $poor $metric, the deployment \"$row\""
jq -e '.provenance.outlier_process.respond_within_days == 10' \
  "$(find "$CTX_OUT/$E2E_AUDIT" -name latest.json | head -n 1)" >/dev/null ||
  fail "latest.json's provenance does not state the outlier process"
e2e_expect_release_check
e2e_say "detected: the public sees alert_high without 99.8% limits (ncap release build too); the team sees the case; $poor nothing yet"

# ---- a working day lasts $day seconds: the case is notified after one
ncap_stop "$CTX_RUN/pids/publish-1.pid"
export NCAP_OUTLIER_DAY_SECONDS=$day
e2e_start publish
wait_for 60 "$poor is not notified of case $case_id: $(team_case)" trust_state_is "$poor" trust_notified
show=$CTX_RUN/show-$poor.txt
e2e_ncap outliers show "$case_id" --trust "$poor" >"$show" 2>&1 ||
  fail "ncap outliers show $case_id --trust $poor failed: $(cat "$show")"
denominator=$(sed -n 's/^denominator: //p' "$show")
grep -q '^flag: alarm_high$' "$show" || fail "$poor's view of case $case_id: $(head -n 20 "$show")"
[ "$(grep -c '^record ' "$show")" = "$denominator" ] ||
  fail "$poor sees $(grep -c '^record ' "$show") records in case $case_id, its denominator is $denominator"
python3 - "$show" "$sim/$poor.csv" <<'PY' || fail "$poor's case lists a record that is not in its file"
import csv, sys
ids = [l.split(" ", 1)[1].strip() for l in open(sys.argv[1]) if l.startswith("record ")]
rows = list(csv.reader(open(sys.argv[2], newline="")))
local = {r[0] for r in rows[1:]}
sys.exit(0 if ids and set(ids) <= local else 1)
PY
# another trust's key: nothing of it
trust_state_is "$other" none || fail "$other sees $poor's case $case_id"
status=0
err=$(e2e_ncap outliers show "$case_id" --trust "$other" 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] && [ "$err" = "ncap outliers: no outlier case $case_id for trust $other" ] ||
  fail "$other asking for case $case_id: exit $status, \"$err\""
printf 'We are reviewing it.\n' >"$CTX_RUN/other.txt"
status=0
err=$(e2e_ncap outliers respond "$case_id" --trust "$other" --text "$CTX_RUN/other.txt" 2>&1 >/dev/null) || status=$?
[ "$status" = 2 ] || fail "$other responding to $poor's case $case_id: exit $status, \"$err\""
[[ $(public_row) == alert_high,,,* ]] || fail "while notified, the public row is \"$(public_row)\""
e2e_say "trust_notified: $poor sees the case and its $denominator records; $other sees nothing of it"

# ---- trust_responded
printf 'Our clinical lead has reviewed the %s deaths: case-mix coding was incomplete.\n' \
  "$denominator" >"$CTX_RUN/response.txt"
out=$(e2e_ncap outliers respond "$case_id" --trust "$poor" --text "$CTX_RUN/response.txt" 2>&1) ||
  fail "ncap outliers respond $case_id --trust $poor: $out"
[ "$out" = "response to outlier case $case_id taken: the case is trust_responded" ] ||
  fail "respond said \"$out\""
team_state_is trust_responded || fail "the team sees case $case_id as $(team_case) after the response"
trust_state_is "$poor" trust_responded || fail "$poor does not see its response taken"
[[ $(public_row) == alert_high,,,* ]] || fail "while responded, the public row is \"$(public_row)\""
wait_for 60 "the team's outliers.csv does not show case $case_id trust_responded" \
  team_file_state_is trust_responded
e2e_say "trust_responded: the team and $poor see it; the public still alert_high"

# ---- published, by itself after publish_within_days
wait_for 120 "case $case_id is not published: $(team_case)" team_state_is published
public_alarm() { [[ $(public_row) == alarm_high,?*,?*,* ]]; }
wait_for 60 "the public row of $poor $metric does not show the alarm: $(public_row)" public_alarm
trust_state_is "$poor" published || fail "$poor does not see case $case_id published"
wait_for 60 "the team's outliers.csv does not show case $case_id published" team_file_state_is published
[ "$(team_case | cut -d, -f3)" = alarm_high ] || fail "the team's list: $(team_case)"
e2e_ncap outliers show "$case_id" >"$CTX_RUN/team-show.txt" 2>&1 ||
  fail "ncap outliers show $case_id: $(cat "$CTX_RUN/team-show.txt")"
for t in '- -> detected (release)' 'detected -> trust_notified (deadline)' \
  'trust_notified -> trust_responded (trust)' 'trust_responded -> published (deadline)'; do
  grep -q "^  [0-9TZ:-]* $t\$" "$CTX_RUN/team-show.txt" ||
    fail "case $case_id has no transition \"$t\": $(cat "$CTX_RUN/team-show.txt")"
done
grep -q "^response .* from $poor:" "$CTX_RUN/team-show.txt" || fail "the team does not see the response"
e2e_expect_release_check
e2e_say "published: the public sees alarm_high with its limits; every transition kept"

# ---- closed: corrected data brings a unit in control. The poor performer's case on critical care
# after high-risk surgery (an alert: the public saw it all along) is cleared by a corrected file
# that records some of those patients as going to the ward, the trust's proportion then England's.
cc=critical_care_high_risk
cc_case=$(e2e_ncap outliers list --audit "$E2E_AUDIT" --trust "$poor" --csv |
  awk -F, -v m="$cc" -v t="$poor" '$4 == m && $5 == "trust" && $6 == t { print $1 }')
[ -n "$cc_case" ] || fail "no case of $poor $cc (the seed's release flags it alert_high)"
mkdir -p "$E2E_DIR/corrected"
python3 - "$sim/$poor.csv" "$E2E_DIR/corrected/$poor.csv" "$CTX_OUT/$E2E_AUDIT" "$poor" "$cc" <<'PY' ||
import csv, glob, sys
src, dst, out, trust, metric = sys.argv[1:]
row = next(r for p in glob.glob(out + "/*/latest.csv") for r in csv.DictReader(open(p, newline=""))
           if (r["level"], r["area_code"], r["metric"], r["breakdown"]) == ("trust", trust, metric, "all"))
num, den, england = int(row["numerator"]), int(row["denominator"]), float(row["england_value"])
flips = num - round(england * den)
with open(src, newline="") as f:
    rows = list(csv.reader(f))
head = rows[0]
risk, dest = head.index("preop_mortality_risk"), head.index("postop_destination")
for r in rows[1:]:
    if flips > 0 and r[dest] in ("L2", "L3"):
        try:
            high = float(r[risk]) >= 5
        except ValueError:
            high = False
        if high:
            r[dest], flips = "W", flips - 1
if flips > 0:
    sys.exit(f"could not correct {flips} more records")
with open(dst, "w", newline="") as f:
    csv.writer(f, lineterminator="\n").writerows(rows)
PY
  fail "could not write the corrected file of $poor"
e2e_ncap submit --audit "$E2E_AUDIT" --trust "$poor" "$E2E_DIR/corrected/$poor.csv" \
  >>"$CTX_RUN/logs/submit.log" 2>&1 || fail "the corrected file of $poor was not accepted"
e2e_drain
case_id=$cc_case
wait_for 60 "case $cc_case ($poor $cc) is not closed after the correction" team_state_is_of "$cc" closed
trust_state_is "$poor" closed || fail "$poor does not see case $cc_case closed"
wait_for 60 "the team's outliers.csv does not show case $cc_case closed" team_file_state_is closed
cc_row=$(metric=$cc public_row)
[[ $cc_row == in_control,* ]] || fail "after the correction the public row of $poor $cc is \"$cc_row\""
e2e_ncap outliers show "$cc_case" | grep -q '^  [0-9TZ:-]* [a-z_]* -> closed (release)$' ||
  fail "case $cc_case has no transition to closed: $(e2e_ncap outliers show "$cc_case" 2>&1)"
e2e_say "closed: a corrected file brings $poor's $cc in control; the case closes, the public sees in_control"

e2e_stop_all
e2e_say "PASS"
