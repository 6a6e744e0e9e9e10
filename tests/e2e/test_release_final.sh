#!/usr/bin/env bash
# The annual final release (issue 15), against a running deployment: three trusts' files are
# received before the cutoff, then a fourth trust's file (records added) and a correction of 30
# records of the first (new versions) after it. `ncap release finalise --year 2025 --cutoff T` is
# killed with SIGKILL while its transaction waits to write the year's row (every quarter's release
# already inserted): nothing of it is left. Run again, with publish killed (SIGKILL) while it
# waits at the same point, it completes: one final release per quarter
# whose files are byte for byte the provisional releases as they stood at the cutoff (the later
# versions are not in it, the corrected records are there as first received), while the
# provisional releases count the later records; late.csv counts them per trust and quarter. A
# second finalise is refused (exit 1), publish restarted with --keep 1 and more revisions never
# prunes it, and no role can delete or change it. Deaths loaded after the final: ncap release diff
# says the cells moved with relinked records (deaths loaded), not re-keyed ones; a fifth trust's
# records received after the final was made are added to its late.csv. Each final quarter has
# ascertainment.csv at the cutoff. Run through tests/run.
set -euo pipefail
# ncap-test: long
# (tests/run starts it before the shorter tests: over a minute alone)
# shellcheck source-path=SCRIPTDIR source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

sim=$E2E_DIR/sim
deaths=$E2E_DIR/deaths.csv
e2e_sim "$sim" 2000 5 23 --deaths "$deaths"
mapfile -t files < <(find "$sim" -name '*.csv' | sort)
sql() { ncap_pg_psql "$CTX_PGHOST" "$CTX_DB" "$1"; }
quarters="'2025Q2','2025Q3','2025Q4','2026Q1'"

submit() {
  local trust
  trust=$(basename "$1" .csv)
  e2e_ncap submit --quiet --audit "$E2E_AUDIT" --trust "$trust" "$1" >>"$CTX_RUN/logs/submit.log" 2>&1 ||
    fail "submission of $trust was not accepted"
}

finalise() {
  e2e_ncap release finalise --audit "$E2E_AUDIT" --year 2025 --out "$CTX_OUT" "$@"
}

e2e_deploy final
e2e_start_pipeline
e2e_wait_registered ingest 1

for f in "${files[0]}" "${files[1]}" "${files[2]}"; do submit "$f"; done
e2e_drain
cutoff=$(sql "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
at_cutoff=$E2E_DIR/at_cutoff
rm -rf "$at_cutoff"
mkdir -p "$at_cutoff"
for q in 2025Q2 2025Q3 2025Q4 2026Q1; do
  [ -f "$CTX_OUT/$E2E_AUDIT/$q/latest.csv" ] || fail "no provisional release of $q before the cutoff"
  cp "$CTX_OUT/$E2E_AUDIT/$q/latest.csv" "$at_cutoff/$q.csv"
done
e2e_say "3 trusts received by the cutoff $cutoff"
sleep 1

# after the cutoff: a fourth trust's records, and 30 records of the first corrected (surgery 3
# days after arrival)
submit "${files[3]}"
corrected=$E2E_DIR/corrected/$(basename "${files[0]}")
mkdir -p "$(dirname "$corrected")"
python3 - "${files[0]}" "$corrected" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
head, body = rows[0], rows[1:31]
a, s = head.index("arrival_datetime"), head.index("surgery_datetime")
for r in body:
    if r[a]:
        r[s] = r[a][:10] + "T23:59"
        r[s] = r[s] if r[s] != r[a] else r[a][:10] + "T23:58"
csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n").writerows([head] + body)
PY
submit "$corrected"
e2e_drain
late_trust=$(basename "${files[3]}" .csv)
fixed_trust=$(basename "${files[0]}" .csv)
# the quarter with most of the corrected records, its revisions at the cutoff and now
dq=$(sql "SELECT period FROM metric.record_state WHERE trust = '$fixed_trust' AND version > 1
  GROUP BY period ORDER BY count(*) DESC, period LIMIT 1")
rev_cutoff=$(sql "SELECT max(revision) FROM publish.release WHERE period = '$dq' AND created_at <= '$cutoff'")
rev_late=$(sql "SELECT max(revision) FROM publish.release WHERE period = '$dq'")
[ "$rev_late" -gt "$rev_cutoff" ] || fail "no new revision of $dq after the late records"

# ncap release diff: the cells the late records changed, and why
diff_csv=$CTX_RUN/diff.csv
e2e_ncap release diff --audit "$E2E_AUDIT" --period "$dq" "r$rev_cutoff" "r$rev_late" >"$diff_csv" 2>"$CTX_RUN/logs/diff.log" ||
  fail "ncap release diff failed: $(cat "$CTX_RUN/logs/diff.log")"
[ "$(head -n 1 "$diff_csv")" = "level,area_code,metric,breakdown,category,old_numerator,old_denominator,old_value,old_outlier,old_note,new_numerator,new_denominator,new_value,new_outlier,new_note,why" ] ||
  fail "ncap release diff's header: $(head -n 1 "$diff_csv")"
grep -q "^trust,$late_trust,[^,]*,all,,,,,,,.*added records" "$diff_csv" ||
  fail "the diff shows no cell of $late_trust as new with its records added: $(grep "^trust,$late_trust," "$diff_csv" | head -n 3)"
grep -q "^trust,$fixed_trust,.*corrected records" "$diff_csv" ||
  fail "the diff gives no cell of $fixed_trust changed by corrected records: $(grep "^trust,$fixed_trust," "$diff_csv" | head -n 3)"
grep -q "^england,E92000001,[^,]*,all,.*added records.*corrected records" "$diff_csv" ||
  fail "the diff gives England's changes without both reasons: $(grep "^england," "$diff_csv" | head -n 2)"
e2e_say "ncap release diff $dq r$rev_cutoff r$rev_late: $(($(wc -l <"$diff_csv") - 1)) cells, $late_trust's added, $fixed_trust's corrected"

# a kill -9 of the finalising process in the middle: the year's row is written last, so with
# publish.final locked the finalise has stored every quarter and waits there; killed, nothing is
# left
lock_log=$CTX_RUN/logs/final-lock.log
psql -X -q -h "$CTX_PGHOST" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -d "$CTX_DB" \
  -c "BEGIN; LOCK TABLE publish.final IN SHARE MODE; SELECT pg_sleep(120); COMMIT;" >"$lock_log" 2>&1 &
locker=$!
lock_held() {
  [ -n "$(sql "SELECT 1 FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
    WHERE c.relname = 'final' AND l.mode = 'ShareLock' AND l.granted
      AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())")" ]
}
ncap_wait_until 30 lock_held || fail "could not lock publish.final: $(cat "$lock_log")"
finalise --cutoff "$cutoff" >"$CTX_RUN/logs/finalise-killed.log" 2>&1 &
finaliser=$!
waiting() {
  [ -n "$(sql "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'
    AND datname = current_database() AND query LIKE 'INSERT INTO publish.final%'")" ]
}
ncap_wait_until 120 waiting || fail "the finalise never reached the year's row: $(cat "$CTX_RUN/logs/finalise-killed.log")"
[ "$(sql "SELECT count(*) FROM publish.release WHERE status = 'final'")" = 0 ] ||
  fail "an uncommitted final is visible"
kill_tree() {
  local c
  for c in $(pgrep -P "$1"); do kill_tree "$c"; done
  kill -KILL "$1" 2>/dev/null || true
}
kill_tree "$finaliser" # the ncap process itself, not only the shell around it
wait "$finaliser" 2>/dev/null || true
kill "$locker" 2>/dev/null || true
wait "$locker" 2>/dev/null || true
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%'
  AND datname = current_database() AND pid <> pg_backend_pid()" >/dev/null
gone() {
  [ -z "$(sql "SELECT 1 FROM pg_stat_activity WHERE datname = current_database()
    AND query LIKE 'INSERT INTO publish.final%'")" ]
}
ncap_wait_until 30 gone ||
  fail "the killed finalise's transaction is still open"
[ "$(sql "SELECT count(*) FROM publish.release WHERE status = 'final'") $(sql "SELECT count(*) FROM publish.final")" = "0 0" ] ||
  fail "a finalise killed mid-way left part of a final release"
[ ! -e "$CTX_OUT/$E2E_AUDIT/final" ] || fail "a finalise killed mid-way left files"
e2e_say "finalise killed with SIGKILL mid-way: nothing of it left"

# each trust's expected cases (case ascertainment): the final carries its quarters' at the cutoff
{
  echo trust,period,expected
  for f in "${files[@]}"; do
    for q in 2025Q2 2025Q3 2025Q4 2026Q1; do echo "$(basename "$f" .csv),$q,100"; done
  done
} >"$E2E_DIR/expected.csv"
e2e_ncap refdata load expected --audit "$E2E_AUDIT" "$E2E_DIR/expected.csv" >"$CTX_RUN/logs/expected.log" 2>&1 ||
  fail "ncap refdata load expected failed: $(cat "$CTX_RUN/logs/expected.log")"

# finalised, with publish killed (SIGKILL) in the middle: the finalise holds publish's lock from
# its snapshot to its commit and needs nothing of publish, so it completes: one release per
# quarter, the provisional ones as they stood at the cutoff
psql -X -q -h "$CTX_PGHOST" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -d "$CTX_DB" \
  -c "BEGIN; LOCK TABLE publish.final IN SHARE MODE; SELECT pg_sleep(120); COMMIT;" >"$lock_log" 2>&1 &
locker=$!
ncap_wait_until 30 lock_held || fail "could not lock publish.final: $(cat "$lock_log")"
finalise --cutoff "$cutoff" >"$CTX_RUN/logs/finalise.log" 2>&1 &
finaliser=$!
ncap_wait_until 120 waiting || fail "the finalise never reached the year's row: $(cat "$CTX_RUN/logs/finalise.log")"
e2e_kill9 publish
kill "$locker" 2>/dev/null || true
wait "$locker" 2>/dev/null || true
sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(120)%'
  AND pid <> pg_backend_pid()" >/dev/null
wait "$finaliser" || fail "ncap release finalise failed with publish killed: $(cat "$CTX_RUN/logs/finalise.log")"
out=$(cat "$CTX_RUN/logs/finalise.log")
e2e_say "$out"
e2e_start publish
final=$CTX_OUT/$E2E_AUDIT/final/2025
[ "$(sql "SELECT count(*) FROM publish.release WHERE status = 'final' AND final_year = 2025")" = 4 ] ||
  fail "expected 4 final releases: $(sql "SELECT period, revision, status FROM publish.release ORDER BY 1, 2")"
for q in 2025Q2 2025Q3 2025Q4 2026Q1; do
  for f in release.csv release.json fingertips.csv spc.csv spc_summary.csv; do
    [ -s "$final/$q/$f" ] || fail "final/2025/$q/$f is missing"
  done
  cmp -s "$final/$q/release.csv" "$at_cutoff/$q.csv" ||
    fail "the final of $q is not the release as it stood at the cutoff: $(diff "$at_cutoff/$q.csv" "$final/$q/release.csv" | head -n 5)"
  grep -q '"status": *"final"' "$final/$q/release.json" || fail "final/2025/$q/release.json has no status final"
  # ascertainment at the cutoff: the final's records, per trust
  n=$(awk -F, 'NR > 1 { n += $4 } END { print n + 0 }' "$final/$q/ascertainment.csv" 2>/dev/null || echo none)
  [ "$n" = "$(jq '.provenance.records' "$final/$q/release.json")" ] ||
    fail "final/2025/$q/ascertainment.csv counts $n records, the final $(jq '.provenance.records' "$final/$q/release.json")"
done
# the provisional releases count what came later
final_records=$(sql "SELECT sum(records) FROM publish.release WHERE status = 'final'")
prov_records=$(sql "SELECT sum(records) FROM (SELECT DISTINCT ON (period) records FROM publish.release
  WHERE status = 'provisional' ORDER BY period, revision DESC) x")
[ "$prov_records" -gt "$final_records" ] ||
  fail "the provisional releases ($prov_records records) do not count the late ones (final $final_records)"
# late.csv: per trust and quarter, the added trust's records and the corrected ones
[ "$(head -n 1 "$final/late.csv")" = "trust,period,records_added,records_corrected" ] ||
  fail "late.csv's header: $(head -n 1 "$final/late.csv")"
added=$(awk -F, -v t="$late_trust" 'NR > 1 && $1 == t { n += $3 } END { print n + 0 }' "$final/late.csv")
expected=$(sql "SELECT count(*) FROM metric.record_state WHERE trust = '$late_trust' AND period IN ($quarters)")
[ "$added" = "$expected" ] || fail "late.csv counts $added records added by $late_trust, expected $expected"
ncorrected=$(awk -F, 'NR > 1 { n += $4 } END { print n + 0 }' "$final/late.csv")
if [ "$ncorrected" -lt 1 ] || [ "$ncorrected" -gt 30 ]; then
  fail "late.csv counts $ncorrected corrected records, expected 1-30"
fi
e2e_say "4 quarters final, each the release at the cutoff; late.csv: $added added, $ncorrected corrected"
late_made=$(cat "$final/late.csv")

# the final of the quarter against its release at the cutoff: no cell differs
rev_final=$(sql "SELECT revision FROM publish.release WHERE period = '$dq' AND status = 'final'")
e2e_ncap release diff --audit "$E2E_AUDIT" --period "$dq" "r$rev_cutoff" "r$rev_final" >"$diff_csv" 2>>"$CTX_RUN/logs/diff.log" ||
  fail "ncap release diff against the final failed: $(cat "$CTX_RUN/logs/diff.log")"
[ "$(wc -l <"$diff_csv")" = 1 ] || fail "the final differs from the release at the cutoff: $(head -n 3 "$diff_csv")"

# made once
second=$(finalise 2>&1) && fail "a second finalise of 2025 succeeded: $second"
grep -q "exists" <<<"$second" || fail "a second finalise did not say the final exists: $second"

# never pruned, never changed: publish keeps 1 provisional revision and makes more
sum_before=$(cat "$final"/*/release.csv | md5sum)
rows_before=$(sql "SELECT count(*) FROM publish.output o JOIN publish.release r USING (release_id) WHERE r.status = 'final'")
ncap_stop "$CTX_RUN/pids/publish-1.pid"
NCAP_PUBLISH_KEEP=1 e2e_start publish
submit "${files[4]}"
e2e_drain
[ "$(sql "SELECT count(*) FROM publish.release WHERE status = 'final'")" = 4 ] || fail "a final release was pruned"
[ "$(sql "SELECT count(*) FROM publish.output o JOIN publish.release r USING (release_id) WHERE r.status = 'final'")" = "$rows_before" ] ||
  fail "a final release's rows changed"
[ "$(sql "SELECT max(n) FROM (SELECT count(*) AS n FROM publish.release WHERE status = 'provisional' GROUP BY period) x")" = 1 ] ||
  fail "publish --keep 1 kept more than one provisional revision"
[ "$(cat "$final"/*/release.csv | md5sum)" = "$sum_before" ] || fail "a final release's files changed"
# records received after the final was made are late too: publish adds them to late.csv
fifth=$(basename "${files[4]}" .csv)
want=$(sql "SELECT count(*) FROM metric.record_state WHERE trust = '$fifth' AND period IN ($quarters)")
[ "$want" -gt 0 ] || fail "$fifth has no record in the final's year"
late_of_fifth() { awk -F, -v t="$fifth" 'NR > 1 && $1 == t { n += $3 } END { print n + 0 }' "$final/late.csv"; }
fifth_listed() { [ "$(late_of_fifth)" = "$want" ]; }
ncap_wait_until 30 fifth_listed ||
  fail "late.csv counts $(late_of_fifth) records added by $fifth after the final was made, expected $want: $(cat "$final/late.csv")"
[ "$(awk -F, -v t="$late_trust" 'NR > 1 && $1 == t { n += $3 } END { print n + 0 }' "$final/late.csv")" = "$added" ] ||
  fail "late.csv lost the records added before the final was made"
[ "$(sql "SELECT late_csv FROM publish.final WHERE audit = '$E2E_AUDIT' AND year = 2025")" = "$late_made" ] ||
  fail "the final's own record of late.csv changed"
e2e_say "late.csv after the final: $fifth's $want records added too (publish.final keeps late.csv as made)"

# deaths loaded after that: the revisions that follow say why their cells moved (relinked records,
# deaths loaded; nothing re-keyed), and late.csv does not change (a link revision is not a late
# version). From the final, the fifth trust's records added still count though --keep 1 pruned
# the revision that took them in (its counts go to the oldest revision kept).
late_now=$(cat "$final/late.csv")
e2e_ncap refdata load deaths "$deaths" >>"$CTX_RUN/logs/refdata.log" 2>&1 ||
  fail "ncap refdata load deaths failed: $(tail -n 5 "$CTX_RUN/logs/refdata.log")"
e2e_drain
rev_deaths=$(sql "SELECT max(revision) FROM publish.release WHERE period = '$dq'")
e2e_ncap release diff --audit "$E2E_AUDIT" --period "$dq" "r$rev_final" "r$rev_deaths" >"$diff_csv" 2>>"$CTX_RUN/logs/diff.log" ||
  fail "ncap release diff after the deaths failed: $(cat "$CTX_RUN/logs/diff.log")"
grep -q "^trust,.*relinked records (deaths loaded)" "$diff_csv" ||
  fail "no trust's cell changed by deaths loaded: $(head -n 4 "$diff_csv")"
! grep -q "re-keyed" "$diff_csv" || fail "deaths loaded taken for re-keyed records: $(grep -m 2 "re-keyed" "$diff_csv")"
grep -q "^trust,$fifth,[^,]*,all,.*added records" "$diff_csv" ||
  fail "the diff from the final lost $fifth's records added with the pruned revision: $(grep -m 2 "^trust,$fifth," "$diff_csv")"
[ "$(cat "$final/late.csv")" = "$late_now" ] || fail "late.csv changed with deaths loaded"
e2e_say "deaths loaded: ncap release diff $dq r$rev_final r$rev_deaths, $(grep -c "deaths loaded" "$diff_csv") cells relinked (deaths loaded), $fifth's added kept across pruning"
refused=$(psql -X -q -tA -h "$CTX_PGHOST" -p "$NCAP_PGPORT" -U "$NCAP_PG_SUPERUSER" -d "$CTX_DB" \
  -c "DELETE FROM publish.output WHERE release_id IN (SELECT release_id FROM publish.release WHERE status = 'final')" 2>&1) &&
  fail "the administrator deleted a final release's rows: $refused"
grep -q "is final" <<<"$refused" || fail "deleting a final's rows failed otherwise: $refused"
e2e_say "the final is never pruned or changed (publish --keep 1, a delete refused)"
e2e_ncap release diff --audit "$E2E_AUDIT" --period "$dq" "r$rev_cutoff" "r$rev_final" >/dev/null 2>"$CTX_RUN/logs/diff-pruned.log" &&
  fail "ncap release diff of a pruned revision succeeded"
grep -q "pruned" "$CTX_RUN/logs/diff-pruned.log" || fail "ncap release diff of a pruned revision: $(cat "$CTX_RUN/logs/diff-pruned.log")"
e2e_stop_all
e2e_say "PASS"
